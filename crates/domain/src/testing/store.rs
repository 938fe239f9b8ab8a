use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::json_contains;
use crate::error::{DomainError, DomainResult};
use crate::ids::{ContentId, InteractionId, JobId, RecommendationId, UserId};
use crate::model::*;
use crate::page::{Page, PageRequest};
use crate::ports::*;
use crate::recommender::snapshot::{SharedDerived, Snapshot};
use crate::recommender::{
    BuildClaim, BuildInfo, BuildStatus, CandidateLists, CandidateRequest, EraRow, ItemFacts, ItemRow, Model,
    Signal, TagRow, UserState,
};

#[derive(Default)]
struct State {
    users: BTreeMap<UserId, User>,
    content: BTreeMap<ContentId, Content>,
    interactions: BTreeMap<InteractionId, Interaction>,
    recommendations: BTreeMap<RecommendationId, Recommendation>,
    jobs: BTreeMap<JobId, GenerationJob>,
    job_events: BTreeMap<JobId, Vec<JobEvent>>,
    run_after: BTreeMap<JobId, Timestamp>,
    /// Each job's round in the fair queue (see [`JobQueue::claim`]).
    fair_round: BTreeMap<JobId, i64>,
    leases: BTreeMap<JobId, Timestamp>,
    recommender: SharedDerived,
    /// Item embeddings: model, vector, written at (items whose text changed since are
    /// `needing`, as in PostgreSQL).
    embeddings: BTreeMap<ContentId, (String, Vec<f32>, Timestamp)>,
    experiments: BTreeMap<crate::ids::ExperimentId, Experiment>,
    /// Idempotency keys: fingerprint, the job as created, when.
    idempotency: HashMap<IdempotencyKey, (String, GenerationJob, Timestamp)>,
    /// The webhook outbox: row id, delivery, URL.
    webhooks: Vec<(i64, WebhookDelivery, String)>,
    next_id: i64,
    count_checkpoints: u64,
}

impl State {
    fn next(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// Appends an event to a job's log (bumping its `event_seq`).
    fn emit(&mut self, id: JobId, kind: JobEventKind, data: JsonObject, now: Timestamp) {
        let Some(job) = self.jobs.get_mut(&id) else { return };
        job.event_seq += 1;
        let seq = job.event_seq;
        let webhook = job.webhook.clone().filter(|w| w.events.contains(&kind));
        let event = JobEvent {
            job_id: id,
            seq: job.event_seq,
            kind,
            at: now,
            data,
        };
        self.job_events.entry(id).or_default().push(event);
        // The outbox row, in the same step as the event (as PostgreSQL does in one statement).
        if let Some(webhook) = webhook {
            let row = i64::try_from(self.webhooks.len()).unwrap_or(0) + 1;
            self.webhooks.push((
                row,
                WebhookDelivery {
                    webhook_id: new_webhook_id(),
                    job_id: id,
                    seq,
                    event: kind,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    last_status: None,
                    last_error: None,
                    next_attempt_at: Some(now),
                    delivered_at: None,
                    created_at: now,
                },
                webhook.url,
            ));
        }
    }

    fn queue_position(&self, job: &GenerationJob) -> Option<i64> {
        (job.status == JobStatus::Pending).then(|| {
            1 + self
                .jobs
                .values()
                .filter(|j| j.status == JobStatus::Pending && self.queue_order(j) < self.queue_order(job))
                .count() as i64
        })
    }

    /// Queue order: priority, the user's round, FIFO.
    fn queue_order(&self, j: &GenerationJob) -> (i32, i64, Timestamp, JobId) {
        let round = self.fair_round.get(&j.id).copied().unwrap_or(0);
        (-j.priority, round, j.created_at, j.id)
    }

    /// A new job's round: one past its user's latest pending job at that priority, never
    /// behind the queue's head.
    fn next_round(&self, user: UserId, priority: i32) -> i64 {
        let pending = |j: &&GenerationJob| j.status == JobStatus::Pending && j.priority == priority;
        let round = |j: &GenerationJob| self.fair_round.get(&j.id).copied().unwrap_or(0);
        let head = self.jobs.values().filter(pending).map(round).min().unwrap_or(0);
        let own = self
            .jobs
            .values()
            .filter(pending)
            .filter(|j| j.user_id == user)
            .map(|j| round(j) + 1)
            .max()
            .unwrap_or(0);
        head.max(own)
    }

    fn held(&self, lease: &Lease) -> bool {
        self.jobs
            .get(&lease.job)
            .is_some_and(|j| j.status == JobStatus::Running && j.attempts == lease.attempt)
    }
}

fn event_for(status: JobStatus) -> JobEventKind {
    match status {
        JobStatus::Pending => JobEventKind::Queued,
        JobStatus::Running => JobEventKind::Started,
        JobStatus::Completed => JobEventKind::Completed,
        JobStatus::Failed => JobEventKind::Failed,
        JobStatus::Cancelled => JobEventKind::Cancelled,
    }
}

fn data(v: Value) -> JsonObject {
    v.as_object().cloned().unwrap_or_default()
}

/// In-memory implementation of every repository port.
#[derive(Clone, Default)]
pub struct InMemoryStore {
    state: Arc<Mutex<State>>,
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Repository handles over this store.
    pub fn repositories(&self) -> Repositories {
        Repositories {
            users: Arc::new(Users(self.clone())),
            content: Arc::new(Contents(self.clone())),
            interactions: Arc::new(Interactions(self.clone())),
            recommendations: Arc::new(Recommendations(self.clone())),
            jobs: Arc::new(Jobs(self.clone())),
            system: Arc::new(System(self.clone())),
            queue: Arc::new(Queue(self.clone())),
            job_events: Arc::new(Jobs(self.clone())),
            recommender: Arc::new(Recommender(self.clone())),
            recommender_builds: Arc::new(Recommender(self.clone())),
            embeddings: Arc::new(Embeddings(self.clone())),
            experiments: Arc::new(Experiments(self.clone())),
            webhooks: Arc::new(Webhooks(self.clone())),
        }
    }

    /// How many times `InteractionRepository::checkpoint_counts` was called (this store
    /// counts on demand and has nothing to checkpoint).
    pub fn count_checkpoints(&self) -> u64 {
        self.lock().count_checkpoints
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn paged<T>(items: Vec<T>, page: PageRequest) -> Page<T> {
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Page {
        items: page.slice(items),
        total,
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

struct Users(InMemoryStore);
struct Contents(InMemoryStore);
struct Interactions(InMemoryStore);
struct Recommendations(InMemoryStore);
struct Jobs(InMemoryStore);
struct System(InMemoryStore);
struct Queue(InMemoryStore);
struct Recommender(InMemoryStore);
struct Experiments(InMemoryStore);

impl Recommender {
    /// The store's current data as the recommender sees it, sharing the stored builds.
    fn snapshot(&self) -> Snapshot {
        let s = self.0.lock();
        let items = s.content.values().map(ItemFacts::of).collect();
        let signals = s
            .interactions
            .values()
            .map(|i| {
                let signal = Signal {
                    item: i.content_item_id,
                    kind: i.interaction_type,
                    rating: i.rating,
                    at: i.created_at,
                };
                (i.id.0, i.user_id, signal)
            })
            .collect();
        let preferences = s.users.values().map(|u| (u.id, u.preferences.clone())).collect();
        let mut rejected: std::collections::HashMap<UserId, Vec<ContentId>> = Default::default();
        for r in s.recommendations.values() {
            let kind = r
                .metadata
                .get("feedback")
                .and_then(|f| f.get("type"))
                .and_then(Value::as_str);
            if matches!(kind, Some("disliked" | "dismissed")) {
                rejected.entry(r.user_id).or_default().push(r.content_item_id);
            }
        }
        Snapshot::with_ids(items, signals, s.recommender.clone())
            .with_preferences(preferences)
            .with_rejected(rejected)
    }
}

#[async_trait]
impl RecommenderData for Recommender {
    async fn user_state(&self, user: UserId, limit: usize) -> DomainResult<UserState> {
        self.snapshot().user_state(user, limit).await
    }

    async fn candidates(&self, request: &CandidateRequest) -> DomainResult<CandidateLists> {
        self.snapshot().candidates(request).await
    }

    async fn popular_live(
        &self,
        since: Timestamp,
        weights: &[(&'static str, f64)],
        limit: usize,
    ) -> DomainResult<Vec<(ContentId, f64)>> {
        self.snapshot().popular_live(since, weights, limit).await
    }

    async fn tagged_live(&self, tags: &[String], limit: usize) -> DomainResult<Vec<ContentId>> {
        self.snapshot().tagged_live(tags, limit).await
    }

    async fn facts(&self, ids: &[ContentId]) -> DomainResult<Vec<ItemFacts>> {
        self.snapshot().facts(ids).await
    }
}

#[async_trait]
impl RecommenderBuildStore for Recommender {
    async fn signals(&self, after: i64, limit: usize) -> DomainResult<Vec<(i64, UserId, Signal)>> {
        self.snapshot().signals(after, limit).await
    }

    async fn items(&self, after: ContentId, limit: usize) -> DomainResult<Vec<ItemFacts>> {
        RecommenderBuildStore::items(&self.snapshot(), after, limit).await
    }

    async fn status(&self, now: Timestamp) -> DomainResult<BuildStatus> {
        self.snapshot().status(now).await
    }

    async fn request_build(&self, full: bool, now: Timestamp) -> DomainResult<()> {
        self.snapshot().request_build(full, now).await
    }

    async fn claim_build(
        &self,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> DomainResult<Option<BuildClaim>> {
        self.snapshot().claim_build(worker, now, until).await
    }

    async fn finish_build(&self, worker: &str, error: Option<&str>) -> DomainResult<()> {
        self.snapshot().finish_build(worker, error).await
    }

    async fn save_build(
        &self,
        rows: Vec<ItemRow>,
        tags: Vec<TagRow>,
        model: Model,
        eras: Vec<EraRow>,
        info: BuildInfo,
        full: bool,
    ) -> DomainResult<()> {
        self.snapshot()
            .save_build(rows, tags, model, eras, info, full)
            .await
    }
}

#[async_trait]
impl UserRepository for Users {
    async fn insert(&self, user: NewUser, now: Timestamp) -> DomainResult<User> {
        let mut s = self.0.lock();
        if s.users.values().any(|u| u.username == user.username.as_str()) {
            return Err(DomainError::Conflict("Username already exists".into()));
        }
        if s.users.values().any(|u| u.email == user.email.as_str()) {
            return Err(DomainError::Conflict("Email already exists".into()));
        }
        let id = UserId(s.next());
        let user = User {
            id,
            username: user.username.into_inner(),
            email: user.email.into_inner(),
            created_at: now,
            updated_at: now,
            preferences: user.preferences,
            is_active: true,
        };
        s.users.insert(id, user.clone());
        Ok(user)
    }

    async fn get(&self, id: UserId) -> DomainResult<Option<User>> {
        Ok(self.0.lock().users.get(&id).cloned())
    }

    async fn get_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>> {
        let s = self.0.lock();
        Ok(ids.iter().filter_map(|id| s.users.get(id).cloned()).collect())
    }

    async fn find_by_username(&self, username: &str) -> DomainResult<Option<User>> {
        Ok(self
            .0
            .lock()
            .users
            .values()
            .find(|u| u.username == username)
            .cloned())
    }

    async fn find_by_email(&self, email: &str) -> DomainResult<Option<User>> {
        Ok(self.0.lock().users.values().find(|u| u.email == email).cloned())
    }

    async fn update(&self, id: UserId, changes: UserChanges, now: Timestamp) -> DomainResult<Option<User>> {
        let mut s = self.0.lock();
        if let Some(name) = &changes.username
            && s.users
                .values()
                .any(|u| u.id != id && u.username == name.as_str())
        {
            return Err(DomainError::Conflict("Username already exists".into()));
        }
        if let Some(email) = &changes.email
            && s.users.values().any(|u| u.id != id && u.email == email.as_str())
        {
            return Err(DomainError::Conflict("Email already exists".into()));
        }
        let Some(user) = s.users.get_mut(&id) else {
            return Ok(None);
        };
        if changes.changes(user) {
            if let Some(name) = changes.username {
                user.username = name.into_inner();
            }
            if let Some(email) = changes.email {
                user.email = email.into_inner();
            }
            if let Some(active) = changes.is_active {
                user.is_active = active;
            }
            user.updated_at = now;
        }
        Ok(Some(user.clone()))
    }

    async fn merge_preferences(
        &self,
        id: UserId,
        preferences: JsonObject,
        now: Timestamp,
    ) -> DomainResult<Option<User>> {
        let mut s = self.0.lock();
        let Some(user) = s.users.get_mut(&id) else {
            return Ok(None);
        };
        user.preferences.extend(preferences);
        user.updated_at = now;
        Ok(Some(user.clone()))
    }

    async fn list(&self, query: &UserQuery, page: PageRequest) -> DomainResult<Page<User>> {
        let s = self.0.lock();
        let needle = Value::Object(query.preferences.clone());
        let users: Vec<User> = s
            .users
            .values()
            .filter(|u| !query.active_only || u.is_active)
            .filter(|u| {
                query.preferences.is_empty() || json_contains(&Value::Object(u.preferences.clone()), &needle)
            })
            .cloned()
            .collect();
        Ok(paged(users, page))
    }

    async fn activity(&self, id: UserId) -> DomainResult<UserActivity> {
        let s = self.0.lock();
        let mine: Vec<&Interaction> = s.interactions.values().filter(|i| i.user_id == id).collect();
        Ok(UserActivity {
            total_interactions: mine.len() as i64,
            content_created: s.content.values().filter(|c| c.creator_id == id).count() as i64,
            avg_rating_given: mean(mine.iter().filter_map(|i| i.rating).map(f64::from)).unwrap_or(0.0),
        })
    }

    async fn overview(&self) -> DomainResult<UserOverview> {
        let s = self.0.lock();
        Ok(UserOverview {
            total: s.users.len() as i64,
            active: s.users.values().filter(|u| u.is_active).count() as i64,
        })
    }
}

fn content_matches(c: &Content, q: &ContentQuery) -> bool {
    if let Some(term) = &q.search_term
        && !c.title.to_lowercase().contains(&term.to_lowercase())
    {
        return false;
    }
    q.matches_filters(c)
}

impl Contents {
    fn matching(&self, query: &ContentQuery) -> Vec<Content> {
        let s = self.0.lock();
        let mut items: Vec<Content> = s
            .content
            .values()
            .filter(|c| content_matches(c, query))
            .cloned()
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        items
    }
}

#[async_trait]
impl ContentRepository for Contents {
    async fn insert(&self, content: NewContent, quality_score: f64, now: Timestamp) -> DomainResult<Content> {
        let mut s = self.0.lock();
        if !s.users.contains_key(&content.creator_id) {
            return Err(DomainError::rule("Creator not found"));
        }
        let item = stored_content(ContentId(s.next()), content, quality_score, now);
        s.content.insert(item.id, item.clone());
        Ok(item)
    }

    async fn get(&self, id: ContentId) -> DomainResult<Option<Content>> {
        Ok(self.0.lock().content.get(&id).cloned())
    }

    async fn get_many(&self, ids: &[ContentId]) -> DomainResult<Vec<Content>> {
        let s = self.0.lock();
        Ok(ids.iter().filter_map(|id| s.content.get(id).cloned()).collect())
    }

    async fn existing(&self, ids: &[ContentId]) -> DomainResult<Vec<ContentId>> {
        let s = self.0.lock();
        Ok(ids
            .iter()
            .filter(|id| s.content.contains_key(id))
            .copied()
            .collect())
    }

    async fn update(
        &self,
        id: ContentId,
        changes: ContentChanges,
        now: Timestamp,
    ) -> DomainResult<Option<Content>> {
        let mut s = self.0.lock();
        let Some(c) = s.content.get_mut(&id) else {
            return Ok(None);
        };
        let public = changes.is_public.unwrap_or(c.is_public);
        let private = changes.is_private.unwrap_or(c.is_private);
        if public && private {
            return Err(DomainError::rule("Content cannot be both public and private"));
        }
        if let Some(title) = changes.title {
            c.title = title;
        }
        if let Some(data) = changes.content_data {
            c.content_data = data;
        }
        if let Some(metadata) = changes.item_metadata {
            c.item_metadata = metadata;
        }
        if let Some(tags) = changes.tags {
            c.tags = tags.into_inner();
        }
        c.is_public = public;
        c.is_private = private;
        c.updated_at = now;
        Ok(Some(c.clone()))
    }

    async fn set_quality(&self, id: ContentId, score: f64, now: Timestamp) -> DomainResult<Option<Content>> {
        let mut s = self.0.lock();
        let Some(c) = s.content.get_mut(&id) else {
            return Ok(None);
        };
        c.quality_score = score;
        c.updated_at = now;
        Ok(Some(c.clone()))
    }

    async fn delete(&self, id: ContentId) -> DomainResult<bool> {
        let mut s = self.0.lock();
        if s.content.remove(&id).is_none() {
            return Ok(false);
        }
        s.interactions.retain(|_, i| i.content_item_id != id);
        s.recommendations.retain(|_, r| r.content_item_id != id);
        for job in s.jobs.values_mut().filter(|j| j.result_content_id == Some(id)) {
            job.result_content_id = None;
        }
        Ok(true)
    }

    async fn list(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Page<Content>> {
        Ok(paged(self.matching(query), page))
    }

    async fn fetch(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Vec<Content>> {
        Ok(page.slice(self.matching(query)))
    }

    async fn top_rated(&self, limit: i64) -> DomainResult<Vec<Content>> {
        let s = self.0.lock();
        let mut items: Vec<Content> = s
            .content
            .values()
            .filter(|c| c.quality_score > 0.0)
            .cloned()
            .collect();
        items.sort_by(|a, b| b.quality_score.total_cmp(&a.quality_score).then(a.id.cmp(&b.id)));
        Ok(PageRequest::first(limit).slice(items))
    }

    async fn stats(&self) -> DomainResult<ContentStats> {
        let s = self.0.lock();
        let count = |f: &dyn Fn(&Content) -> bool| s.content.values().filter(|c| f(c)).count() as i64;
        Ok(ContentStats {
            total: s.content.len() as i64,
            public: count(&|c| c.is_listed_publicly()),
            private: count(&|c| c.is_private),
            by_type: ContentType::ALL
                .iter()
                .map(|t| (*t, count(&|c| c.content_type == *t)))
                .collect(),
        })
    }
}

fn interaction_matches(i: &Interaction, q: &InteractionQuery) -> bool {
    q.user_id.is_none_or(|u| i.user_id == u)
        && q.content_item_id.is_none_or(|c| i.content_item_id == c)
        && q.interaction_type.is_none_or(|t| i.interaction_type == t)
        && q.since.is_none_or(|since| i.created_at >= since)
}

impl Interactions {
    fn matching(&self, query: &InteractionQuery) -> Vec<Interaction> {
        let s = self.0.lock();
        let mut items: Vec<Interaction> = s
            .interactions
            .values()
            .filter(|i| interaction_matches(i, query))
            .cloned()
            .collect();
        items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        items
    }
}

/// The stored form of a new item, as both content creation and job completion store it.
fn stored_content(id: ContentId, content: NewContent, quality_score: f64, now: Timestamp) -> Content {
    Content {
        id,
        title: content.title,
        content_type: content.content_type,
        content_data: content.content_data,
        item_metadata: content.item_metadata,
        creator_id: content.creator_id,
        created_at: now,
        updated_at: now,
        tags: content.tags.into_inner(),
        quality_score,
        is_public: content.is_public,
        is_private: content.is_private,
    }
}

fn store_interaction(s: &mut State, new: NewInteraction, now: Timestamp) -> DomainResult<Interaction> {
    if !s.users.contains_key(&new.user_id) {
        return Err(DomainError::rule("User not found"));
    }
    if !s.content.contains_key(&new.content_item_id) {
        return Err(DomainError::rule("Content not found"));
    }
    let id = InteractionId(s.next());
    let interaction = Interaction {
        id,
        user_id: new.user_id,
        content_item_id: new.content_item_id,
        interaction_type: new.interaction_type,
        rating: new.rating,
        duration: new.duration,
        created_at: now,
        metadata: new.metadata,
    };
    s.interactions.insert(id, interaction.clone());
    Ok(interaction)
}

#[async_trait]
impl InteractionRepository for Interactions {
    async fn insert(&self, interaction: NewInteraction, now: Timestamp) -> DomainResult<Interaction> {
        store_interaction(&mut self.0.lock(), interaction, now)
    }

    async fn insert_if_active(
        &self,
        interaction: NewInteraction,
        now: Timestamp,
    ) -> DomainResult<Option<Interaction>> {
        let mut s = self.0.lock();
        if !s.users.get(&interaction.user_id).is_some_and(|u| u.is_active) {
            return Ok(None);
        }
        store_interaction(&mut s, interaction, now).map(Some)
    }

    async fn get(&self, id: InteractionId) -> DomainResult<Option<Interaction>> {
        Ok(self.0.lock().interactions.get(&id).cloned())
    }

    async fn update(
        &self,
        id: InteractionId,
        changes: InteractionChanges,
    ) -> DomainResult<Option<Interaction>> {
        let mut s = self.0.lock();
        let Some(i) = s.interactions.get_mut(&id) else {
            return Ok(None);
        };
        if let Some(rating) = changes.rating {
            i.rating = Some(rating);
        }
        if let Some(duration) = changes.duration {
            i.duration = Some(duration);
        }
        if let Some(metadata) = changes.metadata {
            i.metadata = metadata;
        }
        Ok(Some(i.clone()))
    }

    async fn delete(&self, id: InteractionId) -> DomainResult<bool> {
        Ok(self.0.lock().interactions.remove(&id).is_some())
    }

    async fn list(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Page<Interaction>> {
        Ok(paged(self.matching(query), page))
    }

    async fn fetch(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Vec<Interaction>> {
        Ok(page.slice(self.matching(query)))
    }

    async fn latest_between(
        &self,
        user: UserId,
        content: ContentId,
        interaction_type: &str,
    ) -> DomainResult<Option<Interaction>> {
        let query = InteractionQuery {
            user_id: Some(user),
            content_item_id: Some(content),
            ..Default::default()
        };
        Ok(self
            .matching(&query)
            .into_iter()
            .find(|i| i.interaction_type.as_str() == interaction_type))
    }

    async fn aggregate(&self, query: &InteractionQuery) -> DomainResult<Vec<TypeAggregate>> {
        let items = self.matching(query);
        Ok(InteractionType::ALL
            .iter()
            .filter_map(|t| {
                let of_type: Vec<&Interaction> = items.iter().filter(|i| i.interaction_type == *t).collect();
                (!of_type.is_empty()).then(|| TypeAggregate {
                    interaction_type: *t,
                    count: of_type.len() as i64,
                    avg_rating: mean(of_type.iter().filter_map(|i| i.rating).map(f64::from)),
                    avg_duration: mean(of_type.iter().filter_map(|i| i.duration).map(f64::from)),
                })
            })
            .collect())
    }

    async fn count_by_type(&self) -> DomainResult<Vec<(InteractionType, i64)>> {
        let s = self.0.lock();
        Ok(InteractionType::ALL
            .iter()
            .map(|t| {
                let n = s
                    .interactions
                    .values()
                    .filter(|i| i.interaction_type == *t)
                    .count();
                (*t, n as i64)
            })
            .collect())
    }

    async fn checkpoint_counts(&self) -> DomainResult<i64> {
        let mut s = self.0.lock();
        s.count_checkpoints += 1;
        Ok(s.interactions.keys().next_back().map_or(0, |id| id.0))
    }

    async fn favorite_content_types(&self, user: UserId, limit: i64) -> DomainResult<Vec<ContentType>> {
        let s = self.0.lock();
        let mut counts: Vec<(ContentType, usize)> = ContentType::ALL
            .iter()
            .map(|t| {
                let n = s
                    .interactions
                    .values()
                    .filter(|i| i.user_id == user)
                    .filter(|i| {
                        s.content
                            .get(&i.content_item_id)
                            .is_some_and(|c| c.content_type == *t)
                    })
                    .count();
                (*t, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(PageRequest::first(limit).slice(counts.into_iter().map(|(t, _)| t).collect()))
    }
}

fn rec_matches(r: &Recommendation, q: &RecommendationQuery) -> bool {
    q.user_id.is_none_or(|u| r.user_id == u)
        && q.content_item_id.is_none_or(|c| r.content_item_id == c)
        && q.algorithm_version
            .as_ref()
            .is_none_or(|a| &r.algorithm_version == a)
        && q.min_score.is_none_or(|m| r.score >= m)
        && (!q.unserved_only || (!r.is_served && r.served_at.is_none()))
        && q.since.is_none_or(|since| r.created_at >= since)
}

impl Recommendations {
    fn matching(&self, query: &RecommendationQuery) -> Vec<Recommendation> {
        let s = self.0.lock();
        let mut items: Vec<Recommendation> = s
            .recommendations
            .values()
            .filter(|r| rec_matches(r, query))
            .cloned()
            .collect();
        match query.order {
            RecommendationOrder::ScoreDesc => {
                items.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)))
            }
            RecommendationOrder::NewestFirst => {
                items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)))
            }
        }
        items
    }
}

fn store_recommendation(
    s: &mut State,
    new: NewRecommendation,
    now: Timestamp,
) -> DomainResult<Recommendation> {
    if !s.users.contains_key(&new.user_id) || !s.content.contains_key(&new.content_item_id) {
        return Err(DomainError::rule("User or content not found"));
    }
    let id = RecommendationId(s.next());
    let rec = Recommendation {
        id,
        user_id: new.user_id,
        content_item_id: new.content_item_id,
        score: new.score,
        algorithm_version: new.algorithm_version,
        created_at: now,
        is_served: false,
        served_at: None,
        metadata: new.metadata,
    };
    s.recommendations.insert(id, rec.clone());
    Ok(rec)
}

#[async_trait]
impl RecommendationRepository for Recommendations {
    async fn insert(
        &self,
        recommendation: NewRecommendation,
        now: Timestamp,
    ) -> DomainResult<Recommendation> {
        store_recommendation(&mut self.0.lock(), recommendation, now)
    }

    async fn insert_many(
        &self,
        recommendations: Vec<NewRecommendation>,
        now: Timestamp,
    ) -> DomainResult<Vec<Recommendation>> {
        let mut s = self.0.lock();
        let ok = recommendations
            .iter()
            .all(|r| s.users.contains_key(&r.user_id) && s.content.contains_key(&r.content_item_id));
        if !ok {
            return Err(DomainError::rule("User or content not found"));
        }
        recommendations
            .into_iter()
            .map(|r| store_recommendation(&mut s, r, now))
            .collect()
    }

    async fn get(&self, id: RecommendationId) -> DomainResult<Option<Recommendation>> {
        Ok(self.0.lock().recommendations.get(&id).cloned())
    }

    async fn update(
        &self,
        id: RecommendationId,
        changes: RecommendationChanges,
    ) -> DomainResult<Option<Recommendation>> {
        let mut s = self.0.lock();
        let Some(r) = s.recommendations.get_mut(&id) else {
            return Ok(None);
        };
        if let Some(score) = changes.score {
            r.score = score;
        }
        if let Some(metadata) = changes.metadata {
            r.metadata = metadata;
        }
        Ok(Some(r.clone()))
    }

    async fn delete(&self, id: RecommendationId) -> DomainResult<bool> {
        Ok(self.0.lock().recommendations.remove(&id).is_some())
    }

    async fn list(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Page<Recommendation>> {
        Ok(paged(self.matching(query), page))
    }

    async fn list_for_user(
        &self,
        user: UserId,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<ForUser<Page<Recommendation>>> {
        let active = self.0.lock().users.get(&user).map(|u| u.is_active);
        Ok(match active {
            None => ForUser::Missing,
            Some(false) => ForUser::Inactive,
            Some(true) => ForUser::Active(paged(self.matching(query), page)),
        })
    }

    async fn fetch(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Vec<Recommendation>> {
        Ok(page.slice(self.matching(query)))
    }

    async fn mark_served(&self, ids: &[RecommendationId], now: Timestamp) -> DomainResult<u64> {
        let mut s = self.0.lock();
        if let Some(missing) = ids.iter().find(|id| !s.recommendations.contains_key(id)) {
            return Err(DomainError::not_found(crate::Entity::Recommendation, missing));
        }
        let distinct: HashSet<&RecommendationId> = ids.iter().collect();
        for id in &distinct {
            if let Some(r) = s.recommendations.get_mut(id) {
                r.is_served = true;
                r.served_at = Some(now);
            }
        }
        Ok(distinct.len() as u64)
    }

    async fn record_feedback(
        &self,
        id: RecommendationId,
        metadata: JsonObject,
        interaction: Option<NewInteraction>,
        reject: bool,
        now: Timestamp,
    ) -> DomainResult<Option<Recommendation>> {
        let mut s = self.0.lock();
        if !s.recommendations.contains_key(&id) {
            return Ok(None);
        }
        if let Some(interaction) = interaction {
            store_interaction(&mut s, interaction, now)?;
        }
        let Some(r) = s.recommendations.get_mut(&id) else {
            return Ok(None);
        };
        r.metadata = metadata;
        if reject && !r.is_served {
            r.is_served = true;
            r.served_at = Some(now);
        }
        let rec = r.clone();
        if reject {
            s.recommendations.retain(|other, o| {
                *other == id
                    || o.user_id != rec.user_id
                    || o.content_item_id != rec.content_item_id
                    || o.is_served
            });
        }
        Ok(Some(rec))
    }

    async fn stats(&self, user: Option<UserId>) -> DomainResult<RecommendationStats> {
        let items = self.matching(&RecommendationQuery {
            user_id: user,
            ..Default::default()
        });
        let mut labels: Vec<String> = items.iter().map(|r| r.algorithm_version.clone()).collect();
        labels.sort();
        labels.dedup();
        Ok(RecommendationStats {
            total: items.len() as i64,
            served: items.iter().filter(|r| r.is_served).count() as i64,
            average_score: mean(items.iter().map(|r| r.score)).unwrap_or(0.0),
            by_algorithm: labels
                .into_iter()
                .map(|label| {
                    let of: Vec<f64> = items
                        .iter()
                        .filter(|r| r.algorithm_version == label)
                        .map(|r| r.score)
                        .collect();
                    AlgorithmAggregate {
                        count: of.len() as i64,
                        avg_score: mean(of.into_iter()).unwrap_or(0.0),
                        algorithm_version: label,
                    }
                })
                .collect(),
        })
    }
}

fn job_matches(j: &GenerationJob, q: &JobQuery) -> bool {
    q.user_id.is_none_or(|u| j.user_id == u)
        && q.status.is_none_or(|s| j.status == s)
        && q.job_type.is_none_or(|t| j.job_type == t)
        && q.created_since.is_none_or(|since| j.created_at >= since)
}

impl Jobs {
    fn matching(&self, query: &JobQuery, order: JobOrder) -> Vec<GenerationJob> {
        let s = self.0.lock();
        let mut items: Vec<GenerationJob> = s
            .jobs
            .values()
            .filter(|j| job_matches(j, query))
            .cloned()
            .collect();
        match order {
            JobOrder::NewestFirst => {
                items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)))
            }
            JobOrder::OldestFirst => {
                items.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)))
            }
            JobOrder::StartedFirst => {
                items.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)))
            }
            JobOrder::RecentlyCompleted => {
                items.sort_by(|a, b| b.completed_at.cmp(&a.completed_at).then(b.id.cmp(&a.id)))
            }
        }
        items
    }
}

/// Stores a pending job (the fake's `JobRepository::insert`).
fn insert_job(s: &mut State, job: NewJob, now: Timestamp) -> DomainResult<GenerationJob> {
    if !s.users.contains_key(&job.user_id) {
        return Err(DomainError::not_found(crate::Entity::User, job.user_id));
    }
    let id = JobId(s.next());
    let job = GenerationJob {
        id,
        user_id: job.user_id,
        job_type: job.job_type,
        prompt: job.prompt,
        parameters: job.parameters,
        status: JobStatus::Pending,
        result_content_id: None,
        created_at: now,
        started_at: None,
        completed_at: None,
        error_message: None,
        updated_at: now,
        priority: job.priority,
        attempts: 0,
        max_attempts: 3,
        progress: 0.0,
        event_seq: 0,
        queue_position: None,
        start_deadline_at: job
            .start_deadline_seconds
            .map(|secs| now + chrono::Duration::seconds(i64::from(secs))),
        timeout_seconds: job.timeout_seconds,
        webhook: job.webhook,
    };
    let round = s.next_round(job.user_id, job.priority);
    s.fair_round.insert(id, round);
    s.jobs.insert(id, job);
    s.run_after.insert(id, now);
    s.emit(id, JobEventKind::Queued, JsonObject::new(), now);
    let mut job = s
        .jobs
        .get(&id)
        .cloned()
        .ok_or_else(|| DomainError::unexpected("insert", "vanished"))?;
    job.queue_position = s.queue_position(&job);
    Ok(job)
}

#[async_trait]
impl JobRepository for Jobs {
    async fn insert(&self, job: NewJob, now: Timestamp) -> DomainResult<GenerationJob> {
        insert_job(&mut self.0.lock(), job, now)
    }

    async fn insert_idempotent(
        &self,
        job: NewJob,
        request: IdempotentRequest,
        now: Timestamp,
    ) -> DomainResult<Idempotent<GenerationJob>> {
        let mut s = self.0.lock();
        let cutoff = now - chrono::Duration::hours(IDEMPOTENCY_KEY_TTL_HOURS);
        s.idempotency.retain(|_, (_, _, at)| *at >= cutoff);
        if let Some((fingerprint, job, _)) = s.idempotency.get(&request.key) {
            return if *fingerprint == request.fingerprint {
                Ok(Idempotent::Replayed(job.clone()))
            } else {
                Err(DomainError::rule(IDEMPOTENCY_KEY_REUSED))
            };
        }
        let job = insert_job(&mut s, job, now)?;
        s.idempotency
            .insert(request.key, (request.fingerprint, job.clone(), now));
        Ok(Idempotent::Created(job))
    }

    async fn get(&self, id: JobId) -> DomainResult<Option<GenerationJob>> {
        let s = self.0.lock();
        Ok(s.jobs.get(&id).map(|j| GenerationJob {
            queue_position: s.queue_position(j),
            ..j.clone()
        }))
    }

    async fn update_parameters(
        &self,
        id: JobId,
        parameters: JsonObject,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        let mut s = self.0.lock();
        let Some(j) = s.jobs.get_mut(&id) else {
            return Ok(None);
        };
        if j.status != JobStatus::Pending {
            return Err(DomainError::rule("Can only update pending jobs"));
        }
        j.parameters = parameters;
        j.updated_at = now;
        Ok(Some(j.clone()))
    }

    async fn transition(
        &self,
        id: JobId,
        expected: JobStatus,
        state: JobState,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        let mut s = self.0.lock();
        let Some(j) = s.jobs.get_mut(&id) else {
            return Ok(None);
        };
        if j.status != expected {
            return Ok(None);
        }
        j.status = state.status;
        j.started_at = state.started_at;
        j.completed_at = state.completed_at;
        j.error_message = state.error_message;
        j.updated_at = now;
        s.emit(id, event_for(state.status), JsonObject::new(), now);
        Ok(s.jobs.get(&id).cloned())
    }

    async fn set_result(
        &self,
        id: JobId,
        content: ContentId,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        let mut s = self.0.lock();
        let Some(j) = s.jobs.get_mut(&id) else {
            return Ok(None);
        };
        j.result_content_id = Some(content);
        j.updated_at = now;
        Ok(Some(j.clone()))
    }

    async fn delete(&self, id: JobId) -> DomainResult<bool> {
        Ok(self.0.lock().jobs.remove(&id).is_some())
    }

    async fn list(&self, query: &JobQuery, page: PageRequest) -> DomainResult<Page<GenerationJob>> {
        Ok(paged(self.matching(query, JobOrder::NewestFirst), page))
    }

    async fn fetch(
        &self,
        query: &JobQuery,
        order: JobOrder,
        page: PageRequest,
    ) -> DomainResult<Vec<GenerationJob>> {
        Ok(page.slice(self.matching(query, order)))
    }

    async fn completed_since(
        &self,
        user: Option<UserId>,
        since: Timestamp,
        limit: i64,
    ) -> DomainResult<Vec<GenerationJob>> {
        let query = JobQuery {
            user_id: user,
            status: Some(JobStatus::Completed),
            ..Default::default()
        };
        let items: Vec<GenerationJob> = self
            .matching(&query, JobOrder::RecentlyCompleted)
            .into_iter()
            .filter(|j| j.completed_at.is_some_and(|c| c >= since))
            .collect();
        Ok(PageRequest::first(limit).slice(items))
    }

    async fn stats(&self, user: Option<UserId>) -> DomainResult<JobStats> {
        let items = self.matching(
            &JobQuery {
                user_id: user,
                ..Default::default()
            },
            JobOrder::NewestFirst,
        );
        let count_status = |st: JobStatus| items.iter().filter(|j| j.status == st).count() as i64;
        let count_type = |t: JobType| items.iter().filter(|j| j.job_type == t).count() as i64;
        Ok(JobStats {
            total: items.len() as i64,
            by_status: JobStatus::ALL
                .iter()
                .map(|s| (*s, count_status(*s)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            by_type: JobType::ALL
                .iter()
                .map(|t| (*t, count_type(*t)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            average_processing_seconds: mean(
                items
                    .iter()
                    .filter(|j| j.status == JobStatus::Completed)
                    .filter_map(|j| match (j.started_at, j.completed_at) {
                        (Some(s), Some(c)) => (c - s).num_microseconds().map(|us| us as f64 / 1e6),
                        _ => None,
                    }),
            ),
        })
    }

    async fn queue_counts(&self) -> DomainResult<(i64, i64)> {
        let s = self.0.lock();
        let count = |st: JobStatus| s.jobs.values().filter(|j| j.status == st).count() as i64;
        Ok((count(JobStatus::Pending), count(JobStatus::Running)))
    }

    async fn cancel(&self, id: JobId, now: Timestamp) -> DomainResult<CancelOutcome> {
        let mut s = self.0.lock();
        let Some(j) = s.jobs.get_mut(&id) else {
            return Ok(CancelOutcome::NotFound);
        };
        if j.status.is_terminal() {
            return Ok(CancelOutcome::AlreadyFinished(j.status));
        }
        j.status = JobStatus::Cancelled;
        j.completed_at = Some(now);
        j.updated_at = now;
        s.leases.remove(&id);
        s.emit(id, JobEventKind::Cancelled, JsonObject::new(), now);
        Ok(s.jobs
            .get(&id)
            .cloned()
            .map_or(CancelOutcome::NotFound, |j| CancelOutcome::Cancelled(Box::new(j))))
    }
}

#[async_trait]
impl JobEventLog for Jobs {
    async fn events_since(&self, job: JobId, after: i64) -> DomainResult<Vec<JobEvent>> {
        let s = self.0.lock();
        Ok(s.job_events
            .get(&job)
            .map(|e| e.iter().filter(|e| e.seq > after).cloned().collect())
            .unwrap_or_default())
    }
}

fn add(now: Timestamp, d: std::time::Duration) -> Timestamp {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[async_trait]
impl JobQueue for Queue {
    async fn claim(
        &self,
        _worker: &str,
        max: usize,
        lease: std::time::Duration,
        now: Timestamp,
        per_user: Option<u32>,
    ) -> DomainResult<Vec<GenerationJob>> {
        let mut s = self.0.lock();
        let mut runnable: Vec<GenerationJob> = s
            .jobs
            .values()
            .filter(|j| {
                j.status == JobStatus::Pending
                    && s.run_after.get(&j.id).is_none_or(|t| *t <= now)
                    && j.start_deadline_at.is_none_or(|d| d > now)
            })
            .cloned()
            .collect();
        runnable.sort_by_key(|j| s.queue_order(j));
        let mut running: BTreeMap<UserId, u32> = BTreeMap::new();
        for j in s.jobs.values().filter(|j| j.status == JobStatus::Running) {
            *running.entry(j.user_id).or_default() += 1;
        }
        runnable.retain(|j| {
            let n = running.entry(j.user_id).or_default();
            *n += 1;
            per_user.is_none_or(|cap| *n <= cap)
        });
        let mut claimed = Vec::new();
        for job in runnable.into_iter().take(max) {
            let Some(j) = s.jobs.get_mut(&job.id) else {
                continue;
            };
            j.status = JobStatus::Running;
            j.attempts += 1;
            j.started_at = j.started_at.or(Some(now));
            j.progress = 0.0;
            j.updated_at = now;
            let attempt = j.attempts;
            s.leases.insert(job.id, add(now, lease));
            s.emit(
                job.id,
                JobEventKind::Started,
                data(json!({"attempt": attempt})),
                now,
            );
            claimed.extend(s.jobs.get(&job.id).cloned());
        }
        Ok(claimed)
    }

    async fn heartbeat(&self, leases: &[Lease], until: Timestamp) -> DomainResult<Vec<Lease>> {
        let mut s = self.0.lock();
        let held: Vec<Lease> = leases.iter().filter(|l| s.held(l)).cloned().collect();
        for l in &held {
            s.leases.insert(l.job, until);
        }
        Ok(held)
    }

    async fn progress(&self, lease: &Lease, progress: &Progress, now: Timestamp) -> DomainResult<bool> {
        let mut s = self.0.lock();
        if !s.held(lease) {
            return Ok(false);
        }
        if let Some(j) = s.jobs.get_mut(&lease.job) {
            j.progress = progress.fraction();
        }
        let fraction = progress.fraction();
        let mut details = data(
            json!({"progress": fraction, "step": progress.step, "total": progress.total, "message": progress.message}),
        );
        if let Some(preview) = &progress.preview {
            details.insert("preview".into(), json!(preview));
        }
        s.emit(lease.job, JobEventKind::Progress, details, now);
        Ok(true)
    }

    async fn complete(
        &self,
        lease: &Lease,
        content: NewContent,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        let mut s = self.0.lock();
        if !s.held(lease) {
            return Ok(None);
        }
        let id = ContentId(s.next());
        s.content.insert(id, stored_content(id, content, 0.5, now));
        if let Some(j) = s.jobs.get_mut(&lease.job) {
            j.status = JobStatus::Completed;
            j.result_content_id = Some(id);
            j.completed_at = Some(now);
            j.progress = 1.0;
            j.updated_at = now;
        }
        s.leases.remove(&lease.job);
        s.emit(
            lease.job,
            JobEventKind::Completed,
            data(json!({"result_content_id": id.0})),
            now,
        );
        Ok(s.jobs.get(&lease.job).cloned())
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> DomainResult<bool> {
        let mut s = self.0.lock();
        if !s.held(lease) {
            return Ok(false);
        }
        let retry_at = retry_at.filter(|_| {
            s.jobs
                .get(&lease.job)
                .is_some_and(|j| j.attempts < j.max_attempts)
        });
        if let Some(j) = s.jobs.get_mut(&lease.job) {
            j.error_message = Some(error.to_owned());
            j.updated_at = now;
            match retry_at {
                Some(_) => j.status = JobStatus::Pending,
                None => {
                    j.status = JobStatus::Failed;
                    j.completed_at = Some(now);
                }
            }
        }
        s.leases.remove(&lease.job);
        match retry_at {
            Some(at) => {
                s.run_after.insert(lease.job, at);
                s.emit(
                    lease.job,
                    JobEventKind::Retrying,
                    data(json!({"attempt": lease.attempt, "error_message": error})),
                    now,
                );
            }
            None => s.emit(
                lease.job,
                JobEventKind::Failed,
                data(json!({"error_message": error})),
                now,
            ),
        }
        Ok(true)
    }

    async fn release(&self, lease: &Lease, now: Timestamp) -> DomainResult<bool> {
        let mut s = self.0.lock();
        if !s.held(lease) {
            return Ok(false);
        }
        if let Some(j) = s.jobs.get_mut(&lease.job) {
            j.status = JobStatus::Pending;
            j.attempts -= 1;
            j.updated_at = now;
        }
        s.leases.remove(&lease.job);
        s.run_after.insert(lease.job, now);
        s.emit(lease.job, JobEventKind::Queued, JsonObject::new(), now);
        Ok(true)
    }

    async fn reap(&self, now: Timestamp, retry: &RetryPolicy) -> DomainResult<usize> {
        let mut s = self.0.lock();
        let expired: Vec<JobId> = s
            .leases
            .iter()
            .filter(|(_, until)| **until < now)
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            s.leases.remove(id);
            let Some(j) = s.jobs.get_mut(id) else { continue };
            j.updated_at = now;
            j.error_message = Some("lease expired".into());
            if j.attempts < j.max_attempts {
                j.status = JobStatus::Pending;
                let at = add(now, retry.delay(j.attempts));
                let attempt = j.attempts;
                s.run_after.insert(*id, at);
                s.emit(
                    *id,
                    JobEventKind::Retrying,
                    data(json!({"attempt": attempt, "error_message": "lease expired"})),
                    now,
                );
            } else {
                j.status = JobStatus::Failed;
                j.completed_at = Some(now);
                s.emit(
                    *id,
                    JobEventKind::Failed,
                    data(json!({"error_message": "lease expired"})),
                    now,
                );
            }
        }
        Ok(expired.len())
    }

    async fn cancel_overdue(&self, now: Timestamp) -> DomainResult<usize> {
        let mut s = self.0.lock();
        let overdue: Vec<JobId> = s
            .jobs
            .values()
            .filter(|j| j.status == JobStatus::Pending && j.start_deadline_at.is_some_and(|d| d <= now))
            .map(|j| j.id)
            .collect();
        for id in &overdue {
            let Some(j) = s.jobs.get_mut(id) else { continue };
            j.status = JobStatus::Cancelled;
            j.completed_at = Some(now);
            j.updated_at = now;
            j.error_message = Some(crate::model::START_DEADLINE_PASSED.into());
            s.emit(
                *id,
                JobEventKind::Cancelled,
                data(json!({"error_message": crate::model::START_DEADLINE_PASSED})),
                now,
            );
        }
        Ok(overdue.len())
    }
}

#[async_trait]
impl SystemRepository for System {
    async fn ping(&self) -> DomainResult<()> {
        Ok(())
    }

    async fn global_stats(&self) -> DomainResult<GlobalStats> {
        let s = self.0.lock();
        let jobs = |st: JobStatus| s.jobs.values().filter(|j| j.status == st).count() as i64;
        Ok(GlobalStats {
            users: s.users.len() as i64,
            active_users: s.users.values().filter(|u| u.is_active).count() as i64,
            content: s.content.len() as i64,
            public_content: s.content.values().filter(|c| c.is_listed_publicly()).count() as i64,
            private_content: s.content.values().filter(|c| c.is_private).count() as i64,
            interactions: s.interactions.len() as i64,
            recommendations: s.recommendations.len() as i64,
            served_recommendations: s.recommendations.values().filter(|r| r.is_served).count() as i64,
            jobs: s.jobs.len() as i64,
            running_jobs: jobs(JobStatus::Running),
            completed_jobs: jobs(JobStatus::Completed),
            failed_jobs: jobs(JobStatus::Failed),
        })
    }

    async fn info(&self) -> DomainResult<StoreInfo> {
        let s = self.0.lock();
        Ok(StoreInfo {
            migration_version: None,
            approximate_rows: vec![
                ("users".into(), s.users.len() as i64),
                ("content_items".into(), s.content.len() as i64),
                ("user_interactions".into(), s.interactions.len() as i64),
                ("recommendations".into(), s.recommendations.len() as i64),
                ("generation_jobs".into(), s.jobs.len() as i64),
            ],
        })
    }
}

/// [`EmbeddingStore`](crate::ports::EmbeddingStore) over the store: an item needs a vector
/// when it has none or was updated after it was computed.
struct Embeddings(InMemoryStore);

impl Embeddings {
    fn needing_items(&self) -> Vec<Content> {
        let state = self.0.lock();
        let mut items: Vec<Content> = state
            .content
            .values()
            .filter(|c| state.embeddings.get(&c.id).is_none_or(|e| c.updated_at > e.2))
            .cloned()
            .collect();
        items.sort_by_key(|c| std::cmp::Reverse(c.id));
        items
    }
}

#[async_trait]
impl crate::ports::EmbeddingStore for Embeddings {
    async fn needing(&self, _pending_only: bool, limit: usize) -> DomainResult<Vec<Content>> {
        Ok(self.needing_items().into_iter().take(limit).collect())
    }

    async fn count_needing(&self) -> DomainResult<i64> {
        Ok(self.needing_items().len() as i64)
    }

    async fn save(&self, model: &str, vectors: &[(ContentId, Vec<f32>)], now: Timestamp) -> DomainResult<()> {
        let mut state = self.0.lock();
        for (id, v) in vectors {
            if state.content.contains_key(id) {
                state.embeddings.insert(*id, (model.to_owned(), v.clone(), now));
            }
        }
        Ok(())
    }

    async fn changed(
        &self,
        since: Option<Timestamp>,
        after: Option<(Timestamp, ContentId)>,
        limit: usize,
    ) -> DomainResult<Vec<crate::ports::StoredVector>> {
        let state = self.0.lock();
        let mut rows: Vec<crate::ports::StoredVector> = state
            .embeddings
            .iter()
            .filter(|(id, e)| state.content.contains_key(id) && since.is_none_or(|s| e.2 >= s))
            .filter(|(id, e)| after.is_none_or(|a| (e.2, **id) > a))
            .map(|(id, e)| crate::ports::StoredVector {
                item: *id,
                vector: e.1.clone(),
                updated_at: e.2,
            })
            .collect();
        rows.sort_by_key(|r| (r.updated_at, r.item));
        rows.truncate(limit);
        Ok(rows)
    }
}

#[async_trait]
impl ExperimentRepository for Experiments {
    async fn insert(&self, new: NewExperiment, now: Timestamp) -> DomainResult<Experiment> {
        let mut state = self.0.lock();
        if state.experiments.values().any(|e| e.name == new.name) {
            return Err(DomainError::Conflict("Duplicate value".into()));
        }
        let id = crate::ids::ExperimentId(state.next());
        let experiment = Experiment {
            id,
            name: new.name,
            description: new.description,
            variants: new.variants,
            engagement_window_hours: new.engagement_window_hours,
            created_at: now,
            stopped_at: None,
        };
        state.experiments.insert(id, experiment.clone());
        Ok(experiment)
    }

    async fn get(&self, id: crate::ids::ExperimentId) -> DomainResult<Option<Experiment>> {
        Ok(self.0.lock().experiments.get(&id).cloned())
    }

    async fn by_name(&self, name: &str) -> DomainResult<Option<Experiment>> {
        Ok(self
            .0
            .lock()
            .experiments
            .values()
            .find(|e| e.name == name)
            .cloned())
    }

    async fn list(&self, page: PageRequest) -> DomainResult<Page<Experiment>> {
        let all: Vec<Experiment> = self.0.lock().experiments.values().rev().cloned().collect();
        Ok(paged(all, page))
    }

    async fn stop(&self, id: crate::ids::ExperimentId, now: Timestamp) -> DomainResult<Option<Experiment>> {
        let mut state = self.0.lock();
        Ok(state.experiments.get_mut(&id).map(|e| {
            e.stopped_at.get_or_insert(now);
            e.clone()
        }))
    }

    async fn counts(
        &self,
        id: crate::ids::ExperimentId,
        window_hours: i32,
    ) -> DomainResult<Vec<VariantCounts>> {
        let state = self.0.lock();
        let window = chrono::Duration::hours(i64::from(window_hours));
        let mut by_variant: BTreeMap<String, (HashSet<UserId>, VariantCounts)> = BTreeMap::new();
        for rec in state.recommendations.values() {
            let Some(tag) = rec.metadata.get("experiment") else {
                continue;
            };
            let same = tag.get("id").map(|v| match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => String::new(),
            });
            if same.as_deref() != Some(id.0.to_string().as_str()) {
                continue;
            }
            let Some(variant) = tag.get("variant").and_then(Value::as_str) else {
                continue;
            };
            let (users, counts) = by_variant.entry(variant.to_owned()).or_default();
            counts.variant = variant.to_owned();
            users.insert(rec.user_id);
            counts.served += 1;
            let until = rec.served_at.unwrap_or(rec.created_at) + window;
            let engaged = state.interactions.values().any(|i| {
                i.user_id == rec.user_id
                    && i.content_item_id == rec.content_item_id
                    && i.created_at >= rec.created_at
                    && i.created_at <= until
                    && (matches!(
                        i.interaction_type,
                        InteractionType::Like
                            | InteractionType::Bookmark
                            | InteractionType::Share
                            | InteractionType::Download
                    ) || (i.interaction_type == InteractionType::Rate
                        && i.rating.is_some_and(|r| r >= 4)))
            });
            counts.engaged += i64::from(engaged);
            let rejected = rec
                .metadata
                .get("feedback")
                .and_then(|f| f.get("type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t == "disliked" || t == "dismissed");
            counts.rejected += i64::from(rejected);
        }
        Ok(by_variant
            .into_values()
            .map(|(users, mut counts)| {
                counts.users = i64::try_from(users.len()).unwrap_or(i64::MAX);
                counts
            })
            .collect())
    }
}

struct Webhooks(InMemoryStore);

#[async_trait]
impl WebhookOutbox for Webhooks {
    async fn claim(
        &self,
        now: Timestamp,
        hold_until: Timestamp,
        limit: usize,
    ) -> DomainResult<Vec<DueDelivery>> {
        let mut s = self.0.lock();
        let mut heads: Vec<usize> = Vec::new();
        for (i, (_, d, _)) in s.webhooks.iter().enumerate() {
            if d.status != DeliveryStatus::Pending {
                continue;
            }
            // Only the earliest pending delivery of each job.
            let first = s.webhooks.iter().all(|(_, e, _)| {
                e.job_id != d.job_id || e.status != DeliveryStatus::Pending || e.seq >= d.seq
            });
            if first && d.next_attempt_at.is_some_and(|at| at <= now) {
                heads.push(i);
            }
        }
        heads.truncate(limit);
        let mut due = Vec::new();
        for i in heads {
            let (row, delivery, url) = {
                let (row, d, url) = &mut s.webhooks[i];
                d.attempts += 1;
                d.next_attempt_at = Some(hold_until);
                (*row, d.clone(), url.clone())
            };
            let event = s
                .job_events
                .get(&delivery.job_id)
                .and_then(|events| events.iter().find(|e| e.seq == delivery.seq))
                .cloned()
                .ok_or_else(|| DomainError::unexpected("claiming a webhook delivery", "its event is gone"))?;
            due.push(DueDelivery {
                id: row,
                webhook_id: delivery.webhook_id,
                url,
                event,
                attempts: delivery.attempts,
                created_at: delivery.created_at,
            });
        }
        Ok(due)
    }

    async fn finish(&self, id: i64, record: AttemptRecord) -> DomainResult<()> {
        let mut s = self.0.lock();
        if let Some((_, d, _)) = s.webhooks.iter_mut().find(|(row, _, _)| *row == id) {
            d.status = record.status;
            d.last_status = record.last_status;
            d.last_error = record.last_error;
            d.next_attempt_at = record.next_attempt_at;
            d.delivered_at = record.delivered_at;
        }
        Ok(())
    }

    async fn deliveries(&self, job: JobId) -> DomainResult<Vec<WebhookDelivery>> {
        let s = self.0.lock();
        let mut out: Vec<WebhookDelivery> = s
            .webhooks
            .iter()
            .filter(|(_, d, _)| d.job_id == job)
            .map(|(_, d, _)| d.clone())
            .collect();
        out.sort_by_key(|d| d.seq);
        Ok(out)
    }
}
