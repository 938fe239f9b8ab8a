//! A worker: claims batches, runs each job through the generator while a heartbeat renews
//! the leases, and stores the outcomes (coalescing instant ones), every write guarded by the lease.

use super::*;

/// Generations faster than this are stored together with the next ones…
pub(super) const COALESCE_BELOW_MS: i64 = 5;
/// …but none waits longer than this to be stored.
pub(super) const COALESCE_WAIT: Duration = Duration::from_millis(10);

/// How long a generator told to stop may take to return before it is dropped.
pub(super) const STOP_GRACE: Duration = Duration::from_secs(1);

/// A successful attempt whose result is not stored yet.
pub(super) struct Finished {
    pub(super) lease: Lease,
    pub(super) content: NewContent,
    /// The stored media file, removed again if the lease turns out lost.
    pub(super) media: Option<String>,
    pub(super) generation_ms: i64,
    pub(super) at: Instant,
}

/// Jobs a worker holds, with the token that stops each one.
pub(super) type Hand = Arc<Mutex<HashMap<JobId, (Lease, CancellationToken)>>>;

impl Runner {
    pub(super) async fn work(self: Arc<Self>, index: usize) {
        let worker = format!("{}-w{index}", self.config.name);
        let signal = (self.signals)();
        let mut next = index % self.tenants.len().max(1);
        // Claims grow (doubling up to `config.batch`) while generations are instant and shrink
        // to one job as soon as one takes time: fast queues amortise round trips, slow jobs
        // stay spread over every worker.
        let mut batch = 1;
        while !self.shutdown.is_cancelled() {
            let mut claimed = false;
            for k in 0..self.tenants.len() {
                let at = (next + k) % self.tenants.len();
                let tenant = &self.tenants[at];
                match tenant
                    .queue
                    .claim(
                        &worker,
                        batch,
                        self.config.lease,
                        self.clock.now(),
                        self.config.max_running_per_user,
                    )
                    .await
                {
                    Ok(jobs) if !jobs.is_empty() => {
                        next = (at + 1) % self.tenants.len();
                        claimed = true;
                        batch = if self.run_batch(tenant, jobs).await {
                            (batch * 2).min(self.config.batch.max(1))
                        } else {
                            1
                        };
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(schema = %tenant.name, error = %ErrorChain(&e), "claiming jobs failed");
                        self.pause(Duration::from_secs(1)).await;
                    }
                }
            }
            if !claimed {
                tokio::select! {
                    () = signal.wait(self.config.poll) => {}
                    () = self.shutdown.cancelled() => {}
                }
            }
        }
    }

    pub(super) async fn pause(&self, d: Duration) {
        tokio::select! {
            () = tokio::time::sleep(d) => {}
            () = self.shutdown.cancelled() => {}
        }
    }

    /// Runs claimed jobs one after the other, renewing the leases of all of them meanwhile;
    /// `true` if every generation was instant.
    pub(super) async fn run_batch(&self, tenant: &SchemaQueue, jobs: Vec<GenerationJob>) -> bool {
        let mut all_fast = true;
        let hand: Hand = Arc::new(Mutex::new(
            jobs.iter()
                .map(|j| (j.id, (Lease::of(j), CancellationToken::new())))
                .collect(),
        ));
        let beats = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat_loop(
            tenant.queue.clone(),
            hand.clone(),
            self.clock.clone(),
            self.config.clone(),
            beats.clone(),
        ));
        // Results of fast generations wait (a few milliseconds at most) to be stored together:
        // one commit for many jobs. Slow generations are stored at once.
        let mut finished: Vec<Finished> = Vec::new();
        for job in jobs {
            let stop = hand
                .lock()
                .ok()
                .and_then(|h| h.get(&job.id).map(|(_, t)| t.clone()));
            let Some(stop) = stop else { continue };
            let id = job.id;
            let mut held = false;
            if self.shutdown.is_cancelled() {
                release(tenant, &job, self.clock.now()).await;
            } else if !stop.is_cancelled()
                && let Some(done) = self
                    .execute_storing(tenant, job, stop, &mut finished, &hand)
                    .await
            {
                let fast = done.generation_ms < COALESCE_BELOW_MS;
                all_fast &= fast;
                finished.push(done);
                held = true;
                let waited = finished[0].at.elapsed() >= COALESCE_WAIT;
                if !fast || waited || finished.len() >= self.config.batch.max(1) {
                    self.store(tenant, std::mem::take(&mut finished), &hand).await;
                }
            }
            if !held {
                all_fast = false;
            }
            if !held && let Ok(mut h) = hand.lock() {
                h.remove(&id);
            }
        }
        self.store(tenant, finished, &hand).await;
        beats.cancel();
        let _ = heartbeat.await;
        all_fast
    }

    /// [`execute`](Self::execute), meanwhile storing the waiting results once they waited long
    /// enough.
    pub(super) async fn execute_storing(
        &self,
        tenant: &SchemaQueue,
        job: GenerationJob,
        stop: CancellationToken,
        finished: &mut Vec<Finished>,
        hand: &Hand,
    ) -> Option<Finished> {
        let execution = self.execute(tenant, job, stop);
        let Some(first) = finished.first() else {
            return execution.await;
        };
        let deadline = tokio::time::Instant::from_std(first.at + COALESCE_WAIT);
        tokio::pin!(execution);
        tokio::select! {
            done = &mut execution => done,
            () = tokio::time::sleep_until(deadline) => {
                let waiting = std::mem::take(finished);
                tokio::join!(execution, self.store(tenant, waiting, hand)).0
            }
        }
    }

    /// Stores finished jobs' results (their leases stay renewed until then).
    pub(super) async fn store(&self, tenant: &SchemaQueue, finished: Vec<Finished>, hand: &Hand) {
        if finished.is_empty() {
            return;
        }
        let now = self.clock.now();
        let completions = finished
            .iter()
            .map(|f| (f.lease.clone(), f.content.clone()))
            .collect();
        let outcomes = match tenant.queue.complete_many(completions, now).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            // One bad result must not sink the others: store them one by one.
            Err(e) if finished.len() > 1 => {
                tracing::warn!(schema = %tenant.name, error = %ErrorChain(&e), "storing results together failed; storing one by one");
                let mut outcomes = Vec::with_capacity(finished.len());
                for f in &finished {
                    outcomes.push(tenant.queue.complete(&f.lease, f.content.clone(), now).await);
                }
                outcomes
            }
            Err(e) => vec![Err(e)],
        };
        for (f, outcome) in finished.iter().zip(outcomes) {
            match outcome {
                Ok(Some(done)) => {
                    self.metrics.outcome(&tenant.name, "completed");
                    self.metrics.generation.observe(f.generation_ms as f64 / 1000.0);
                    tracing::info!(schema = %tenant.name, job = %f.lease.job, content = ?done.result_content_id,
                        generation_ms = f.generation_ms, "job completed");
                }
                Ok(None) => {
                    if let Some(file) = &f.media {
                        self.media.remove(file).await;
                    }
                    self.metrics.outcome(&tenant.name, "discarded");
                    tracing::info!(schema = %tenant.name, job = %f.lease.job, "result discarded: lease lost");
                }
                // The lease stays until it expires; the reaper then retries the job.
                Err(e) => {
                    tracing::error!(schema = %tenant.name, job = %f.lease.job, error = %ErrorChain(&e), "storing the result failed");
                }
            }
        }
        if let Ok(mut h) = hand.lock() {
            for f in &finished {
                h.remove(&f.lease.job);
            }
        }
    }

    /// One attempt of one job; a successful one returns its result, still to be stored.
    pub(super) async fn execute(
        &self,
        tenant: &SchemaQueue,
        job: GenerationJob,
        stop: CancellationToken,
    ) -> Option<Finished> {
        let lease = Lease::of(&job);
        let started = Instant::now();
        let request = GenerationRequest {
            job_id: job.id.0,
            job_type: job.job_type,
            prompt: job.prompt.clone(),
            parameters: job.parameters.clone(),
        };
        let control = Control {
            queue: tenant.queue.clone(),
            lease: lease.clone(),
            stop: stop.clone(),
            clock: self.clock.clone(),
            previews: Previews::new(
                self.media.clone(),
                format!("preview-{}-job{}-a{}", tenant.name, job.id, job.attempts),
            ),
        };
        let watcher = tenant.events.as_ref().map(|events| {
            let mut subscription = events.subscribe(job.id);
            let stop = stop.clone();
            tokio::spawn(async move {
                while let Some(item) = subscription.next().await {
                    if let SubscriptionItem::Event(e) = item
                        && e.kind == JobEventKind::Cancelled
                    {
                        stop.cancel();
                        break;
                    }
                }
            })
        });
        let grace = async {
            self.shutdown.cancelled().await;
            tokio::time::sleep(self.config.shutdown_grace).await;
        };
        // The job's own limit on an attempt (`timeout_seconds`).
        let timeout = job.timeout_seconds.and_then(|s| u64::try_from(s).ok());
        let timed_out = async {
            match timeout {
                Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
                None => std::future::pending().await,
            }
        };
        let generation = self.generator.generate(&request, &control);
        tokio::pin!(generation);
        let outcome = tokio::select! {
            r = &mut generation => Some(r),
            () = stop.cancelled() => {
                // Told to stop: a moment to wind down (it sees `should_stop`), then dropped.
                let _ = tokio::time::timeout(STOP_GRACE, &mut generation).await;
                None
            }
            () = timed_out => {
                // Told to stop like a cancel, then failed for good: a retry would time out too.
                stop.cancel();
                let _ = tokio::time::timeout(STOP_GRACE, &mut generation).await;
                Some(Err(GenerationError::Permanent(format!(
                    "timed out: the attempt ran longer than timeout_seconds ({} s)",
                    timeout.unwrap_or_default()
                ))))
            }
            () = grace => {
                release(tenant, &job, self.clock.now()).await;
                abort(watcher);
                control.previews.remove_all().await;
                return None;
            }
        };
        abort(watcher);
        // Previews live as long as the attempt: whatever its outcome, they go now.
        control.previews.remove_all().await;
        let generation_ms = started.elapsed().as_millis() as i64;
        let now = self.clock.now();
        let result = match outcome {
            None | Some(Err(GenerationError::Stopped)) => {
                self.metrics.outcome(&tenant.name, "stopped");
                tracing::info!(schema = %tenant.name, job = %job.id, "job stopped (cancelled or lease lost)");
                return None;
            }
            Some(Ok(artifact)) => {
                let content_data = match &artifact.output {
                    Output::Text(text) => Ok(text.clone()),
                    Output::Media(file) => {
                        self.media
                            .save(&format!("{}-job{}-a{}", tenant.name, job.id, job.attempts), file)
                            .await
                    }
                };
                match content_data {
                    Ok(content_data) => {
                        let queued_ms = job
                            .started_at
                            .map_or(0, |s| (s - job.created_at).num_milliseconds());
                        let timings = Timings {
                            queued_ms,
                            generation_ms,
                        };
                        let content = content_for(
                            &job,
                            &artifact,
                            content_data.clone(),
                            self.generator.name(),
                            timings,
                        );
                        return Some(Finished {
                            lease,
                            content,
                            media: matches!(artifact.output, Output::Media(_)).then_some(content_data),
                            generation_ms,
                            at: Instant::now(),
                        });
                    }
                    Err(message) => {
                        let retry_at = self.retry_at(&job, now);
                        self.metrics.outcome(
                            &tenant.name,
                            if retry_at.is_some() { "retrying" } else { "failed" },
                        );
                        tenant
                            .queue
                            .fail(&lease, &format!("storing media failed: {message}"), retry_at, now)
                            .await
                            .map(drop)
                    }
                }
            }
            Some(Err(GenerationError::Transient(message))) => {
                tracing::warn!(schema = %tenant.name, job = %job.id, %message, attempt = job.attempts, "attempt failed");
                let retry_at = self.retry_at(&job, now);
                self.metrics.outcome(
                    &tenant.name,
                    if retry_at.is_some() { "retrying" } else { "failed" },
                );
                tenant.queue.fail(&lease, &message, retry_at, now).await.map(drop)
            }
            Some(Err(GenerationError::Permanent(message))) => {
                tracing::warn!(schema = %tenant.name, job = %job.id, %message, "job failed");
                self.metrics.outcome(&tenant.name, "failed");
                tenant.queue.fail(&lease, &message, None, now).await.map(drop)
            }
        };
        if let Err(e) = result {
            // The lease stays until it expires; the reaper then retries the job.
            tracing::error!(schema = %tenant.name, job = %job.id, error = %ErrorChain(&e), "recording the outcome failed");
        }
        None
    }

    pub(super) fn retry_at(
        &self,
        job: &GenerationJob,
        now: genonaut_domain::model::Timestamp,
    ) -> Option<genonaut_domain::model::Timestamp> {
        let delay = chrono::Duration::from_std(self.config.retry.delay(job.attempts)).ok()?;
        Some(now + delay)
    }
}

pub(super) fn abort(watcher: Option<tokio::task::JoinHandle<()>>) {
    if let Some(w) = watcher {
        w.abort();
    }
}

pub(super) async fn release(
    tenant: &SchemaQueue,
    job: &GenerationJob,
    now: genonaut_domain::model::Timestamp,
) {
    match tenant.queue.release(&Lease::of(job), now).await {
        Ok(true) => tracing::info!(schema = %tenant.name, job = %job.id, "lease released for shutdown"),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(schema = %tenant.name, job = %job.id, error = %ErrorChain(&e), "releasing a lease failed")
        }
    }
}
