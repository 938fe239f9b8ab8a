//! The recommender ports over data held in memory: offline evaluation builds and queries the
//! derived state through exactly the code the service uses, and tests use it as a fake.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::{ContentId, UserId};
use crate::model::{JsonObject, Timestamp};
use crate::ports::{RecommenderBuildStore, RecommenderData};
use crate::recommender::popularity::era_at;
use crate::recommender::{
    BuildClaim, BuildInfo, BuildStatus, CandidateLists, CandidateRequest, EraTables, ItemFacts, ItemRow,
    Model, ModelRow, Signal, TagRow, UserState,
};

/// Derived state as stored by a build.
#[derive(Debug, Default)]
pub struct Derived {
    info: Option<BuildInfo>,
    rows: HashMap<ContentId, ItemRow>,
    tags: HashMap<String, TagRow>,
    /// The learned model's rows.
    model: HashMap<ContentId, ModelRow>,
    /// Items by popularity, best first.
    popular: Vec<(ContentId, f64)>,
    /// Popularity and trending eras, oldest first.
    eras: EraTables,
    /// Pending request: since, full.
    requested: Option<(Timestamp, bool)>,
    /// Build lock: worker, since, until.
    lock: Option<(String, Timestamp, Timestamp)>,
    error: Option<String>,
}

/// Shared derived state (survives rebuilding a [`Snapshot`] from changed data).
pub type SharedDerived = Arc<Mutex<Derived>>;

/// Items, interactions, preferences and rejections in memory.
#[derive(Debug, Default)]
pub struct Snapshot {
    items: HashMap<ContentId, ItemFacts>,
    /// Interactions with their ids, by id.
    signals: Vec<(i64, UserId, Signal)>,
    /// Per user, indexes into `signals`, newest first.
    by_user: HashMap<UserId, Vec<usize>>,
    preferences: HashMap<UserId, JsonObject>,
    rejected: HashMap<UserId, Vec<ContentId>>,
    /// Listed items, newest first.
    recent: Vec<ContentId>,
    derived: SharedDerived,
}

impl Snapshot {
    /// A snapshot of `items` and `signals` (ids are their positions + 1, in the given order).
    pub fn new(items: Vec<ItemFacts>, signals: Vec<(UserId, Signal)>) -> Self {
        let signals = signals
            .into_iter()
            .enumerate()
            .map(|(n, (u, s))| (n as i64 + 1, u, s))
            .collect();
        Self::with_ids(items, signals, SharedDerived::default())
    }

    /// A snapshot whose interactions carry their own ids, storing builds in `derived`.
    pub fn with_ids(
        items: Vec<ItemFacts>,
        mut signals: Vec<(i64, UserId, Signal)>,
        derived: SharedDerived,
    ) -> Self {
        signals.sort_by_key(|s| s.0);
        let mut by_user: HashMap<UserId, Vec<usize>> = HashMap::new();
        for (n, (_, user, _)) in signals.iter().enumerate() {
            by_user.entry(*user).or_default().push(n);
        }
        for list in by_user.values_mut() {
            list.sort_by(|a, b| signals[*b].2.at.cmp(&signals[*a].2.at).then(b.cmp(a)));
        }
        let mut recent: Vec<&ItemFacts> = items.iter().filter(|f| f.listed).collect();
        recent.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let recent = recent.into_iter().map(|f| f.id).collect();
        Snapshot {
            recent,
            items: items.into_iter().map(|i| (i.id, i)).collect(),
            signals,
            by_user,
            preferences: HashMap::new(),
            rejected: HashMap::new(),
            derived,
        }
    }

    /// Adds users' preferences.
    pub fn with_preferences(mut self, preferences: HashMap<UserId, JsonObject>) -> Self {
        self.preferences = preferences;
        self
    }

    /// Adds users' rejected items.
    pub fn with_rejected(mut self, rejected: HashMap<UserId, Vec<ContentId>>) -> Self {
        self.rejected = rejected;
        self
    }

    /// Every item.
    pub fn items(&self) -> impl Iterator<Item = &ItemFacts> {
        self.items.values()
    }

    /// A user's interactions, newest first.
    pub fn history(&self, user: UserId) -> impl Iterator<Item = &Signal> {
        self.by_user
            .get(&user)
            .into_iter()
            .flatten()
            .map(|n| &self.signals[*n].2)
    }

    fn derived(&self) -> std::sync::MutexGuard<'_, Derived> {
        self.derived.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl RecommenderData for Snapshot {
    async fn user_state(&self, user: UserId, limit: usize) -> DomainResult<UserState> {
        let history = self
            .history(user)
            .filter_map(|s| self.items.get(&s.item).map(|f| (*s, f.clone())))
            .take(limit)
            .collect();
        Ok(UserState {
            history,
            rejected: self.rejected.get(&user).cloned().unwrap_or_default(),
            preferences: self.preferences.get(&user).cloned().unwrap_or_default(),
        })
    }

    async fn candidates(&self, request: &CandidateRequest) -> DomainResult<CandidateLists> {
        let recent = self.recent.iter().take(request.recent).copied().collect();
        let derived = self.derived();
        let Some(built_at) = derived.info.as_ref().map(|i| i.built_at) else {
            return Ok(CandidateLists {
                recent,
                ..CandidateLists::default()
            });
        };
        Ok(CandidateLists {
            built_at: Some(built_at),
            recent,
            neighbours: request
                .seeds
                .iter()
                .filter_map(|s| derived.rows.get(s))
                .filter(|r| !r.neighbours.is_empty())
                .map(|r| (r.item, r.neighbours.clone()))
                .collect(),
            model: if request.model {
                request
                    .seeds
                    .iter()
                    .filter_map(|s| derived.model.get(s))
                    .map(|r| (r.item, r.weights.clone()))
                    .collect()
            } else {
                Vec::new()
            },
            tags: request
                .tags
                .iter()
                .filter_map(|t| derived.tags.get(t))
                .map(|t| TagRow {
                    top: t.top.iter().take(request.per_tag).copied().collect(),
                    ..t.clone()
                })
                .collect(),
            trending: match request.popular_at {
                Some(at) if request.model => era_at(&derived.eras.trending, at)
                    .map(|era| era.top.clone())
                    .unwrap_or_default(),
                _ => Vec::new(),
            },
            popular: request
                .popular_at
                .and_then(|at| era_at(&derived.eras.popularity, at))
                .map_or(&derived.popular, |era| &era.top)
                .iter()
                .take(request.popular)
                .copied()
                .collect(),
        })
    }

    async fn popular_live(
        &self,
        since: Timestamp,
        weights: &[(&'static str, f64)],
        limit: usize,
    ) -> DomainResult<Vec<(ContentId, f64)>> {
        let weight: HashMap<&str, f64> = weights.iter().copied().collect();
        let mut scores: HashMap<ContentId, f64> = HashMap::new();
        for (_, _, s) in self.signals.iter().filter(|(_, _, s)| s.at >= since) {
            if self.items.get(&s.item).is_some_and(|f| f.listed) {
                *scores.entry(s.item).or_default() += weight.get(s.kind.as_str()).copied().unwrap_or(1.0);
            }
        }
        let mut ranked: Vec<(ContentId, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit);
        Ok(ranked)
    }

    async fn tagged_live(&self, tags: &[String], limit: usize) -> DomainResult<Vec<ContentId>> {
        let wanted: HashSet<&str> = tags.iter().map(String::as_str).collect();
        let mut found: Vec<&ItemFacts> = self
            .items
            .values()
            .filter(|f| f.listed && f.tags.iter().any(|t| wanted.contains(t.as_str())))
            .collect();
        found.sort_by(|a, b| b.quality.total_cmp(&a.quality).then(a.id.cmp(&b.id)));
        Ok(found.into_iter().take(limit).map(|f| f.id).collect())
    }

    async fn facts(&self, ids: &[ContentId]) -> DomainResult<Vec<ItemFacts>> {
        Ok(ids.iter().filter_map(|id| self.items.get(id).cloned()).collect())
    }
}

#[async_trait]
impl RecommenderBuildStore for Snapshot {
    async fn signals(&self, after: i64, limit: usize) -> DomainResult<Vec<(i64, UserId, Signal)>> {
        let start = self.signals.partition_point(|s| s.0 <= after);
        Ok(self.signals[start..].iter().take(limit).copied().collect())
    }

    async fn items(&self, after: ContentId, limit: usize) -> DomainResult<Vec<ItemFacts>> {
        let mut items: Vec<&ItemFacts> = self.items.values().filter(|i| i.id > after).collect();
        items.sort_by_key(|i| i.id);
        Ok(items.into_iter().take(limit).cloned().collect())
    }

    async fn status(&self, now: Timestamp) -> DomainResult<BuildStatus> {
        let derived = self.derived();
        let running = derived.lock.as_ref().filter(|l| l.2 > now);
        Ok(BuildStatus {
            last: derived.info.clone(),
            requested_at: derived.requested.map(|r| r.0),
            requested_full: derived.requested.is_some_and(|r| r.1),
            running_on: running.map(|l| l.0.clone()),
            running_since: running.map(|l| l.1),
            last_error: derived.error.clone(),
            latest_signal: self.signals.last().map_or(0, |s| s.0),
        })
    }

    async fn request_build(&self, full: bool, now: Timestamp) -> DomainResult<()> {
        let mut derived = self.derived();
        let full = full || derived.requested.is_some_and(|r| r.1);
        derived.requested = Some((derived.requested.map_or(now, |r| r.0), full));
        Ok(())
    }

    async fn claim_build(
        &self,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> DomainResult<Option<BuildClaim>> {
        let mut derived = self.derived();
        if derived.lock.as_ref().is_some_and(|l| l.2 > now && l.0 != worker) {
            return Ok(None);
        }
        derived.lock = Some((worker.to_owned(), now, until));
        let request = derived.requested.take();
        Ok(Some(BuildClaim {
            requested: request.is_some(),
            full: request.is_some_and(|r| r.1),
        }))
    }

    async fn finish_build(&self, worker: &str, error: Option<&str>) -> DomainResult<()> {
        let mut derived = self.derived();
        if derived.lock.as_ref().is_some_and(|l| l.0 == worker) {
            derived.lock = None;
        }
        derived.error = error.map(str::to_owned);
        Ok(())
    }

    async fn save_build(
        &self,
        rows: Vec<ItemRow>,
        tags: Vec<TagRow>,
        model: Model,
        eras: EraTables,
        info: BuildInfo,
        full: bool,
    ) -> DomainResult<()> {
        let mut derived = self.derived();
        derived.model = model.rows.into_iter().map(|r| (r.item, r)).collect();
        derived.eras = eras;
        if full {
            derived.rows.clear();
        }
        for row in rows {
            derived.rows.insert(row.item, row);
        }
        derived.tags = tags.into_iter().map(|t| (t.tag.clone(), t)).collect();
        let mut popular: Vec<(ContentId, f64)> =
            derived.rows.values().map(|r| (r.item, r.popularity)).collect();
        popular.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        derived.popular = popular;
        derived.info = Some(info);
        Ok(())
    }
}
