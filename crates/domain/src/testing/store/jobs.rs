//! The in-memory fake of generation jobs and their event log.

use super::*;

pub(super) fn job_matches(j: &GenerationJob, q: &JobQuery) -> bool {
    q.user_id.is_none_or(|u| j.user_id == u)
        && q.status.is_none_or(|s| j.status == s)
        && q.job_type.is_none_or(|t| j.job_type == t)
        && q.created_since.is_none_or(|since| j.created_at >= since)
}

impl Jobs {
    pub(super) fn matching(&self, query: &JobQuery, order: JobOrder) -> Vec<GenerationJob> {
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
pub(super) fn insert_job(s: &mut State, job: NewJob, now: Timestamp) -> DomainResult<GenerationJob> {
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
        worker_id: None,
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
                Err(DomainError::Rule(crate::Rule::IdempotencyKeyReused))
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
            return Err(DomainError::Rule(crate::Rule::JobNotPending));
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

pub(super) fn add(now: Timestamp, d: std::time::Duration) -> Timestamp {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
