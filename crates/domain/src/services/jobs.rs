use std::sync::Arc;

use crate::error::{DomainError, DomainResult, Entity, InactiveAction, Invalid, Rule};
use crate::ids::{ContentId, JobId, UserId};
use crate::model::{
    CancelOutcome, GenerationJob, IdempotencyKey, Idempotent, IdempotentRequest, JobEvent, JobQuery,
    JobStats, JobStatus, JobType, JsonObject, NewJob, Timestamp,
};
use crate::page::{Page, PageRequest};
use crate::ports::{
    Clock, ContentRepository, Generator, JobDispatch, JobEventLog, JobEventSource, JobOrder, JobRepository,
    JobState, JobSubscription,
};
use crate::services::{UserService, days_ago};
use crate::values::non_blank;

/// A requested status change (`PUT /generation-jobs/{id}/status`).
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// Target status.
    pub status: JobStatus,
    /// Error message (required, non-empty, for `failed`).
    pub error_message: Option<String>,
}

impl StatusChange {
    /// The state `job` is in after this change at `now`:
    /// entering `running` stamps `started_at` once; entering a finished state stamps
    /// `completed_at` once; going back to `pending`/`running` clears `completed_at` and
    /// `error_message`; a non-empty message is always recorded.
    pub fn apply(&self, job: &GenerationJob, now: Timestamp) -> JobState {
        let reopened = matches!(self.status, JobStatus::Pending | JobStatus::Running);
        let message = self
            .error_message
            .as_deref()
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        JobState {
            status: self.status,
            started_at: match self.status {
                JobStatus::Running => job.started_at.or(Some(now)),
                _ => job.started_at,
            },
            completed_at: if reopened {
                None
            } else {
                job.completed_at.or(Some(now))
            },
            error_message: message.or(if reopened { None } else { job.error_message.clone() }),
        }
    }
}

/// Generation jobs: creation, lifecycle, listings and counters.
#[derive(Clone)]
pub struct JobService {
    jobs: Arc<dyn JobRepository>,
    events: Arc<dyn JobEventLog>,
    content: Arc<dyn ContentRepository>,
    users: UserService,
    clock: Arc<dyn Clock>,
    pub(crate) dispatch: Option<Arc<dyn JobDispatch>>,
    pub(crate) live: Option<Arc<dyn JobEventSource>>,
    pub(crate) generator: Option<Arc<dyn Generator>>,
    pub(crate) outbox: Option<Arc<dyn crate::ports::WebhookOutbox>>,
}

impl JobService {
    /// A service over `jobs`.
    pub fn new(
        jobs: Arc<dyn JobRepository>,
        events: Arc<dyn JobEventLog>,
        content: Arc<dyn ContentRepository>,
        users: UserService,
        clock: Arc<dyn Clock>,
    ) -> Self {
        JobService {
            jobs,
            events,
            content,
            users,
            clock,
            dispatch: None,
            live: None,
            generator: None,
            outbox: None,
        }
    }

    /// Queues a job. Order: user exists (404), active (422), prompt non-blank (422), the
    /// generator accepts the parameters (422 at `parameters.<name>`).
    pub async fn create(&self, mut new: NewJob) -> DomainResult<GenerationJob> {
        self.users
            .get_active(new.user_id, InactiveAction::CreateJobs)
            .await?;
        new.prompt = non_blank(&new.prompt).ok_or_else(|| DomainError::Rule(Rule::EmptyPrompt))?;
        self.check_parameters(new.job_type, &new.parameters)?;
        self.jobs.insert(new, self.clock.now()).await
    }

    /// Queues a job once per idempotency key: the same key with the same command again returns
    /// the job as first created (`Replayed`), with a different command a `Rule` error. The
    /// command is checked as by [`JobService::create`] first.
    pub async fn create_idempotent(
        &self,
        mut new: NewJob,
        key: IdempotencyKey,
    ) -> DomainResult<Idempotent<GenerationJob>> {
        let fingerprint = new.fingerprint();
        self.users
            .get_active(new.user_id, InactiveAction::CreateJobs)
            .await?;
        new.prompt = non_blank(&new.prompt).ok_or_else(|| DomainError::Rule(Rule::EmptyPrompt))?;
        self.check_parameters(new.job_type, &new.parameters)?;
        let request = IdempotentRequest { key, fingerprint };
        self.jobs.insert_idempotent(new, request, self.clock.now()).await
    }

    /// What the configured generator says of `parameters` ([`Generator::validate`]).
    fn check_parameters(&self, job_type: JobType, parameters: &JsonObject) -> DomainResult<()> {
        match &self.generator {
            Some(generator) => {
                generator
                    .validate(job_type, parameters)
                    .map_err(|refusal| DomainError::Invalid {
                        field: vec!["parameters".into(), refusal.parameter],
                        reason: Invalid::Parameter(refusal.message),
                    })
            }
            None => Ok(()),
        }
    }

    /// The job, or `NotFound`.
    pub async fn get(&self, id: JobId) -> DomainResult<GenerationJob> {
        self.jobs
            .get(id)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::GenerationJob, id))
    }

    /// Lists webhook deliveries from `outbox`.
    pub fn with_outbox(mut self, outbox: Arc<dyn crate::ports::WebhookOutbox>) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// The webhook deliveries of job `id` in `seq` order (404 for an unknown job).
    pub async fn webhook_deliveries(&self, id: JobId) -> DomainResult<Vec<crate::model::WebhookDelivery>> {
        self.get(id).await?;
        match &self.outbox {
            Some(outbox) => outbox.deliveries(id).await,
            None => Ok(Vec::new()),
        }
    }

    /// Replaces the parameters of a pending job.
    pub async fn update_parameters(
        &self,
        id: JobId,
        parameters: Option<JsonObject>,
    ) -> DomainResult<GenerationJob> {
        let job = self.get(id).await?;
        if job.status != JobStatus::Pending {
            return Err(DomainError::Rule(Rule::JobNotPending));
        }
        let Some(parameters) = parameters else {
            return Ok(job);
        };
        self.check_parameters(job.job_type, &parameters)?;
        self.jobs
            .update_parameters(id, parameters, self.clock.now())
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::GenerationJob, id))
    }

    /// Deletes a finished job.
    pub async fn delete(&self, id: JobId) -> DomainResult<()> {
        let job = self.get(id).await?;
        if matches!(job.status, JobStatus::Pending | JobStatus::Running) {
            return Err(DomainError::Rule(Rule::JobActive));
        }
        if self.jobs.delete(id).await? {
            Ok(())
        } else {
            Err(DomainError::not_found(Entity::GenerationJob, id))
        }
    }

    /// Sets the status by hand (see [`StatusChange::apply`]). Order: existence (404), error
    /// message present for `failed` (422).
    pub async fn set_status(&self, id: JobId, change: StatusChange) -> DomainResult<GenerationJob> {
        let mut job = self.get(id).await?;
        if change.status == JobStatus::Failed && change.error_message.as_deref().is_none_or(str::is_empty) {
            return Err(DomainError::Rule(Rule::ErrorMessageRequired));
        }
        for _ in 0..3 {
            let now = self.clock.now();
            let state = change.apply(&job, now);
            if let Some(updated) = self.jobs.transition(id, job.status, state, now).await? {
                return Ok(updated);
            }
            job = self.get(id).await?;
        }
        Err(DomainError::Conflict(crate::Conflict::JobChanged))
    }

    /// Links an existing content item as the job's result. Order: content exists, job exists.
    pub async fn set_result(&self, id: JobId, content: ContentId) -> DomainResult<GenerationJob> {
        if self.content.get(content).await?.is_none() {
            return Err(DomainError::not_found(Entity::ContentItem, content));
        }
        self.jobs
            .set_result(id, content, self.clock.now())
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::GenerationJob, id))
    }

    /// Lists with every filter applied; a user filter requires an existing user.
    pub async fn list(&self, query: &JobQuery, page: PageRequest) -> DomainResult<Page<GenerationJob>> {
        if let Some(user) = query.user_id {
            self.users.ensure_exists(user).await?;
        }
        self.jobs.list(query, page).await
    }

    /// `created_at` lower bound for a `days` filter.
    pub fn since(&self, days: i64) -> Timestamp {
        days_ago(self.clock.now(), days)
    }

    /// An existing user's jobs, optionally only those whose status is spelled `status`.
    pub async fn for_user(
        &self,
        user: UserId,
        status: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<GenerationJob>> {
        self.users.ensure_exists(user).await?;
        let status = match status {
            None => None,
            Some(raw) => match JobStatus::parse(raw) {
                Some(s) => Some(s),
                None => return Ok(Page::empty()),
            },
        };
        self.jobs
            .list(
                &JobQuery {
                    user_id: Some(user),
                    status,
                    ..JobQuery::default()
                },
                page,
            )
            .await
    }

    /// Jobs whose status is spelled exactly `raw` (unknown: empty).
    pub async fn by_status(&self, raw: &str, page: PageRequest) -> DomainResult<Page<GenerationJob>> {
        match JobStatus::parse(raw) {
            Some(status) => {
                self.jobs
                    .list(
                        &JobQuery {
                            status: Some(status),
                            ..JobQuery::default()
                        },
                        page,
                    )
                    .await
            }
            None => Ok(Page::empty()),
        }
    }

    /// Jobs of the type spelled `raw` (canonical or alias, any case; unknown: empty).
    pub async fn by_type(&self, raw: &str, page: PageRequest) -> DomainResult<Page<GenerationJob>> {
        match JobType::parse_lenient(raw) {
            Some(job_type) => {
                self.jobs
                    .list(
                        &JobQuery {
                            job_type: Some(job_type),
                            ..JobQuery::default()
                        },
                        page,
                    )
                    .await
            }
            None => Ok(Page::empty()),
        }
    }

    /// Pending jobs in queue order (oldest first).
    pub async fn pending(&self, limit: i64) -> DomainResult<Vec<GenerationJob>> {
        let query = JobQuery {
            status: Some(JobStatus::Pending),
            ..JobQuery::default()
        };
        self.jobs
            .fetch(&query, JobOrder::OldestFirst, PageRequest::first(limit))
            .await
    }

    /// Running jobs, earliest started first.
    pub async fn running(&self) -> DomainResult<Vec<GenerationJob>> {
        let query = JobQuery {
            status: Some(JobStatus::Running),
            ..JobQuery::default()
        };
        self.jobs
            .fetch(&query, JobOrder::StartedFirst, PageRequest::first(10_000))
            .await
    }

    /// Jobs completed in the last `days` days, optionally of one existing user.
    pub async fn completed(
        &self,
        user: Option<UserId>,
        days: i64,
        limit: i64,
    ) -> DomainResult<Vec<GenerationJob>> {
        if let Some(user) = user {
            self.users.ensure_exists(user).await?;
        }
        self.jobs.completed_since(user, self.since(days), limit).await
    }

    /// Jobs created in the last `days` days that failed, optionally of one existing user.
    pub async fn failed(
        &self,
        user: Option<UserId>,
        days: i64,
        limit: i64,
    ) -> DomainResult<Vec<GenerationJob>> {
        if let Some(user) = user {
            self.users.ensure_exists(user).await?;
        }
        let query = JobQuery {
            user_id: user,
            status: Some(JobStatus::Failed),
            created_since: Some(self.since(days)),
            ..JobQuery::default()
        };
        self.jobs
            .fetch(&query, JobOrder::NewestFirst, PageRequest::first(limit))
            .await
    }

    /// Counters, for one existing user or all.
    pub async fn stats(&self, user: Option<UserId>) -> DomainResult<JobStats> {
        if let Some(user) = user {
            self.users.ensure_exists(user).await?;
        }
        self.jobs.stats(user).await
    }

    /// Moves up to `max` pending jobs, oldest first, to `running` (compare-and-set per job, so
    /// concurrent callers never start the same job twice).
    pub async fn start_pending(&self, max: i64) -> DomainResult<Vec<GenerationJob>> {
        let change = StatusChange {
            status: JobStatus::Running,
            error_message: None,
        };
        let mut started = Vec::new();
        for job in self.pending(max).await? {
            let now = self.clock.now();
            if let Some(job) = self
                .jobs
                .transition(job.id, JobStatus::Pending, change.apply(&job, now), now)
                .await?
            {
                started.push(job);
            }
        }
        Ok(started)
    }

    /// Number of pending and running jobs.
    pub async fn queue_counts(&self) -> DomainResult<(i64, i64)> {
        self.jobs.queue_counts().await
    }

    /// Cancels a pending or running job; a finished one is a rule error.
    pub async fn cancel(&self, id: JobId) -> DomainResult<GenerationJob> {
        match self.jobs.cancel(id, self.clock.now()).await? {
            CancelOutcome::Cancelled(job) => Ok(*job),
            CancelOutcome::AlreadyFinished(status) => Err(DomainError::Rule(Rule::JobFinished(status))),
            CancelOutcome::NotFound => Err(DomainError::not_found(Entity::GenerationJob, id)),
        }
    }

    /// Takes up to `max` pending jobs (oldest first within the highest priority) for
    /// immediate processing: handed to a worker of this process when there is one, otherwise
    /// only marked running.
    pub async fn process_queue(&self, max: i64) -> DomainResult<Vec<GenerationJob>> {
        match &self.dispatch {
            Some(dispatch) => dispatch.dispatch(usize::try_from(max).unwrap_or(0)).await,
            None => self.start_pending(max).await,
        }
    }

    /// The events of an existing job after `seq`, oldest first.
    pub async fn events_since(&self, id: JobId, after: i64) -> DomainResult<Vec<JobEvent>> {
        self.events.events_since(id, after).await
    }

    /// A live feed of a job's events, if this process has one.
    pub fn subscribe(&self, id: JobId) -> Option<Box<dyn JobSubscription>> {
        self.live.as_ref().map(|live| live.subscribe(id))
    }
}
