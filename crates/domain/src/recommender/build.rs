//! The maintenance job's computation: derived state from raw interactions.
//!
//! * **Popularity** per item: the sum of its interactions' type weights (attention: ratings
//!   are ignored; all-time, so scores of
//!   items without new interactions stay valid and an incremental build rewrites only touched
//!   items), and **era popularity** ([`popularity`](crate::recommender::popularity)): per era
//!   of the data's own time scale, the items popular then, blended with all-time popularity —
//!   recomputed by every build from the interactions it reads anyway.
//! * **Neighbours** per item: cosine similarity over implicit feedback. Each user's affinity to
//!   an item is `ln(1 + Σ weights)` of their interactions with it (pairs whose sum is not
//!   positive are ignored); each user contributes their [`BuildConfig::per_user`] most recent
//!   items (bounding the work to `users × per_user²`); similarity is
//!   `Σ a_ui·a_uj / (‖i‖·‖j‖ + shrink)`, which damps pairs seen by few users; each item keeps
//!   its [`BuildConfig::neighbours`] best.
//! * **The learned model** ([`learned`](crate::recommender::learned)): EASE fitted on the
//!   affinities above (the same per-user items) over the [`EaseConfig::items`] items with the
//!   most users, each keeping its best weights. Fitted by every build, full or incremental (it
//!   is global: one new interaction changes every weight a little), and replaced whole.
//! * **Tag statistics**: how many listed items carry each tag (for IDF) and its most popular
//!   listed items (content-based candidates).
//!
//! Memory is bounded by the data: 16 bytes per interaction while loading, then the compact
//! user × item matrix. The computation yields to the executor regularly, so it can share a
//! runtime with request handling.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::DomainResult;
use crate::ids::{ContentId, UserId};
use crate::model::Timestamp;
use crate::ports::RecommenderBuildStore;
use crate::recommender::ItemFacts;
use crate::recommender::learned::{self, EaseConfig, Model, ModelRow};
use crate::recommender::popularity::{EraTables, PopularityConfig, Timed, eras};
use crate::recommender::signal::{Signal, type_weight};

/// The last build of the derived state.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildInfo {
    /// When it finished.
    pub built_at: Timestamp,
    /// Reference time of the forward-decayed popularity (set by full builds).
    pub epoch: Timestamp,
    /// Highest interaction id it included.
    pub watermark: i64,
    /// Items with derived state.
    pub items: i64,
    /// Users with interactions.
    pub users: i64,
    /// Interactions read.
    pub signals: i64,
    /// Neighbour entries stored (over all items).
    pub pairs: i64,
    /// Full (or incremental) build.
    pub full: bool,
    /// Duration in milliseconds.
    pub millis: i64,
    /// Items the learned model was fitted on (0: none).
    pub model_items: i64,
    /// The learned model's `λ`.
    pub model_lambda: f64,
}

/// The state of a store's builds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildStatus {
    /// The last successful build.
    pub last: Option<BuildInfo>,
    /// When a build was requested (and not yet started).
    pub requested_at: Option<Timestamp>,
    /// Whether the request asks for a full build.
    pub requested_full: bool,
    /// The worker building now (lock unexpired).
    pub running_on: Option<String>,
    /// Since when.
    pub running_since: Option<Timestamp>,
    /// Error of the last failed build, cleared by a successful one.
    pub last_error: Option<String>,
    /// The newest interaction id: a build with a lower watermark is stale.
    pub latest_signal: i64,
}

impl BuildStatus {
    /// Interactions arrived after the last build (or there is none yet).
    pub fn is_stale(&self) -> bool {
        self.last
            .as_ref()
            .map_or(self.latest_signal > 0, |b| self.latest_signal > b.watermark)
    }
}

/// A build request taken over by a worker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildClaim {
    /// A build had been requested.
    pub requested: bool,
    /// A full one.
    pub full: bool,
}

/// Derived state of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    /// The item.
    pub item: ContentId,
    /// All-time popularity: the sum of its interactions' weights.
    pub popularity: f64,
    /// Interactions with it.
    pub interactions: i64,
    /// Distinct users with a positive affinity to it.
    pub users: i64,
    /// Most similar items, best first.
    pub neighbours: Vec<(ContentId, f32)>,
}

/// Statistics of one tag.
#[derive(Debug, Clone, PartialEq)]
pub struct TagRow {
    /// The tag.
    pub tag: String,
    /// Listed items carrying it.
    pub items: i64,
    /// Its most popular listed items, best first.
    pub top: Vec<(ContentId, f64)>,
}

/// Tuning of a build.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildConfig {
    /// Neighbours kept per item.
    pub neighbours: usize,
    /// Most recent items per user that take part in similarities.
    pub per_user: usize,
    /// Shrinkage of the cosine denominator.
    pub shrink: f64,
    /// Top items kept per tag.
    pub per_tag: usize,
    /// Signals read per page.
    pub page: usize,
    /// A full build replaces an incremental one when the epoch is older than this (days).
    pub full_after_days: i64,
    /// The learned model.
    pub ease: EaseConfig,
    /// Era popularity.
    pub popularity: PopularityConfig,
    /// Trending eras (the learned model's time prior).
    pub trending: PopularityConfig,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            neighbours: 50,
            per_user: 300,
            shrink: 5.0,
            per_tag: 200,
            page: 50_000,
            full_after_days: 7,
            ease: EaseConfig::default(),
            popularity: PopularityConfig::default(),
            trending: PopularityConfig::trending(),
        }
    }
}

/// Full, incremental, or whatever is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Recompute and rewrite everything with a new epoch.
    Full,
    /// Rewrite only items with new interactions (full if there is no previous build or its
    /// epoch is older than [`BuildConfig::full_after_days`]).
    Incremental,
}

/// What a build did.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildReport {
    /// The stored build.
    pub info: BuildInfo,
    /// Item rows written.
    pub rows_written: usize,
    /// Tag rows written.
    pub tags_written: usize,
    /// Popularity eras written.
    pub eras_written: usize,
    /// The half-life of era popularity the data gave (days).
    pub popularity_half_life_days: f64,
}

/// Reads everything from `store`, computes, and stores the result. `now` is the build time;
/// `clock` measures the duration.
pub async fn rebuild(
    store: &dyn RecommenderBuildStore,
    mode: Mode,
    config: &BuildConfig,
    clock: &dyn crate::ports::Clock,
) -> DomainResult<BuildReport> {
    let started = clock.now();
    let previous = store.status(started).await?.last;
    let full = match (&previous, mode) {
        (_, Mode::Full) | (None, _) => true,
        (Some(p), Mode::Incremental) => (started - p.epoch).num_days() >= config.full_after_days,
    };
    let epoch = match (&previous, full) {
        (Some(p), false) => p.epoch,
        _ => started,
    };
    let since = previous.as_ref().filter(|_| !full).map_or(0, |p| p.watermark);

    let mut data = Matrix::new(epoch);
    let mut after = 0;
    loop {
        let page = store.signals(after, config.page).await?;
        let Some((last, _, _)) = page.last() else { break };
        after = *last;
        for (id, user, signal) in &page {
            data.add(*id, *user, signal, *id > since);
        }
        if page.len() < config.page {
            break;
        }
        YieldNow::default().await;
    }
    let mut items: Vec<ItemFacts> = Vec::new();
    let mut after = ContentId(0);
    loop {
        let page = store.items(after, config.page).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let n = page.len();
        items.extend(page);
        if n < config.page {
            break;
        }
    }

    let (popularity_half_life_days, eras) = {
        let mut timed = std::mem::take(&mut data.timed);
        let popularity = eras(
            &mut timed,
            epoch,
            &data.popularity,
            &data.item_ids,
            &config.popularity,
        );
        let trending = eras(
            &mut timed,
            epoch,
            &data.popularity,
            &data.item_ids,
            &config.trending,
        );
        (
            popularity.half_life_days,
            EraTables {
                popularity: popularity.rows,
                trending: trending.rows,
            },
        )
    };
    YieldNow::default().await;
    let computed = data.compute(config, full).await;
    let tags = tag_rows(&items, &computed.popularity, config.per_tag);
    let rows_written = computed.rows.len();
    let tags_written = tags.len();
    let eras_written = eras.popularity.len();
    let info = BuildInfo {
        built_at: clock.now(),
        epoch,
        watermark: data.watermark.max(previous.as_ref().map_or(0, |p| p.watermark)),
        items: computed.total_items,
        users: data.users.len() as i64,
        signals: data.signals as i64,
        pairs: computed.pairs,
        full,
        millis: (clock.now() - started).num_milliseconds(),
        model_items: computed.model.items as i64,
        model_lambda: computed.model.lambda,
    };
    store
        .save_build(computed.rows, tags, computed.model, eras, info.clone(), full)
        .await?;
    Ok(BuildReport {
        info: BuildInfo {
            millis: (clock.now() - started).num_milliseconds(),
            ..info
        },
        rows_written,
        tags_written,
        eras_written,
        popularity_half_life_days,
    })
}

/// One interaction, compactly: user index, item index, weight, age.
#[derive(Clone, Copy)]
struct Entry {
    user: u32,
    item: u32,
    weight: f32,
    /// Seconds after the epoch (ordering recency).
    at: i32,
}

struct Matrix {
    epoch: Timestamp,
    users: HashMap<UserId, u32>,
    items: HashMap<ContentId, u32>,
    item_ids: Vec<ContentId>,
    entries: Vec<Entry>,
    /// (seconds after the epoch, item, attention) for era popularity.
    timed: Vec<Timed>,
    popularity: Vec<f64>,
    interactions: Vec<i64>,
    touched: Vec<bool>,
    watermark: i64,
    signals: usize,
}

struct Computed {
    rows: Vec<ItemRow>,
    /// Popularity of every item seen.
    popularity: HashMap<ContentId, f64>,
    total_items: i64,
    pairs: i64,
    model: Model,
}

impl Matrix {
    fn new(epoch: Timestamp) -> Self {
        Matrix {
            epoch,
            users: HashMap::new(),
            items: HashMap::new(),
            item_ids: Vec::new(),
            entries: Vec::new(),
            timed: Vec::new(),
            popularity: Vec::new(),
            interactions: Vec::new(),
            touched: Vec::new(),
            watermark: 0,
            signals: 0,
        }
    }

    fn add(&mut self, id: i64, user: UserId, signal: &Signal, touched: bool) {
        let next_user = self.users.len() as u32;
        let user = *self.users.entry(user).or_insert(next_user);
        let next_item = self.item_ids.len() as u32;
        let item = *self.items.entry(signal.item).or_insert(next_item);
        if item == next_item {
            self.item_ids.push(signal.item);
            self.popularity.push(0.0);
            self.interactions.push(0);
            self.touched.push(false);
        }
        let i = item as usize;
        // Popularity is attention: what people engage with, however they rate it (ratings
        // shape tastes and neighbours, not what is popular).
        let attention = type_weight(signal.kind);
        self.popularity[i] += attention;
        self.timed
            .push(((signal.at - self.epoch).num_seconds(), item, attention as f32));
        self.interactions[i] += 1;
        self.touched[i] |= touched;
        self.watermark = self.watermark.max(id);
        self.signals += 1;
        let at = (signal.at - self.epoch)
            .num_seconds()
            .clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        self.entries.push(Entry {
            user,
            item,
            weight: signal.weight() as f32,
            at,
        });
    }

    async fn compute(&mut self, config: &BuildConfig, full: bool) -> Computed {
        let n_items = self.item_ids.len();
        // (user, item) affinities, each user's most recent `per_user` items.
        let mut entries = std::mem::take(&mut self.entries);
        entries.sort_unstable_by_key(|e| (e.user, e.item));
        let mut user_items: Vec<Vec<(u32, f32, i32)>> = vec![Vec::new(); self.users.len()];
        let mut k = 0;
        while k < entries.len() {
            let (user, item) = (entries[k].user, entries[k].item);
            let (mut sum, mut last) = (0.0f32, i32::MIN);
            while k < entries.len() && entries[k].user == user && entries[k].item == item {
                sum += entries[k].weight;
                last = last.max(entries[k].at);
                k += 1;
            }
            if sum > 0.0 {
                user_items[user as usize].push((item, sum.ln_1p(), last));
            }
        }
        drop(entries);
        let mut item_users: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_items];
        for (user, list) in user_items.iter_mut().enumerate() {
            if list.len() > config.per_user {
                list.sort_unstable_by_key(|e| std::cmp::Reverse(e.2));
                list.truncate(config.per_user);
            }
            for (item, a, _) in list.iter() {
                item_users[*item as usize].push((user as u32, *a));
            }
        }
        let norms: Vec<f32> = item_users
            .iter()
            .map(|us| us.iter().map(|(_, a)| a * a).sum::<f32>().sqrt())
            .collect();

        let mut acc = vec![0.0f32; n_items];
        let mut seen: Vec<u32> = Vec::new();
        let mut rows = Vec::new();
        let mut pairs = 0i64;
        let mut work = 0usize;
        for i in 0..n_items {
            if !full && !self.touched[i] {
                continue;
            }
            for (user, a_ui) in &item_users[i] {
                for (j, a_uj, _) in &user_items[*user as usize] {
                    let j = *j as usize;
                    if j != i {
                        if acc[j] == 0.0 {
                            seen.push(j as u32);
                        }
                        acc[j] += a_ui * a_uj;
                    }
                }
                work += user_items[*user as usize].len();
            }
            let mut scored: Vec<(u32, f32)> = seen
                .iter()
                .map(|j| {
                    let j = *j as usize;
                    let sim = f64::from(acc[j]) / (f64::from(norms[i]) * f64::from(norms[j]) + config.shrink);
                    (j as u32, sim as f32)
                })
                .filter(|(_, s)| *s > 0.0)
                .collect();
            for j in seen.drain(..) {
                acc[j as usize] = 0.0;
            }
            if scored.len() > config.neighbours {
                scored.select_nth_unstable_by(config.neighbours, |a, b| b.1.total_cmp(&a.1));
                scored.truncate(config.neighbours);
            }
            scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            pairs += scored.len() as i64;
            rows.push(ItemRow {
                item: self.item_ids[i],
                popularity: self.popularity[i],
                interactions: self.interactions[i],
                users: item_users[i].len() as i64,
                neighbours: scored
                    .into_iter()
                    .map(|(j, s)| (self.item_ids[j as usize], s))
                    .collect(),
            });
            if work > 200_000 {
                work = 0;
                YieldNow::default().await;
            }
        }
        drop(acc);
        drop(item_users);
        YieldNow::default().await;
        let fitted = learned::fit(&user_items, n_items, &config.ease);
        let model = Model {
            items: config.ease.items.min(n_items),
            lambda: config.ease.lambda,
            rows: fitted
                .into_iter()
                .map(|(i, weights)| ModelRow {
                    item: self.item_ids[i as usize],
                    weights: weights
                        .into_iter()
                        .map(|(j, w)| (self.item_ids[j as usize], w))
                        .collect(),
                })
                .collect(),
        };
        Computed {
            model,
            rows,
            popularity: self
                .item_ids
                .iter()
                .copied()
                .zip(self.popularity.iter().copied())
                .collect(),
            total_items: n_items as i64,
            pairs,
        }
    }
}

fn tag_rows(items: &[ItemFacts], popularity: &HashMap<ContentId, f64>, per_tag: usize) -> Vec<TagRow> {
    let mut by_tag: HashMap<&str, Vec<(ContentId, f64, f64)>> = HashMap::new();
    for item in items.iter().filter(|i| i.listed) {
        let p = popularity.get(&item.id).copied().unwrap_or(0.0);
        for tag in &item.tags {
            by_tag.entry(tag).or_default().push((item.id, p, item.quality));
        }
    }
    let mut rows: Vec<TagRow> = by_tag
        .into_iter()
        .map(|(tag, mut list)| {
            let items = list.len() as i64;
            list.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(b.2.total_cmp(&a.2)).then(a.0.cmp(&b.0)));
            list.truncate(per_tag);
            TagRow {
                tag: tag.to_owned(),
                items,
                top: list.into_iter().map(|(id, p, _)| (id, p)).collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.tag.cmp(&b.tag));
    rows
}

/// Returns `Pending` once: lets other tasks run during long computations (runtime-agnostic).
#[derive(Default)]
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
