use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::{ContentId, JobId, UserId};
use crate::model::{
    GenerationJob, Idempotent, IdempotentRequest, JobQuery, JobStats, JobStatus, JsonObject, NewJob,
    Timestamp,
};
use crate::page::{Page, PageRequest};

/// The mutable state of a job that a status change writes.
#[derive(Debug, Clone, PartialEq)]
pub struct JobState {
    /// New status.
    pub status: JobStatus,
    /// Start time.
    pub started_at: Option<Timestamp>,
    /// Finish time.
    pub completed_at: Option<Timestamp>,
    /// Error message.
    pub error_message: Option<String>,
}

/// Orderings of job listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobOrder {
    /// `created_at` desc, `id` desc.
    #[default]
    NewestFirst,
    /// `created_at` asc, `id` asc (queue order).
    OldestFirst,
    /// `started_at` asc, `id` asc.
    StartedFirst,
    /// `completed_at` desc, `id` desc.
    RecentlyCompleted,
}

/// Storage of generation jobs.
#[async_trait]
pub trait JobRepository: Send + Sync {
    /// Stores a pending job created at `now`.
    async fn insert(&self, job: NewJob, now: Timestamp) -> DomainResult<GenerationJob>;

    /// Like [`JobRepository::insert`], once per idempotency key, atomically (also when retries
    /// race): the first call with a key creates the job and remembers it as returned; a later
    /// call with the same key and fingerprint, within [`crate::model::IDEMPOTENCY_KEY_TTL_HOURS`]
    /// of the first, returns that snapshot as `Replayed` without creating anything; one with a
    /// different fingerprint is a `DomainError::Rule` (`Rule::IdempotencyKeyReused`).
    /// Older keys are forgotten.
    async fn insert_idempotent(
        &self,
        job: NewJob,
        request: IdempotentRequest,
        now: Timestamp,
    ) -> DomainResult<Idempotent<GenerationJob>>;

    /// The job with this id, if any, with its queue position when pending.
    async fn get(&self, id: JobId) -> DomainResult<Option<GenerationJob>>;

    /// Replaces the parameters if the job is still pending. `None` if it does not exist;
    /// `DomainError::Rule` if it is no longer pending.
    async fn update_parameters(
        &self,
        id: JobId,
        parameters: JsonObject,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>>;

    /// Writes `state` if the job is still in status `expected` (compare-and-set). `None` if it
    /// does not exist or its status changed meanwhile.
    async fn transition(
        &self,
        id: JobId,
        expected: JobStatus,
        state: JobState,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>>;

    /// Links the result content. `None` if the job does not exist.
    async fn set_result(
        &self,
        id: JobId,
        content: ContentId,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>>;

    /// Deletes a finished job; `false` if it did not exist.
    async fn delete(&self, id: JobId) -> DomainResult<bool>;

    /// Jobs matching every filter, newest first, with the total of matches.
    async fn list(&self, query: &JobQuery, page: PageRequest) -> DomainResult<Page<GenerationJob>>;

    /// Jobs matching every filter in the given order, without counting.
    async fn fetch(
        &self,
        query: &JobQuery,
        order: JobOrder,
        page: PageRequest,
    ) -> DomainResult<Vec<GenerationJob>>;

    /// Completed jobs finished at or after `since` (optionally of one user), most recent first.
    async fn completed_since(
        &self,
        user: Option<UserId>,
        since: Timestamp,
        limit: i64,
    ) -> DomainResult<Vec<GenerationJob>>;

    /// Counters, for one user or all. Computed by the store.
    async fn stats(&self, user: Option<UserId>) -> DomainResult<JobStats>;

    /// Number of pending and of running jobs.
    async fn queue_counts(&self) -> DomainResult<(i64, i64)>;

    /// Cancels a pending or running job atomically (event `cancelled`): a pending job never
    /// starts, a running job's worker loses its lease. Finished jobs are left alone.
    async fn cancel(&self, id: JobId, now: Timestamp) -> DomainResult<crate::model::CancelOutcome>;
}
