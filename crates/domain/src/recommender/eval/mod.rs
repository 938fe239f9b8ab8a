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
use crate::recommender::snapshot::Snapshot;
use crate::recommender::{Algorithm, ItemFacts, Signal, recommend};
use crate::synthetic::Rng;

mod baselines;
pub use baselines::{
    AllTimePopularity, Baseline, DecayedPopularity, Random, TextbookEase, TextbookItemKnn, default_baselines,
};

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
mod tests;
