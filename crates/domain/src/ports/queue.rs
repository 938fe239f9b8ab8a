use std::time::Duration;

use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::JobId;
use crate::model::{GenerationJob, JobEvent, NewContent, Progress, Timestamp};

/// The right to write a claimed job: its id and the attempt number the claim produced.
///
/// Every worker write is guarded by `(job, attempt, status = running)`: once a lease is lost
/// (expired and reaped, cancelled, released) the holder can no longer change the job.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The job.
    pub job: JobId,
    /// The attempt this lease belongs to (the fencing token).
    pub attempt: i32,
}

impl Lease {
    /// The lease a claim produced for `job`.
    pub fn of(job: &GenerationJob) -> Self {
        Lease {
            job: job.id,
            attempt: job.attempts,
        }
    }
}

/// Exponential backoff between attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Delay before the second attempt.
    pub base: Duration,
    /// Upper bound of any delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(2),
            max: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Delay after the `attempt`-th attempt failed: `base × 2^(attempt−1)`, capped at `max`.
    pub fn delay(&self, attempt: i32) -> Duration {
        let exponent = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(20);
        self.base.saturating_mul(1u32 << exponent).min(self.max)
    }
}

/// The generation-job queue as workers see it. Implementations must be safe for any number of
/// workers in any number of processes: claims never hand the same job to two workers, and
/// every write is guarded by the [`Lease`].
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Claims up to `max` runnable pending jobs (`run_after` reached) in queue order: highest
    /// priority first; within a priority, users round-robin (a user's job takes the turn after
    /// that user's previous pending job, never behind the head of the queue); FIFO within a
    /// turn. Marks them running with a new attempt and a lease until
    /// `now + lease`, and records `started` events. The returned jobs carry the new attempt.
    ///
    /// With `per_user = Some(n)`, no user has more than `n` jobs running after the claim (jobs
    /// of users at their cap stay pending, later ones are claimed instead); the cap holds across
    /// concurrent claimers in every process.
    async fn claim(
        &self,
        worker: &str,
        max: usize,
        lease: Duration,
        now: Timestamp,
        per_user: Option<u32>,
    ) -> DomainResult<Vec<GenerationJob>>;

    /// Extends the given leases to `until`; returns the ones still held (others were
    /// cancelled, reaped or released).
    async fn heartbeat(&self, leases: &[Lease], until: Timestamp) -> DomainResult<Vec<Lease>>;

    /// Records progress of a held lease (event `progress`); `false` if the lease is lost.
    async fn progress(&self, lease: &Lease, progress: &Progress, now: Timestamp) -> DomainResult<bool>;

    /// Completes a held lease: stores `content`, links it as the result and records
    /// `completed`, in one transaction. `None` (and nothing stored) if the lease is lost.
    async fn complete(
        &self,
        lease: &Lease,
        content: NewContent,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>>;

    /// Completes many held leases at once: like [`complete`](Self::complete) for each,
    /// returning, in input order, the completed job or `None` for a lease that was lost. Lets
    /// fast workers amortise commits; the default completes them one by one, a database
    /// adapter should do all in one transaction.
    async fn complete_many(
        &self,
        completions: Vec<(Lease, NewContent)>,
        now: Timestamp,
    ) -> DomainResult<Vec<Option<GenerationJob>>> {
        let mut out = Vec::with_capacity(completions.len());
        for (lease, content) in completions {
            out.push(self.complete(&lease, content, now).await?);
        }
        Ok(out)
    }

    /// Fails the attempt of a held lease: back to pending at `retry_at` (event `retrying`) if
    /// given, else `failed` for good. `false` if the lease is lost.
    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> DomainResult<bool>;

    /// Gives a held lease back (graceful shutdown): pending again at once, the attempt not
    /// counted. `false` if it was already lost.
    async fn release(&self, lease: &Lease, now: Timestamp) -> DomainResult<bool>;

    /// Returns running jobs whose lease expired before `now` to pending (after the policy's
    /// delay), or fails them once they used all attempts. Safe to run concurrently. Returns
    /// how many were rescued.
    async fn reap(&self, now: Timestamp, retry: &RetryPolicy) -> DomainResult<usize>;

    /// Ends pending jobs whose start deadline passed at or before `now` as `cancelled`
    /// (`error_message` [`START_DEADLINE_PASSED`](crate::model::START_DEADLINE_PASSED), event
    /// `cancelled`); claims never start them. Safe to run concurrently. Returns how many.
    async fn cancel_overdue(&self, now: Timestamp) -> DomainResult<usize>;
}

/// Wakes idle workers when work arrives (a job is queued or re-queued anywhere).
#[async_trait]
pub trait QueueSignal: Send + Sync {
    /// Waits until new work may be available, or `timeout` passes (polling fallback).
    async fn wait(&self, timeout: Duration);
}

/// What a live subscription yields.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionItem {
    /// The next event of the job (events may repeat or arrive out of order after a resync;
    /// consumers order by `seq`).
    Event(JobEvent),
    /// Events may have been missed (slow consumer, listener reconnect): re-read the log.
    Resync,
}

/// A live feed of one job's events in this process.
#[async_trait]
pub trait JobSubscription: Send {
    /// The next item; `None` when the feed is closed (shutdown).
    async fn next(&mut self) -> Option<SubscriptionItem>;
}

/// Live job events, across processes.
pub trait JobEventSource: Send + Sync {
    /// Subscribes to the events of `job`. Subscribe before reading the log so nothing falls in
    /// between.
    fn subscribe(&self, job: JobId) -> Box<dyn JobSubscription>;
}

/// Hands claimed jobs to a worker in this process (`POST /generation-jobs/queue/process`).
#[async_trait]
pub trait JobDispatch: Send + Sync {
    /// Claims up to `max` pending jobs and starts running them now; returns them as claimed.
    async fn dispatch(&self, max: usize) -> DomainResult<Vec<GenerationJob>>;
}

/// The ordered event log of jobs.
#[async_trait]
pub trait JobEventLog: Send + Sync {
    /// Events of `job` with `seq > after`, oldest first.
    async fn events_since(&self, job: JobId, after: i64) -> DomainResult<Vec<JobEvent>>;
}
