//! The in-memory fake of the worker side of the queue.

use super::*;

#[async_trait]
impl JobQueue for Queue {
    async fn claim(
        &self,
        worker: &str,
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
            j.worker_id = Some(worker.to_owned());
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
