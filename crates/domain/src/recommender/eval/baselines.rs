//! The textbook baselines of the offline evaluation (never served): random, all-time and
//! decayed popularity, textbook item-kNN and textbook EASE, each a [`Baseline`].

use std::collections::{HashMap, HashSet};

use super::{TEXTBOOK_EASE, TrainSet};
use crate::ids::{ContentId, UserId};
use crate::recommender::{Signal, learned};
use crate::synthetic::Rng;

/// A textbook model evaluated next to the service's algorithms (never served).
pub trait Baseline: Send {
    /// Its name in the report.
    fn name(&self) -> &str;
    /// Learns from the training part.
    fn fit(&mut self, train: &TrainSet<'_>);
    /// The `k` best listed items for `user` that are not in `exclude`, best first.
    fn recommend(&mut self, user: UserId, exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId>;
}

/// The baselines of every evaluation: random, all-time popularity, textbook item-kNN.
pub fn default_baselines(seed: u64) -> Vec<Box<dyn Baseline>> {
    vec![
        Box::new(Random::new(seed)),
        Box::new(AllTimePopularity::default()),
        Box::new(TextbookItemKnn::default()),
    ]
}

/// `k` random listed items.
pub struct Random {
    rng: Rng,
    listed: Vec<ContentId>,
}

impl Random {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Random {
            rng: Rng::new(seed),
            listed: Vec::new(),
        }
    }
}

impl Baseline for Random {
    fn name(&self) -> &str {
        "random"
    }
    fn fit(&mut self, train: &TrainSet<'_>) {
        self.listed = train.listed.to_vec();
    }
    fn recommend(&mut self, _: UserId, exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId> {
        let mut list = Vec::with_capacity(k);
        let mut tries = 0;
        while list.len() < k && tries < 50 * k && !self.listed.is_empty() {
            tries += 1;
            let item = self.listed[self.rng.below(self.listed.len())];
            if !exclude.contains(&item) && !list.contains(&item) {
                list.push(item);
            }
        }
        list
    }
}

/// Plain all-time popularity: listed items by their number of training interactions (any
/// type, any rating).
#[derive(Default)]
pub struct AllTimePopularity {
    ranked: Vec<ContentId>,
}

impl Baseline for AllTimePopularity {
    fn name(&self) -> &str {
        "all-time-popularity"
    }
    fn fit(&mut self, train: &TrainSet<'_>) {
        self.ranked = rank_listed(train, |_| 1.0);
    }
    fn recommend(&mut self, _: UserId, exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId> {
        top_unseen(&self.ranked, exclude, k)
    }
}

/// Listed items by the sum of `weight` over their training interactions, highest first (ties:
/// lower id first).
fn rank_listed(train: &TrainSet<'_>, weight: impl Fn(&Signal) -> f64) -> Vec<ContentId> {
    let listed: HashSet<ContentId> = train.listed.iter().copied().collect();
    let mut scores: HashMap<ContentId, f64> = HashMap::new();
    for (_, s) in train.signals {
        if listed.contains(&s.item) {
            *scores.entry(s.item).or_default() += weight(s);
        }
    }
    let mut ranked: Vec<(ContentId, f64)> = scores.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().map(|(id, _)| id).collect()
}

/// The first `k` of a ranking that are not excluded.
fn top_unseen(ranked: &[ContentId], exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId> {
    ranked
        .iter()
        .filter(|id| !exclude.contains(id))
        .take(k)
        .copied()
        .collect()
}

/// Popularity decayed to the newest training interaction with a fixed half-life — what the
/// `popularity` algorithm did before era popularity (14 days), kept for comparison.
pub struct DecayedPopularity {
    /// Half-life in days.
    pub half_life_days: f64,
    ranked: Vec<ContentId>,
}

impl DecayedPopularity {
    /// With a half-life of `half_life_days`.
    pub fn new(half_life_days: f64) -> Self {
        DecayedPopularity {
            half_life_days,
            ranked: Vec::new(),
        }
    }
}

impl Baseline for DecayedPopularity {
    fn name(&self) -> &str {
        "decayed-popularity"
    }
    fn fit(&mut self, train: &TrainSet<'_>) {
        let Some(now) = train.signals.iter().map(|(_, s)| s.at).max() else {
            return;
        };
        self.ranked = rank_listed(train, |s| s.decayed(now, self.half_life_days));
    }
    fn recommend(&mut self, _: UserId, exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId> {
        top_unseen(&self.ranked, exclude, k)
    }
}

/// Textbook item-kNN: cosine similarity of items over the binary user × item matrix (a user
/// "has" an item if they interacted with it at all; at most [`TextbookItemKnn::per_user`] most
/// recent items per user), each item's [`TextbookItemKnn::neighbours`] most similar kept;
/// `score(u, i) = Σ_{j ∈ items(u)} sim(j, i)`.
pub struct TextbookItemKnn {
    /// Neighbours kept per item.
    pub neighbours: usize,
    /// Most recent items per user taking part.
    pub per_user: usize,
    items: HashMap<ContentId, u32>,
    ids: Vec<ContentId>,
    listed: Vec<bool>,
    user_items: HashMap<UserId, Vec<u32>>,
    similar: Vec<Vec<(u32, f32)>>,
}

impl Default for TextbookItemKnn {
    fn default() -> Self {
        TextbookItemKnn {
            neighbours: 50,
            per_user: 500,
            items: HashMap::new(),
            ids: Vec::new(),
            listed: Vec::new(),
            user_items: HashMap::new(),
            similar: Vec::new(),
        }
    }
}

impl Baseline for TextbookItemKnn {
    fn name(&self) -> &str {
        "textbook-item-knn"
    }
    fn fit(&mut self, train: &TrainSet<'_>) {
        let listed: HashSet<ContentId> = train.listed.iter().copied().collect();
        // Newest first, deduplicated, capped.
        let mut user_items: HashMap<UserId, Vec<u32>> = HashMap::new();
        for (user, s) in train.signals.iter().rev() {
            let next = self.ids.len() as u32;
            let item = *self.items.entry(s.item).or_insert(next);
            if item == next {
                self.ids.push(s.item);
                self.listed.push(listed.contains(&s.item));
            }
            let list = user_items.entry(*user).or_default();
            if list.len() < self.per_user && !list.contains(&item) {
                list.push(item);
            }
        }
        let n = self.ids.len();
        let mut item_users: Vec<Vec<u32>> = vec![Vec::new(); n];
        let users: Vec<&Vec<u32>> = user_items.values().collect();
        for (u, list) in users.iter().enumerate() {
            for i in list.iter() {
                item_users[*i as usize].push(u as u32);
            }
        }
        let mut co = vec![0u32; n];
        let mut touched: Vec<u32> = Vec::new();
        self.similar = (0..n)
            .map(|i| {
                for u in &item_users[i] {
                    for j in users[*u as usize] {
                        if *j as usize != i {
                            if co[*j as usize] == 0 {
                                touched.push(*j);
                            }
                            co[*j as usize] += 1;
                        }
                    }
                }
                let ni = item_users[i].len() as f64;
                let mut sims: Vec<(u32, f32)> = touched
                    .drain(..)
                    .map(|j| {
                        let c = f64::from(std::mem::take(&mut co[j as usize]));
                        let nj = item_users[j as usize].len() as f64;
                        (j, (c / (ni * nj).sqrt()) as f32)
                    })
                    .collect();
                if sims.len() > self.neighbours {
                    sims.select_nth_unstable_by(self.neighbours, |a, b| b.1.total_cmp(&a.1));
                    sims.truncate(self.neighbours);
                }
                sims
            })
            .collect();
        self.user_items = user_items;
    }
    fn recommend(&mut self, user: UserId, exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId> {
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for j in self.user_items.get(&user).into_iter().flatten() {
            for (i, sim) in &self.similar[*j as usize] {
                *scores.entry(*i).or_default() += f64::from(*sim);
            }
        }
        let mut ranked: Vec<(ContentId, f64)> = scores
            .into_iter()
            .filter(|(i, _)| self.listed[*i as usize])
            .map(|(i, s)| (self.ids[i as usize], s))
            .filter(|(id, _)| !exclude.contains(id))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.into_iter().take(k).map(|(id, _)| id).collect()
    }
}

/// Textbook EASE (see the module docs) with one `λ`.
pub struct TextbookEase {
    lambda: f64,
    max_items: usize,
    name: String,
    modelled: Vec<ContentId>,
    listed: HashSet<ContentId>,
    rows: HashMap<UserId, Vec<(u32, f32)>>,
    /// `Bᵀ`: column `i` is row `i` of `B`, contiguous.
    bt: Option<faer::Mat<f64>>,
}

impl TextbookEase {
    /// Fitted on at most `max_items` most-used items.
    pub fn new(lambda: f64, max_items: usize) -> Self {
        TextbookEase {
            lambda,
            max_items,
            name: format!("{TEXTBOOK_EASE} λ={lambda} n=0"),
            modelled: Vec::new(),
            listed: HashSet::new(),
            rows: HashMap::new(),
            bt: None,
        }
    }
}

impl Baseline for TextbookEase {
    fn name(&self) -> &str {
        &self.name
    }

    fn fit(&mut self, train: &TrainSet<'_>) {
        // Positive user–item pairs.
        let mut sums: HashMap<(UserId, ContentId), f64> = HashMap::new();
        for (user, s) in train.signals {
            *sums.entry((*user, s.item)).or_default() += s.weight();
        }
        let mut counts: HashMap<ContentId, usize> = HashMap::new();
        for ((_, item), w) in &sums {
            if *w > 0.0 {
                *counts.entry(*item).or_default() += 1;
            }
        }
        let mut modelled: Vec<ContentId> = counts.keys().copied().collect();
        modelled.sort_by(|a, b| counts[b].cmp(&counts[a]).then(a.cmp(b)));
        modelled.truncate(self.max_items);
        let n = modelled.len();
        if n < 2 {
            return;
        }
        let index: HashMap<ContentId, u32> =
            modelled.iter().enumerate().map(|(i, c)| (*c, i as u32)).collect();
        let mut rows: HashMap<UserId, Vec<(u32, f32)>> = HashMap::new();
        for ((user, item), w) in &sums {
            if *w > 0.0
                && let Some(i) = index.get(item)
            {
                rows.entry(*user).or_default().push((*i, 1.0));
            }
        }
        let all_rows: Vec<Vec<learned::Entry>> = rows
            .values()
            .map(|row| row.iter().map(|(i, v)| (*i, *v, 0)).collect())
            .collect();
        let gram = learned::gram(&all_rows, n, 0.0);
        drop(all_rows);
        let Some(b) = learned::ease_dense(gram, self.lambda) else {
            return;
        };
        self.bt = Some(b.transpose().to_owned());
        self.name = format!("{TEXTBOOK_EASE} λ={} n={n}", self.lambda);
        self.modelled = modelled;
        self.listed = train.listed.iter().copied().collect();
        self.rows = rows;
    }

    fn recommend(&mut self, user: UserId, exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId> {
        let Some(bt) = &self.bt else { return Vec::new() };
        let mut scores = vec![0.0f64; self.modelled.len()];
        for (i, _) in self.rows.get(&user).into_iter().flatten() {
            // The user's score of j is Σ_i B[i][j] over their items i.
            for (s, w) in scores.iter_mut().zip(bt.col_as_slice(*i as usize)) {
                *s += w;
            }
        }
        let mut ranked: Vec<(usize, f64)> = scores
            .into_iter()
            .enumerate()
            .filter(|(j, _)| {
                let id = self.modelled[*j];
                !exclude.contains(&id) && self.listed.contains(&id)
            })
            .collect();
        let top = k.min(ranked.len());
        if top < ranked.len() {
            ranked.select_nth_unstable_by(top, |a, b| b.1.total_cmp(&a.1));
            ranked.truncate(top);
        }
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.into_iter().map(|(j, _)| self.modelled[j]).collect()
    }
}
