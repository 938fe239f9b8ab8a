//! In-memory fakes of every repository port: one store ([`InMemoryStore`]) whose state all
//! of them share, one file per port (mirroring `crates/db/src/repos/`).

mod content;
mod embeddings;
mod experiments;
mod interactions;
mod jobs;
mod queue;
mod recommendations;
mod recommender;
mod system;
mod users;
mod webhooks;

use content::stored_content;
use embeddings::Embeddings;
use interactions::store_interaction;
use jobs::add;
use webhooks::Webhooks;

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
    BuildClaim, BuildInfo, BuildStatus, CandidateLists, CandidateRequest, EraTables, ItemFacts, ItemRow,
    Model, Signal, TagRow, UserState,
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
    /// The webhook outbox: delivery, URL.
    webhooks: Vec<(WebhookDelivery, String)>,
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
            let row = self.webhooks.len() + 1;
            self.webhooks.push((
                WebhookDelivery {
                    // Unique per delivery, as PostgreSQL's random ids are.
                    webhook_id: format!("msg_{row:032x}"),
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
