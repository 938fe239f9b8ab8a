//! The learned collaborative model: EASE (Steck, "Embarrassingly Shallow Autoencoders for
//! Sparse Data", WWW 2019).
//!
//! EASE learns an item × item weight matrix `B` that reconstructs each user's row `x_u` of the
//! user × item matrix `X` from the user's other items: `min ‖X − XB‖² + λ‖B‖²` subject to
//! `diag(B) = 0`. It has a closed form:
//!
//! ```text
//! P = (XᵀX + λI)⁻¹        B = I − P · diag(1 / diag(P))    i.e. B[i][j] = −P[i][j] / P[j][j], B[j][j] = 0
//! ```
//!
//! A user's score of item `j` is `Σ_i x_ui · B[i][j]`: a sum over the items the user has, which
//! is what makes *fold-in* free — at request time the engine sums the rows of the user's newest
//! positive items, so a like counts on the very next request without refitting.
//!
//! Co-occurrence is weighted by time ([`EaseConfig::pair_days`]): two items a user had on the
//! same day say more about each other than two they had years apart.
//!
//! At scale the dense inverse is the cost (`n³`, `8·n²` bytes per `n × n` matrix), so the model
//! is fitted on the [`EaseConfig::items`] items with the most users (the rest fall back to
//! item-kNN and popularity in the engine), and each item keeps only its
//! [`EaseConfig::top_k`] largest positive weights (a sparse row, stored like the neighbour
//! lists).

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};

use crate::ids::ContentId;

/// Tuning of the learned model.
#[derive(Debug, Clone, PartialEq)]
pub struct EaseConfig {
    /// Items the model is fitted on: the ones with the most users (0 disables the model).
    pub items: usize,
    /// L2 regularisation `λ` added to the Gram matrix's diagonal.
    pub lambda: f64,
    /// Weights kept per item (its largest positive ones).
    pub top_k: usize,
    /// `X` holds 1 for every positive user–item pair (`true`) or the signal-weighted affinity
    /// `ln(1 + Σ weights)` (`false`).
    pub binary: bool,
    /// Time constant, in days, of co-occurrence: two items of one user count together by
    /// `exp(−Δt / this)` of the time between the user's last interactions with them (0: fully,
    /// however far apart).
    pub pair_days: f64,
}

impl Default for EaseConfig {
    /// Chosen by offline evaluation (docs/recommender.md, "The learned model").
    fn default() -> Self {
        EaseConfig {
            items: 2_500,
            lambda: 200.0,
            top_k: 50,
            binary: false,
            pair_days: 14.0,
        }
    }
}

/// One item's row of the learned weights: how much having `item` says for each other item.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// The item (a row of `B`).
    pub item: ContentId,
    /// Its largest positive weights `B[item][j]`, best first.
    pub weights: Vec<(ContentId, f32)>,
}

/// A fitted model as stored: its rows and how it was fitted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// Rows of the items the model covers (those with at least one positive weight).
    pub rows: Vec<ModelRow>,
    /// Items it was fitted on (`N`).
    pub items: usize,
    /// Its `λ`.
    pub lambda: f64,
}

/// The dense EASE weights of a Gram matrix `G = XᵀX`: `B = I − P·diag(1/diag(P))` with
/// `P = (G + λI)⁻¹`. `None` if `G + λI` is not positive definite (only possible with `λ ≤ 0`).
pub fn ease_dense(mut gram: Mat<f64>, lambda: f64) -> Option<Mat<f64>> {
    let n = gram.nrows();
    for i in 0..n {
        gram[(i, i)] += lambda;
    }
    let p = gram.llt(Side::Lower).ok()?.inverse();
    drop(gram);
    let diag: Vec<f64> = (0..n).map(|j| p[(j, j)]).collect();
    let mut b = p;
    for j in 0..n {
        for i in 0..n {
            b[(i, j)] = if i == j { 0.0 } else { -b[(i, j)] / diag[j] };
        }
    }
    Some(b)
}

/// One entry of a user's row: dense item index, value, time (seconds after any epoch).
pub type Entry = (u32, f32, i32);

/// The Gram matrix `XᵀX` of users' rows over `n` items; with `pair_seconds > 0`, each pair of
/// one user's entries counts by `exp(−|Δt| / pair_seconds)` (a Schur product of the user's
/// outer product with a positive-definite kernel, so the sum stays positive semi-definite).
pub fn gram(users: &[Vec<Entry>], n: usize, pair_seconds: f64) -> Mat<f64> {
    let mut g = Mat::<f64>::zeros(n, n);
    for row in users {
        for (a, va, ta) in row {
            for (b, vb, tb) in row {
                // Lower triangle only; mirrored below.
                if b <= a {
                    let kernel = if pair_seconds > 0.0 {
                        (-(f64::from(*ta) - f64::from(*tb)).abs() / pair_seconds).exp()
                    } else {
                        1.0
                    };
                    g[(*a as usize, *b as usize)] += f64::from(*va) * f64::from(*vb) * kernel;
                }
            }
        }
    }
    for j in 0..n {
        for i in 0..j {
            g[(i, j)] = g[(j, i)];
        }
    }
    g
}

/// Fits EASE on the users' rows `(item index, affinity)` over `n_items` items and returns, per
/// modelled item index, its top weights over item indexes (best first).
pub fn fit(users: &[Vec<Entry>], n_items: usize, config: &EaseConfig) -> Vec<(u32, Vec<(u32, f32)>)> {
    if config.items == 0 || n_items == 0 {
        return Vec::new();
    }
    // The items with the most users.
    let mut counts = vec![0u32; n_items];
    for row in users {
        for (item, _, _) in row {
            counts[*item as usize] += 1;
        }
    }
    let mut by_users: Vec<u32> = (0..n_items as u32).filter(|i| counts[*i as usize] > 0).collect();
    by_users.sort_unstable_by(|a, b| counts[*b as usize].cmp(&counts[*a as usize]).then(a.cmp(b)));
    by_users.truncate(config.items);
    let n = by_users.len();
    if n < 2 {
        return Vec::new();
    }
    let mut dense = vec![u32::MAX; n_items];
    for (d, item) in by_users.iter().enumerate() {
        dense[*item as usize] = d as u32;
    }
    let rows: Vec<Vec<Entry>> = users
        .iter()
        .map(|row| {
            row.iter()
                .filter(|(item, _, _)| dense[*item as usize] != u32::MAX)
                .map(|(item, a, at)| (dense[*item as usize], if config.binary { 1.0 } else { *a }, *at))
                .collect()
        })
        .collect();
    let Some(b) = ease_dense(gram(&rows, n, config.pair_days * 86_400.0), config.lambda) else {
        return Vec::new();
    };
    drop(rows);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut weights: Vec<(u32, f32)> = (0..n)
            .filter(|j| *j != i)
            .map(|j| (by_users[j], b[(i, j)] as f32))
            .filter(|(_, w)| *w > 0.0)
            .collect();
        if weights.len() > config.top_k {
            weights.select_nth_unstable_by(config.top_k, |x, y| y.1.total_cmp(&x.1));
            weights.truncate(config.top_k);
        }
        weights.sort_unstable_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        if !weights.is_empty() {
            out.push((by_users[i], weights));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Three users over three items: u1 {0, 1}, u2 {0, 1}, u3 {1, 2}.
    fn users() -> Vec<Vec<Entry>> {
        vec![
            vec![(0, 1.0, 0), (1, 1.0, 0)],
            vec![(0, 1.0, 0), (1, 1.0, 0)],
            vec![(1, 1.0, 0), (2, 1.0, 0)],
        ]
    }

    #[test]
    fn gram_counts_co_occurrences() {
        let g = gram(&users(), 3, 0.0);
        // Diagonal: users per item; off-diagonal: users sharing both.
        let expected = [[2.0, 2.0, 0.0], [2.0, 3.0, 1.0], [0.0, 1.0, 1.0]];
        for (i, row) in expected.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert!(close(g[(i, j)], *v), "G[{i}][{j}] = {}", g[(i, j)]);
            }
        }
    }

    #[test]
    fn ease_matches_the_closed_form_by_hand() {
        // G + λI with λ = 1: [[3,2,0],[2,4,1],[0,1,2]], determinant 3·(8−1) − 2·(4−0) = 13.
        // Its inverse (adjugate / 13): [[7,−4,2],[−4,6,−3],[2,−3,8]] / 13.
        // B[i][j] = −P[i][j] / P[j][j]:
        let b = ease_dense(gram(&users(), 3, 0.0), 1.0).unwrap();
        let expected = [
            [0.0, 4.0 / 6.0, -2.0 / 8.0],
            [4.0 / 7.0, 0.0, 3.0 / 8.0],
            [-2.0 / 7.0, 3.0 / 6.0, 0.0],
        ];
        for (i, row) in expected.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                assert!(close(b[(i, j)], *v), "B[{i}][{j}] = {} ≠ {v}", b[(i, j)]);
            }
        }
        // It reconstructs: user 1 ({0, 1}) scores item 1 from item 0 and item 0 from item 1;
        // item 2, never consumed with item 0, is scored below both by them.
        let score = |items: &[usize], j: usize| items.iter().map(|i| b[(*i, j)]).sum::<f64>();
        assert!(score(&[0], 1) > score(&[0], 2));
    }

    #[test]
    fn pairs_far_apart_in_time_count_less() {
        let day = 86_400;
        // One user had items 0 and 1 on the same day, item 2 a week later.
        let rows = vec![vec![(0, 1.0, 0), (1, 1.0, 0), (2, 1.0, 7 * day)]];
        let g = gram(&rows, 3, 7.0 * 86_400.0);
        assert!(close(g[(0, 1)], 1.0) && close(g[(1, 0)], 1.0));
        assert!(close(g[(2, 0)], (-1.0f64).exp()) && close(g[(0, 2)], (-1.0f64).exp()));
        assert!(close(g[(2, 2)], 1.0), "an item with itself counts fully");
        assert!(close(gram(&rows, 3, 0.0)[(2, 0)], 1.0), "no kernel: fully");
    }

    #[test]
    fn a_matrix_that_is_not_positive_definite_is_refused() {
        // Items 0 and 1 have identical columns: XᵀX = [[2,2],[2,2]] is singular; a negative λ
        // makes it indefinite, a positive one regularises it.
        assert!(ease_dense(gram(&users()[..2], 2, 0.0), -1.0).is_none());
        assert!(ease_dense(gram(&users()[..2], 2, 0.0), 0.5).is_some());
    }

    #[test]
    fn fit_keeps_the_most_used_items_and_their_best_positive_weights() {
        let config = EaseConfig {
            items: 2,
            lambda: 1.0,
            top_k: 1,
            binary: true,
            pair_days: 0.0,
        };
        // Item 3 exists but nobody used it; item 2 has one user: outside the top 2.
        let rows = fit(&users(), 4, &config);
        let items: Vec<u32> = rows.iter().map(|r| r.0).collect();
        assert_eq!(items, vec![1, 0]);
        for (item, weights) in &rows {
            assert_eq!(weights.len(), 1);
            assert_ne!(weights[0].0, *item);
            assert!(weights[0].1 > 0.0);
        }
        assert!(fit(&users(), 4, &EaseConfig { items: 0, ..config }).is_empty());
    }

    #[test]
    fn weighted_rows_change_the_weights_binary_rows_ignore_them() {
        let mut heavy = users();
        heavy[2][1].1 = 3.0;
        let base = EaseConfig {
            items: 3,
            lambda: 1.0,
            top_k: 5,
            binary: true,
            pair_days: 0.0,
        };
        assert_eq!(fit(&users(), 3, &base), fit(&heavy, 3, &base));
        let weighted = EaseConfig {
            binary: false,
            ..base
        };
        assert_ne!(fit(&users(), 3, &weighted), fit(&heavy, 3, &weighted));
    }
}
