//! The diversity pass: maximal marginal relevance over tags and creators, so the top of a
//! list is not near-duplicates.

use std::collections::HashSet;

use super::{Candidate, DIVERSITY_LAMBDA};

pub(super) fn jaccard(a: &HashSet<&str>, b: &HashSet<&str>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        0.0
    } else {
        a.intersection(b).count() as f64 / union as f64
    }
}

/// Maximal marginal relevance: repeatedly takes the candidate with the best
/// `λ·score − (1−λ)·similarity to what is already taken` (tag overlap; same creator counts as
/// similar), among the best `4k` by score.
pub(super) fn diversify(mut ranked: Vec<Candidate>, k: usize) -> Vec<Candidate> {
    ranked.truncate((4 * k).max(k));
    let tags: Vec<HashSet<&str>> = ranked
        .iter()
        .map(|c| c.facts.tags.iter().map(String::as_str).collect())
        .collect();
    let max = ranked.first().map_or(0.0, |c| c.score).max(f64::MIN_POSITIVE);
    let mut picked: Vec<usize> = Vec::new();
    let mut left: Vec<usize> = (0..ranked.len()).collect();
    while picked.len() < k && !left.is_empty() {
        let (best_at, _) = left
            .iter()
            .enumerate()
            .map(|(at, &i)| {
                let redundancy = picked
                    .iter()
                    .map(|&p| {
                        let same_creator = if ranked[p].facts.creator == ranked[i].facts.creator {
                            0.3
                        } else {
                            0.0
                        };
                        (jaccard(&tags[p], &tags[i]) + same_creator).min(1.0)
                    })
                    .fold(0.0, f64::max);
                (
                    at,
                    DIVERSITY_LAMBDA * ranked[i].score / max - (1.0 - DIVERSITY_LAMBDA) * redundancy,
                )
            })
            .fold(
                (0, f64::NEG_INFINITY),
                |best, x| if x.1 > best.1 { x } else { best },
            );
        picked.push(left.remove(best_at));
    }
    let mut slots: Vec<Option<Candidate>> = ranked.into_iter().map(Some).collect();
    picked.into_iter().filter_map(|i| slots[i].take()).collect()
}
