//! Offline evaluation: hide each user's most recent taste (or everything after a cut-off
//! time), build the derived state from what remains, ask every algorithm for its top `k` over
//! the whole catalogue, and score the lists against what was hidden.
//!
//! Metrics, averaged over evaluated users (binary relevance; `R` = hidden items, `L` = list):
//! precision@k `|L∩R|/k`, recall@k `|L∩R|/|R|`, NDCG@k `Σ_{i: L_i∈R} 1/log2(i+2)` over its
//! ideal, hit rate (share of users with `L∩R ≠ ∅`), catalogue coverage (distinct recommended
//! items / listed items), novelty (mean self-information `−log2(users of i / users)` of the
//! recommended items, in the training data) and intra-list diversity (mean `1 − Jaccard` of the
//! tags of each pair of items in a list).
//!
//! Besides the service's algorithms, [`Baseline`]s — textbook models computed here, never
//! served — anchor the numbers: `random` (the floor), `all-time-popularity` (interaction
//! counts), `textbook-item-knn` (cosine over the binary user × item matrix) and
//! `ease-textbook`: EASE as published, binary `X` over every training interaction (no per-user
//! cap, no decay), fitted on the whole catalogue (up to [`EvalConfig::textbook_items`] most-used
//! items), scored densely from everything the user had, with `λ` the best of
//! [`EvalConfig::textbook_lambdas`] *on the test set itself* — an optimistic baseline, so
//! "served vs textbook" errs against the served model. More baselines plug in through
//! [`evaluate_with`].

use std::collections::{HashMap, HashSet};

use crate::error::DomainResult;
use crate::ids::{ContentId, UserId};
use crate::model::{JsonObject, Timestamp, UserQuery};
use crate::page::PageRequest;
use crate::ports::{Clock, RecommenderBuildStore, UserRepository};
use crate::recommender::build::{BuildConfig, Mode, rebuild};
use crate::recommender::engine::Outcome;
use crate::recommender::learned;
use crate::recommender::snapshot::Snapshot;
use crate::recommender::{Algorithm, ItemFacts, Signal, recommend};
use crate::synthetic::Rng;

/// A data set to evaluate on.
#[derive(Debug, Clone, Default)]
pub struct EvalData {
    /// Every item.
    pub items: Vec<ItemFacts>,
    /// Every interaction.
    pub signals: Vec<(UserId, Signal)>,
    /// Users' preferences.
    pub preferences: HashMap<UserId, JsonObject>,
}

/// Reads a whole data set through the ports.
pub async fn load(store: &dyn RecommenderBuildStore, users: &dyn UserRepository) -> DomainResult<EvalData> {
    const PAGE: usize = 50_000;
    let mut data = EvalData::default();
    let mut after = 0;
    loop {
        let page = store.signals(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        let n = page.len();
        data.signals.extend(page.into_iter().map(|(_, u, s)| (u, s)));
        if n < PAGE {
            break;
        }
    }
    let mut after = ContentId(0);
    loop {
        let page = store.items(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let n = page.len();
        data.items.extend(page);
        if n < PAGE {
            break;
        }
    }
    let mut skip = 0;
    loop {
        let page = users
            .list(&UserQuery::default(), PageRequest { skip, limit: 1000 })
            .await?;
        let n = page.items.len() as i64;
        data.preferences
            .extend(page.items.into_iter().map(|u| (u.id, u.preferences)));
        skip += n;
        if n < 1000 {
            break;
        }
    }
    Ok(data)
}

/// How the hidden part is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Split {
    /// Per user, the item of their most recent positive interaction.
    LeaveLastOut,
    /// Everything after the time by which this fraction of interactions remains (e.g. 0.2).
    Time(f64),
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Split::LeaveLastOut => f.write_str("leave-last-out"),
            Split::Time(fraction) => write!(f, "time split (last {:.0}% hidden)", fraction * 100.0),
        }
    }
}

/// Evaluation settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalConfig {
    /// List length.
    pub k: usize,
    /// What is hidden.
    pub split: Split,
    /// Evaluate at most this many users (a deterministic sample); 0 = all.
    pub max_users: usize,
    /// Seed of the sample and of the random baseline.
    pub seed: u64,
    /// `λ`s tried for the textbook EASE baseline (empty: no baseline).
    pub textbook_lambdas: Vec<f64>,
    /// Items the textbook baseline is fitted on at most (its dense matrices take `8·n²` bytes
    /// each): the most used.
    pub textbook_items: usize,
    /// How the derived state (and the learned model) is built from the training part.
    pub build: BuildConfig,
    /// The service's algorithms to evaluate.
    pub algorithms: Vec<Algorithm>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            k: 10,
            split: Split::LeaveLastOut,
            max_users: 0,
            seed: 7,
            textbook_lambdas: vec![100.0, 500.0, 1000.0, 2000.0, 4000.0],
            textbook_items: 8_000,
            build: BuildConfig::default(),
            algorithms: Algorithm::ALL.to_vec(),
        }
    }
}

/// Scores of one algorithm.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Algorithm name (`random` for the floor).
    pub algorithm: String,
    /// Precision@k.
    pub precision: f64,
    /// Recall@k.
    pub recall: f64,
    /// NDCG@k.
    pub ndcg: f64,
    /// Hit rate@k.
    pub hit_rate: f64,
    /// Catalogue coverage.
    pub coverage: f64,
    /// Mean self-information of recommended items (bits).
    pub novelty: f64,
    /// Mean pairwise tag dissimilarity within a list.
    pub diversity: f64,
    /// Mean milliseconds per recommendation call.
    pub millis_per_user: f64,
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// List length.
    pub k: usize,
    /// The split, described.
    pub split: String,
    /// Users evaluated.
    pub users: usize,
    /// Listed items (the catalogue).
    pub catalogue: usize,
    /// Interactions the models learned from.
    pub train_signals: usize,
    /// Duration of building the derived state (ms).
    pub build_millis: i64,
    /// Half-life of era popularity the training data gave (days).
    pub popularity_half_life_days: f64,
    /// Per algorithm: the baselines, then every [`Algorithm`].
    pub metrics: Vec<Metrics>,
    /// The textbook baseline's best `λ` and the items it was fitted on.
    pub textbook: Option<(f64, usize)>,
}

impl Report {
    /// The metrics of `algorithm`.
    pub fn of(&self, algorithm: &str) -> Option<&Metrics> {
        self.metrics.iter().find(|m| m.algorithm == algorithm)
    }
}

/// What a baseline learns from.
pub struct TrainSet<'a> {
    /// Training interactions, oldest first.
    pub signals: &'a [(UserId, Signal)],
    /// Listed items (the catalogue).
    pub listed: &'a [ContentId],
}

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
        let listed: HashSet<ContentId> = train.listed.iter().copied().collect();
        let mut counts: HashMap<ContentId, usize> = HashMap::new();
        for (_, s) in train.signals {
            if listed.contains(&s.item) {
                *counts.entry(s.item).or_default() += 1;
            }
        }
        let mut ranked: Vec<(ContentId, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.ranked = ranked.into_iter().map(|(id, _)| id).collect();
    }
    fn recommend(&mut self, _: UserId, exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId> {
        self.ranked
            .iter()
            .filter(|id| !exclude.contains(id))
            .take(k)
            .copied()
            .collect()
    }
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
        let listed: HashSet<ContentId> = train.listed.iter().copied().collect();
        let Some(now) = train.signals.iter().map(|(_, s)| s.at).max() else {
            return;
        };
        let mut scores: HashMap<ContentId, f64> = HashMap::new();
        for (_, s) in train.signals {
            if listed.contains(&s.item) {
                *scores.entry(s.item).or_default() += s.decayed(now, self.half_life_days);
            }
        }
        let mut ranked: Vec<(ContentId, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        self.ranked = ranked.into_iter().map(|(id, _)| id).collect();
    }
    fn recommend(&mut self, _: UserId, exclude: &HashSet<ContentId>, k: usize) -> Vec<ContentId> {
        self.ranked
            .iter()
            .filter(|id| !exclude.contains(id))
            .take(k)
            .copied()
            .collect()
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

#[derive(Default)]
struct Sums {
    precision: f64,
    recall: f64,
    ndcg: f64,
    hits: f64,
    novelty: f64,
    diversity: f64,
    diverse_lists: f64,
    recommended: HashSet<ContentId>,
    millis: f64,
}

/// What list metrics need to know about items.
struct ItemInfo<'a> {
    /// Training users per item.
    users: HashMap<ContentId, usize>,
    total_users: usize,
    tags: HashMap<ContentId, HashSet<&'a str>>,
}

impl Sums {
    fn add(&mut self, list: &[ContentId], relevant: &HashSet<ContentId>, k: usize, info: &ItemInfo<'_>) {
        let hits: Vec<usize> = list
            .iter()
            .enumerate()
            .filter(|(_, id)| relevant.contains(id))
            .map(|(i, _)| i)
            .collect();
        self.precision += hits.len() as f64 / k as f64;
        self.recall += hits.len() as f64 / relevant.len() as f64;
        let dcg: f64 = hits.iter().map(|i| 1.0 / (*i as f64 + 2.0).log2()).sum();
        let ideal: f64 = (0..relevant.len().min(k))
            .map(|i| 1.0 / (i as f64 + 2.0).log2())
            .sum();
        self.ndcg += dcg / ideal;
        self.hits += f64::from(u8::from(!hits.is_empty()));
        self.recommended.extend(list.iter().copied());
        if !list.is_empty() {
            let total = info.total_users.max(1) as f64;
            self.novelty += list
                .iter()
                .map(|id| -((info.users.get(id).copied().unwrap_or(0).max(1) as f64) / total).log2())
                .sum::<f64>()
                / list.len() as f64;
        }
        if list.len() >= 2 {
            let empty = HashSet::new();
            let tags = |id: &ContentId| info.tags.get(id).unwrap_or(&empty);
            let (mut sum, mut pairs) = (0.0, 0.0);
            for (n, a) in list.iter().enumerate() {
                for b in &list[n + 1..] {
                    let (a, b) = (tags(a), tags(b));
                    let union = a.union(b).count();
                    let similarity = if union == 0 {
                        0.0
                    } else {
                        a.intersection(b).count() as f64 / union as f64
                    };
                    sum += 1.0 - similarity;
                    pairs += 1.0;
                }
            }
            self.diversity += sum / pairs;
            self.diverse_lists += 1.0;
        }
    }

    fn metrics(&self, algorithm: &str, users: usize, catalogue: usize) -> Metrics {
        let n = users.max(1) as f64;
        Metrics {
            algorithm: algorithm.to_owned(),
            precision: self.precision / n,
            recall: self.recall / n,
            ndcg: self.ndcg / n,
            hit_rate: self.hits / n,
            coverage: self.recommended.len() as f64 / catalogue.max(1) as f64,
            novelty: self.novelty / n,
            diversity: if self.diverse_lists > 0.0 {
                self.diversity / self.diverse_lists
            } else {
                0.0
            },
            millis_per_user: self.millis / n,
        }
    }
}

/// Evaluates every algorithm and the [`default_baselines`] on `data`. `progress(done, total)`
/// is called as users are evaluated.
pub async fn evaluate(
    data: EvalData,
    config: &EvalConfig,
    clock: &dyn Clock,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> DomainResult<Report> {
    let mut baselines = default_baselines(config.seed);
    for lambda in &config.textbook_lambdas {
        baselines.push(Box::new(TextbookEase::new(*lambda, config.textbook_items)));
    }
    evaluate_with(data, config, baselines, clock, progress).await
}

/// Evaluates every algorithm and the given `baselines` on `data`.
pub async fn evaluate_with(
    data: EvalData,
    config: &EvalConfig,
    mut baselines: Vec<Box<dyn Baseline>>,
    clock: &dyn Clock,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> DomainResult<Report> {
    let k = config.k.max(1);
    let mut signals = data.signals;
    signals.sort_by_key(|(_, s)| s.at);
    let (train, test) = split(&signals, config.split);
    let now = train
        .iter()
        .map(|(_, s)| s.at)
        .max()
        .unwrap_or_else(|| clock.now());
    let train_signals = train.len();
    let mut users: Vec<UserId> = test.keys().copied().collect();
    users.sort();
    let mut rng = Rng::new(config.seed);
    if config.max_users > 0 && users.len() > config.max_users {
        for i in 0..config.max_users {
            let j = i + rng.below(users.len() - i);
            users.swap(i, j);
        }
        users.truncate(config.max_users);
        users.sort();
    }
    let listed: Vec<ContentId> = data.items.iter().filter(|i| i.listed).map(|i| i.id).collect();
    let catalogue = listed.len();
    let owners: HashMap<ContentId, UserId> = data.items.iter().map(|i| (i.id, i.creator)).collect();
    let mut owned: HashMap<UserId, Vec<ContentId>> = HashMap::new();
    for (item, owner) in &owners {
        owned.entry(*owner).or_default().push(*item);
    }
    let mut item_users: HashMap<ContentId, HashSet<UserId>> = HashMap::new();
    for (user, s) in &train {
        item_users.entry(s.item).or_default().insert(*user);
    }
    let info = ItemInfo {
        total_users: train.iter().map(|(u, _)| *u).collect::<HashSet<_>>().len(),
        users: item_users.into_iter().map(|(i, u)| (i, u.len())).collect(),
        tags: data
            .items
            .iter()
            .map(|i| (i.id, i.tags.iter().map(String::as_str).collect()))
            .collect(),
    };
    let train_set = TrainSet {
        signals: &train,
        listed: &listed,
    };
    for baseline in &mut baselines {
        baseline.fit(&train_set);
    }
    let snapshot =
        Snapshot::new(data.items.clone(), train.clone()).with_preferences(data.preferences.clone());
    let report = rebuild(&snapshot, Mode::Full, &config.build, clock).await?;

    let mut sums: Vec<(String, Sums)> = baselines
        .iter()
        .map(|b| b.name().to_owned())
        .chain(config.algorithms.iter().map(|a| a.as_str().to_owned()))
        .map(|name| (name, Sums::default()))
        .collect();
    for (done, user) in users.iter().enumerate() {
        let relevant = &test[user];
        // Baselines obey the service's rules: nothing seen, nothing of one's own.
        let mut exclude: HashSet<ContentId> = snapshot.history(*user).map(|s| s.item).collect();
        exclude.extend(owned.get(user).into_iter().flatten().copied());
        for (n, baseline) in baselines.iter_mut().enumerate() {
            let started = clock.now();
            let list = baseline.recommend(*user, &exclude, k);
            let entry = &mut sums[n].1;
            entry.millis += (clock.now() - started).num_microseconds().unwrap_or(0) as f64 / 1000.0;
            entry.add(&list, relevant, k, &info);
        }
        for (n, algorithm) in config.algorithms.iter().enumerate() {
            let started = clock.now();
            let outcome: Outcome = recommend(&snapshot, *user, *algorithm, k, now).await?;
            let list: Vec<ContentId> = outcome.items.iter().map(|r| r.item).collect();
            let entry = &mut sums[baselines.len() + n].1;
            entry.millis += (clock.now() - started).num_microseconds().unwrap_or(0) as f64 / 1000.0;
            entry.add(&list, relevant, k, &info);
        }
        if done % 100 == 99 || done + 1 == users.len() {
            progress(done + 1, users.len());
        }
    }
    let mut metrics: Vec<Metrics> = sums
        .iter()
        .map(|(name, s)| s.metrics(name, users.len(), catalogue))
        .collect();
    let textbook = keep_best_textbook(&mut metrics);
    Ok(Report {
        k,
        split: config.split.to_string(),
        users: users.len(),
        catalogue,
        train_signals,
        build_millis: report.info.millis,
        popularity_half_life_days: report.popularity_half_life_days,
        textbook,
        metrics,
    })
}

/// Name prefix of the textbook EASE runs, one per `λ`: `ease-textbook λ=… n=…`.
const TEXTBOOK_EASE: &str = "ease-textbook";

/// Of the textbook EASE runs, keeps the best by NDCG as `ease-textbook` and returns its `λ`
/// and fitted items.
fn keep_best_textbook(metrics: &mut Vec<Metrics>) -> Option<(f64, usize)> {
    let mut best: Option<(Metrics, f64, usize)> = None;
    metrics.retain(|m| {
        let Some(rest) = m
            .algorithm
            .strip_prefix(TEXTBOOK_EASE)
            .and_then(|r| r.strip_prefix(" λ="))
        else {
            return true;
        };
        let mut parts = rest.split(" n=");
        let lambda = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
        let n = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0);
        if n > 0 && best.as_ref().is_none_or(|b| m.ndcg > b.0.ndcg) {
            best = Some((m.clone(), lambda, n));
        }
        false
    });
    let (mut m, lambda, n) = best?;
    m.algorithm = TEXTBOOK_EASE.to_owned();
    metrics.push(m);
    Some((lambda, n))
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
        let all_rows: Vec<Vec<(u32, f32)>> = rows.values().cloned().collect();
        let gram = learned::gram(&all_rows, n);
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

type Train = Vec<(UserId, Signal)>;
type Test = HashMap<UserId, HashSet<ContentId>>;

/// Splits time-ordered signals into what models learn from and what they must find.
fn split(signals: &[(UserId, Signal)], how: Split) -> (Train, Test) {
    match how {
        Split::LeaveLastOut => {
            let mut last: HashMap<UserId, (Timestamp, ContentId)> = HashMap::new();
            for (user, s) in signals {
                if s.weight() > 0.0 {
                    last.insert(*user, (s.at, s.item));
                }
            }
            let train: Train = signals
                .iter()
                .filter(|(user, s)| last.get(user).is_none_or(|(_, item)| *item != s.item))
                .cloned()
                .collect();
            let active: HashSet<UserId> = train.iter().map(|(u, _)| *u).collect();
            let test = last
                .into_iter()
                .filter(|(user, _)| active.contains(user))
                .map(|(user, (_, item))| (user, HashSet::from([item])))
                .collect();
            (train, test)
        }
        Split::Time(fraction) => {
            let keep = ((signals.len() as f64) * (1.0 - fraction.clamp(0.0, 1.0))) as usize;
            let (train, rest) = signals.split_at(keep.min(signals.len()));
            let mut seen: HashMap<UserId, HashSet<ContentId>> = HashMap::new();
            for (user, s) in train {
                seen.entry(*user).or_default().insert(s.item);
            }
            let mut test: Test = HashMap::new();
            for (user, s) in rest {
                if s.weight() > 0.0
                    && let Some(items) = seen.get(user)
                    && !items.contains(&s.item)
                {
                    test.entry(*user).or_default().insert(s.item);
                }
            }
            (train.to_vec(), test)
        }
    }
}

impl EvalData {
    /// A generated data set, with ids as in a fresh database (index + 1).
    pub fn from_synthetic(data: &crate::synthetic::Dataset) -> Self {
        let id = |i: usize| i as i64 + 1;
        EvalData {
            items: data
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| ItemFacts {
                    id: ContentId(id(i)),
                    creator: UserId(id(item.creator)),
                    content_type: item.content_type,
                    tags: item.tags.clone(),
                    genre: item
                        .item_metadata
                        .get("genre")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned),
                    listed: item.is_public && !item.is_private,
                    quality: item.quality_score,
                    created_at: item.created_at,
                })
                .collect(),
            signals: data
                .interactions
                .iter()
                .map(|s| {
                    (
                        UserId(id(s.user)),
                        Signal {
                            item: ContentId(id(s.item)),
                            kind: s.interaction_type,
                            rating: s.rating,
                            at: s.created_at,
                        },
                    )
                })
                .collect(),
            preferences: data
                .users
                .iter()
                .enumerate()
                .map(|(i, u)| (UserId(id(i)), u.preferences.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock;
    use crate::synthetic::{Spec, generate};
    use crate::testing::FixedClock;

    fn spec(users: usize, items: usize, interactions: usize) -> Spec {
        Spec {
            users,
            items,
            interactions,
            seed: 11,
            noise: 0.15,
            ..Spec::demo(FixedClock::default().now())
        }
    }

    #[tokio::test]
    async fn on_long_bursty_histories_popularity_follows_the_users_era() {
        let data = EvalData::from_synthetic(&generate(&Spec {
            history: crate::synthetic::History::Bursty,
            ..spec(600, 4_000, 40_000)
        }));
        let config = EvalConfig {
            algorithms: vec![Algorithm::Popularity],
            ..EvalConfig::default()
        };
        let baselines: Vec<Box<dyn Baseline>> = vec![
            Box::new(AllTimePopularity::default()),
            Box::new(DecayedPopularity::new(14.0)),
        ];
        let report = evaluate_with(data, &config, baselines, &FixedClock::default(), &|_, _| {})
            .await
            .unwrap();
        let ndcg = |name: &str| report.of(name).unwrap().ndcg;
        eprintln!("{report:#?}");
        assert!(
            report.popularity_half_life_days > 30.0,
            "{}",
            report.popularity_half_life_days
        );
        assert!(
            ndcg("popularity") >= 1.2 * ndcg("all-time-popularity"),
            "era popularity {} vs all-time {}",
            ndcg("popularity"),
            ndcg("all-time-popularity")
        );
        assert!(
            ndcg("decayed-popularity") < ndcg("all-time-popularity"),
            "the old 14-day window fails here"
        );
        for m in &report.metrics {
            assert!(m.novelty > 0.0 && (0.0..=1.0).contains(&m.diversity), "{m:?}");
        }
    }

    #[tokio::test]
    async fn learned_tastes_beat_popularity_which_beats_chance() {
        let data = EvalData::from_synthetic(&generate(&spec(250, 2_000, 25_000)));
        let report = evaluate(data, &EvalConfig::default(), &FixedClock::default(), &|_, _| {})
            .await
            .unwrap();
        let ndcg = |name: &str| report.of(name).unwrap().ndcg;
        eprintln!("{report:#?}");
        assert!(report.users > 200, "{}", report.users);
        assert!(ndcg("popularity") > 2.0 * ndcg("random"));
        assert!(ndcg("item-knn") > 1.5 * ndcg("popularity"));
        assert!(ndcg("hybrid") > 1.8 * ndcg("popularity"));
        assert!(ndcg("content") > ndcg("popularity"));
        assert!(ndcg("ease") > 1.5 * ndcg("popularity"));
        assert!(ndcg("ease-textbook") > 1.5 * ndcg("popularity"));
        assert!(
            report
                .textbook
                .is_some_and(|(lambda, n)| lambda > 0.0 && n > 1_000)
        );
        assert!(ndcg("textbook-item-knn") > ndcg("all-time-popularity"));
        assert!(
            report.of("all-time-popularity").unwrap().novelty < report.of("random").unwrap().novelty,
            "popular items are less novel"
        );
        for m in &report.metrics {
            assert!(
                (0.0..=1.0).contains(&m.ndcg) && m.recall >= m.precision && m.coverage > 0.0,
                "{m:?}"
            );
        }
    }

    /// Popularity tuning run (not part of the suite): era weight × split on bursty and steady
    /// histories, `EVAL_SIZE=users,items,interactions`, `EVAL_ERA_WEIGHTS=0.25,0.5`,
    /// `EVAL_SPAN_DIVISORS=8,16`.
    #[tokio::test]
    #[ignore = "a tuning run: cargo test -p genonaut-domain popularity_tune -- --ignored --nocapture"]
    async fn popularity_tune() {
        let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        let size: Vec<usize> = env("EVAL_SIZE", "2000,5000,200000")
            .split(',')
            .filter_map(|x| x.parse().ok())
            .collect();
        let weights: Vec<f64> = env("EVAL_ERA_WEIGHTS", "0,0.25,0.5,0.75,1")
            .split(',')
            .filter_map(|x| x.parse().ok())
            .collect();
        let divisors: Vec<f64> = env("EVAL_SPAN_DIVISORS", "16")
            .split(',')
            .filter_map(|x| x.parse().ok())
            .collect();
        for history in [
            crate::synthetic::History::Bursty,
            crate::synthetic::History::Recent,
        ] {
            let data = EvalData::from_synthetic(&generate(&Spec {
                history,
                ..spec(size[0], size[1], size[2])
            }));
            for split in [Split::LeaveLastOut, Split::Time(0.2)] {
                for (weight, divisor) in weights.iter().flat_map(|w| divisors.iter().map(move |d| (w, d))) {
                    let mut config = EvalConfig {
                        split,
                        algorithms: vec![Algorithm::Popularity],
                        ..EvalConfig::default()
                    };
                    config.build.popularity.era_weight = *weight;
                    config.build.popularity.span_divisor = *divisor;
                    let baselines: Vec<Box<dyn Baseline>> = vec![Box::new(AllTimePopularity::default())];
                    let report = evaluate_with(
                        data.clone(),
                        &config,
                        baselines,
                        &FixedClock::default(),
                        &|_, _| {},
                    )
                    .await
                    .unwrap();
                    let ndcg = |name: &str| report.of(name).unwrap().ndcg;
                    eprintln!(
                        "{:<7} {:<22} era_weight {weight:.2} divisor {divisor}  half-life {:.1} d  popularity {:.4}  all-time {:.4}  ratio {:.2}",
                        history.as_str(),
                        report.split,
                        report.popularity_half_life_days,
                        ndcg("popularity"),
                        ndcg("all-time-popularity"),
                        ndcg("popularity") / ndcg("all-time-popularity")
                    );
                }
            }
        }
    }

    /// Tuning run (not part of the suite): `EVAL_SIZE=users,items,interactions`,
    /// `EVAL_LAMBDAS=100,200`, `EVAL_BINARY=1`, `EVAL_ITEMS=2500`, `EVAL_TEXTBOOK=0`,
    /// `EVAL_HISTORY=bursty`, `EVAL_SPLIT=time`, `EVAL_TOPK=50`.
    #[tokio::test]
    #[ignore = "a tuning run: cargo test --release -p genonaut-domain tune -- --ignored --nocapture"]
    async fn tune() {
        let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        let size: Vec<usize> = env("EVAL_SIZE", "2000,5000,200000")
            .split(',')
            .filter_map(|x| x.parse().ok())
            .collect();
        let mut textbook = env("EVAL_TEXTBOOK", "1") == "1";
        for lambda in env("EVAL_LAMBDAS", "200")
            .split(',')
            .filter_map(|x| x.parse::<f64>().ok())
        {
            let history = match env("EVAL_HISTORY", "recent").as_str() {
                "bursty" => crate::synthetic::History::Bursty,
                _ => crate::synthetic::History::Recent,
            };
            let data = EvalData::from_synthetic(&generate(&Spec {
                history,
                ..spec(size[0], size[1], size[2])
            }));
            let mut config = EvalConfig::default();
            if env("EVAL_SPLIT", "last") == "time" {
                config.split = Split::Time(0.2);
            }
            config.build.ease.lambda = lambda;
            config.build.ease.binary = env("EVAL_BINARY", "0") == "1";
            config.build.ease.items = env("EVAL_ITEMS", "2500").parse().unwrap_or(2500);
            config.build.ease.top_k = env("EVAL_TOPK", "50").parse().unwrap_or(50);
            if !textbook {
                config.textbook_lambdas.clear();
            }
            textbook = false;
            let report = evaluate(data, &config, &crate::ports::SystemClock, &|_, _| {})
                .await
                .unwrap();
            let knn = report.of("item-knn").unwrap().ndcg;
            eprintln!(
                "λ {lambda} binary {} N {} build {} ms textbook {:?}",
                config.build.ease.binary, config.build.ease.items, report.build_millis, report.textbook
            );
            for m in &report.metrics {
                eprintln!(
                    "  {:<14} ndcg {:.4}  ({:.2}× item-knn)  recall {:.4}  coverage {:.3}  {:.2} ms/user",
                    m.algorithm,
                    m.ndcg,
                    m.ndcg / knn,
                    m.recall,
                    m.coverage,
                    m.millis_per_user
                );
            }
        }
    }

    /// The build at scale, in memory (not part of the suite): `EVAL_SIZE`, `EVAL_ITEMS`.
    /// Prints the full build's duration and the process's peak memory.
    #[tokio::test(flavor = "current_thread")]
    #[ignore = "a benchmark: cargo test --release -p genonaut-domain scale -- --ignored --nocapture"]
    async fn scale() {
        let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        let size: Vec<usize> = env("EVAL_SIZE", "10000,100000,1000000")
            .split(',')
            .filter_map(|x| x.parse().ok())
            .collect();
        let memory = |field: &str| {
            std::fs::read_to_string("/proc/self/status")
                .unwrap_or_default()
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        let data = EvalData::from_synthetic(&generate(&spec(size[0], size[1], size[2])));
        let users: Vec<UserId> = (1..=200).map(UserId).collect();
        let snapshot = Snapshot::new(data.items, data.signals);
        for items in env("EVAL_ITEMS", "0,2500")
            .split(',')
            .filter_map(|x| x.parse::<usize>().ok())
        {
            let mut config = BuildConfig::default();
            config.ease.items = items;
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            let before = memory("VmRSS:");
            let started = std::time::Instant::now();
            let report = rebuild(&snapshot, Mode::Full, &config, &crate::ports::SystemClock)
                .await
                .unwrap();
            eprintln!(
                "N {items}: full build {:.1} s, {} pairs, peak +{:.0} MiB over {before:.0} MiB",
                started.elapsed().as_secs_f64(),
                report.info.pairs,
                memory("VmHWM:") - before
            );
            for algorithm in Algorithm::ALL {
                let mut ms: Vec<f64> = Vec::new();
                for user in &users {
                    let t = std::time::Instant::now();
                    recommend(&snapshot, *user, algorithm, 10, FixedClock::default().now())
                        .await
                        .unwrap();
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                ms.sort_by(f64::total_cmp);
                eprintln!(
                    "  {:<10} in-memory scoring p50 {:.2} ms p99 {:.2} ms",
                    algorithm.as_str(),
                    ms[ms.len() / 2],
                    ms[ms.len() * 99 / 100]
                );
            }
        }
    }
}
