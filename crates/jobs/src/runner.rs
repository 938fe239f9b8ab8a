//! The job runner: workers claim jobs from every served schema's queue, run them through the
//! generator while renewing their leases, and record the outcome — all writes guarded by the
//! lease, so a worker that lost its job (reaped, cancelled) can never overwrite it.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use genonaut_domain::ids::JobId;
use genonaut_domain::model::{GenerationJob, JobEventKind, NewContent, Progress};
use genonaut_domain::ports::{
    Clock, GenerationControl, GenerationError, GenerationRequest, Generator, InteractionRepository,
    JobDispatch, JobEventSource, JobQueue, Lease, MediaFile, MediaStore, Output, QueueSignal, RetryPolicy,
    SubscriptionItem,
};
use genonaut_domain::services::RecommenderService;
use genonaut_domain::services::generation::{Timings, content_for};
use genonaut_domain::{DomainResult, ErrorChain};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// One served schema's queue.
#[derive(Clone)]
pub struct Tenant {
    /// Schema name (for logs).
    pub name: String,
    /// Its queue.
    pub queue: Arc<dyn JobQueue>,
    /// Its live events (lets a worker stop a cancelled job at once instead of at the next
    /// heartbeat).
    pub events: Option<Arc<dyn JobEventSource>>,
    /// Its recommender's maintenance: builds of the derived state run here when requested or
    /// due.
    pub recommender: Option<RecommenderService>,
    /// Its interactions, whose whole-table counters are checkpointed here every
    /// [`RunnerConfig::counts_every`] (what keeps the totals of interaction listings and
    /// statistics cheap at any table size).
    pub interactions: Option<Arc<dyn InteractionRepository>>,
}

/// Runner settings.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Concurrent workers in this process.
    pub workers: usize,
    /// Lease length; a worker that stops renewing loses its job after this long.
    pub lease: Duration,
    /// How often leases are renewed.
    pub heartbeat: Duration,
    /// Longest idle wait between looking for work when no notification arrives.
    pub poll: Duration,
    /// Most jobs one worker claims at once (claims start at one job and grow while
    /// generations are instant).
    pub batch: usize,
    /// Backoff between attempts.
    pub retry: RetryPolicy,
    /// How often expired leases are reaped.
    pub reap_every: Duration,
    /// How often each schema is checked for a due recommender build.
    pub maintenance_every: Duration,
    /// How often each schema's interaction counters are checkpointed.
    pub counts_every: Duration,
    /// How long running jobs may take to finish on shutdown before their leases are released.
    pub shutdown_grace: Duration,
    /// Prefix of worker ids (`<host>-<pid>` by default).
    pub name: String,
    /// Most jobs of one user running at once, across every process
    /// (`GENONAUT_MAX_RUNNING_PER_USER`; unlimited by default).
    pub max_running_per_user: Option<u32>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            workers: 2,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            poll: Duration::from_secs(5),
            batch: 32,
            retry: RetryPolicy::default(),
            reap_every: Duration::from_secs(15),
            maintenance_every: Duration::from_secs(5),
            counts_every: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
            name: default_name(),
            max_running_per_user: None,
        }
    }
}

fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    format!(
        "{}-{}",
        if host.is_empty() { "worker" } else { &host },
        std::process::id()
    )
}

/// Creates one wake-up signal per worker.
pub type SignalFactory = Arc<dyn Fn() -> Arc<dyn QueueSignal> + Send + Sync>;

/// A signal that never fires: workers poll.
pub struct Polling;

#[async_trait]
impl QueueSignal for Polling {
    async fn wait(&self, timeout: Duration) {
        tokio::time::sleep(timeout).await;
    }
}

/// The runner of one process.
pub struct Runner {
    tenants: Vec<Tenant>,
    generator: Arc<dyn Generator>,
    media: Arc<dyn MediaStore>,
    clock: Arc<dyn Clock>,
    signals: SignalFactory,
    config: RunnerConfig,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    metrics: JobMetrics,
}

/// Outcome counters and generation durations, for `/metrics`.
#[derive(Clone)]
struct JobMetrics {
    outcomes: Family<Vec<(&'static str, String)>, Counter>,
    generation: Histogram,
}

impl Default for JobMetrics {
    fn default() -> Self {
        JobMetrics {
            outcomes: Family::default(),
            generation: Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0]),
        }
    }
}

impl JobMetrics {
    fn outcome(&self, schema: &str, outcome: &str) {
        self.outcomes
            .get_or_create(&vec![
                ("schema", schema.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }
}

/// Generations faster than this are stored together with the next ones…
const COALESCE_BELOW_MS: i64 = 5;
/// …but none waits longer than this to be stored.
const COALESCE_WAIT: Duration = Duration::from_millis(10);

/// How long a generator told to stop may take to return before it is dropped.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// A successful attempt whose result is not stored yet.
struct Finished {
    lease: Lease,
    content: NewContent,
    /// The stored media file, removed again if the lease turns out lost.
    media: Option<String>,
    generation_ms: i64,
    at: Instant,
}

/// Jobs a worker holds, with the token that stops each one.
type Hand = Arc<Mutex<HashMap<JobId, (Lease, CancellationToken)>>>;

impl Runner {
    /// Registers the job metrics (outcomes per schema, generation durations) in `registry`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "job_outcomes",
            "Job attempts by schema and outcome (completed, retrying, failed, stopped, discarded)",
            self.metrics.outcomes.clone(),
        );
        registry.register(
            "job_generation_seconds",
            "Time generators took for completed jobs",
            self.metrics.generation.clone(),
        );
    }

    /// A runner over `tenants`; nothing runs until [`start`](Self::start) or a dispatch.
    pub fn new(
        tenants: Vec<Tenant>,
        generator: Arc<dyn Generator>,
        media: Arc<dyn MediaStore>,
        clock: Arc<dyn Clock>,
        signals: SignalFactory,
        config: RunnerConfig,
    ) -> Arc<Runner> {
        Arc::new(Runner {
            tenants,
            generator,
            media,
            clock,
            signals,
            config,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            metrics: JobMetrics::default(),
        })
    }

    /// Starts the configured number of workers and the reaper.
    pub fn start(self: &Arc<Self>) {
        for index in 0..self.config.workers {
            let runner = self.clone();
            self.tasks.spawn(async move { runner.work(index).await });
        }
        if !self.tenants.is_empty() {
            let runner = self.clone();
            self.tasks.spawn(async move { runner.reap_loop().await });
        }
        if self.tenants.iter().any(|t| t.interactions.is_some()) {
            let runner = self.clone();
            self.tasks.spawn(async move { runner.counts_loop().await });
        }
        if self.tenants.iter().any(|t| t.recommender.is_some()) {
            let runner = self.clone();
            self.tasks.spawn(async move { runner.maintenance_loop().await });
        }
        tracing::info!(
            workers = self.config.workers,
            schemas = self.tenants.len(),
            "job runner started"
        );
    }

    /// Stops claiming, lets running jobs finish within the grace period, releases every lease
    /// still held, and waits for all tasks.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// A dispatcher that claims from tenant `index` and runs the claimed jobs at once.
    pub fn dispatcher(self: &Arc<Self>, index: usize) -> Arc<dyn JobDispatch> {
        Arc::new(Dispatcher {
            runner: self.clone(),
            tenant: index,
        })
    }

    async fn work(self: Arc<Self>, index: usize) {
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

    async fn pause(&self, d: Duration) {
        tokio::select! {
            () = tokio::time::sleep(d) => {}
            () = self.shutdown.cancelled() => {}
        }
    }

    /// Reaps expired leases every `reap_every`; cancels pending jobs past their start deadline
    /// every second (a partial-index scan), so a missed deadline shows promptly.
    async fn reap_loop(self: Arc<Self>) {
        let sweep = self.config.reap_every.min(Duration::from_secs(1));
        let mut reaped: Option<Instant> = None;
        while !self.shutdown.is_cancelled() {
            let reap = reaped.is_none_or(|at| at.elapsed() >= self.config.reap_every);
            for tenant in &self.tenants {
                let now = self.clock.now();
                if reap && let Err(e) = tenant.queue.reap(now, &self.config.retry).await {
                    tracing::warn!(schema = %tenant.name, error = %ErrorChain(&e), "reaping expired leases failed");
                }
                if let Err(e) = tenant.queue.cancel_overdue(now).await {
                    tracing::warn!(schema = %tenant.name, error = %ErrorChain(&e), "cancelling jobs past their start deadline failed");
                }
            }
            if reap {
                reaped = Some(Instant::now());
            }
            self.pause(sweep).await;
        }
    }

    /// Folds each schema's recent interactions into its counters (a failure is retried at the
    /// next round: until then totals are exact but count more rows).
    async fn counts_loop(self: Arc<Self>) {
        while !self.shutdown.is_cancelled() {
            for tenant in &self.tenants {
                let Some(interactions) = &tenant.interactions else {
                    continue;
                };
                if let Err(e) = interactions.checkpoint_counts().await {
                    tracing::warn!(schema = %tenant.name, error = %ErrorChain(&e), "checkpointing interaction counts failed");
                }
            }
            self.pause(self.config.counts_every).await;
        }
    }

    /// Runs the recommender builds that are due (requested, or stale and old enough), one
    /// schema at a time; builds are exclusive across processes.
    async fn maintenance_loop(self: Arc<Self>) {
        let worker = format!("{}-maintenance", self.config.name);
        while !self.shutdown.is_cancelled() {
            for tenant in &self.tenants {
                let Some(recommender) = &tenant.recommender else {
                    continue;
                };
                let build = recommender.run_due(&worker);
                let outcome = tokio::select! {
                    outcome = build => outcome,
                    () = self.shutdown.cancelled() => {
                        // Interrupted: free the lock now rather than when its lease expires.
                        if let Err(e) = recommender.abandon(&worker).await {
                            tracing::warn!(schema = %tenant.name, error = %ErrorChain(&e), "releasing the build lock failed");
                        }
                        return;
                    }
                };
                match outcome {
                    Ok(Some(report)) => tracing::info!(
                        schema = %tenant.name, full = report.info.full, millis = report.info.millis,
                        interactions = report.info.signals, items = report.rows_written, tags = report.tags_written,
                        pairs = report.info.pairs, "recommender state rebuilt"
                    ),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(schema = %tenant.name, error = %ErrorChain(&e), "recommender build failed")
                    }
                }
            }
            self.pause(self.config.maintenance_every).await;
        }
    }

    /// Runs claimed jobs one after the other, renewing the leases of all of them meanwhile;
    /// `true` if every generation was instant.
    async fn run_batch(&self, tenant: &Tenant, jobs: Vec<GenerationJob>) -> bool {
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
    async fn execute_storing(
        &self,
        tenant: &Tenant,
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
    async fn store(&self, tenant: &Tenant, finished: Vec<Finished>, hand: &Hand) {
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
    async fn execute(
        &self,
        tenant: &Tenant,
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

    fn retry_at(
        &self,
        job: &GenerationJob,
        now: genonaut_domain::model::Timestamp,
    ) -> Option<genonaut_domain::model::Timestamp> {
        let delay = chrono::Duration::from_std(self.config.retry.delay(job.attempts)).ok()?;
        Some(now + delay)
    }
}

fn abort(watcher: Option<tokio::task::JoinHandle<()>>) {
    if let Some(w) = watcher {
        w.abort();
    }
}

async fn release(tenant: &Tenant, job: &GenerationJob, now: genonaut_domain::model::Timestamp) {
    match tenant.queue.release(&Lease::of(job), now).await {
        Ok(true) => tracing::info!(schema = %tenant.name, job = %job.id, "lease released for shutdown"),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(schema = %tenant.name, job = %job.id, error = %ErrorChain(&e), "releasing a lease failed")
        }
    }
}

async fn heartbeat_loop(
    queue: Arc<dyn JobQueue>,
    hand: Hand,
    clock: Arc<dyn Clock>,
    config: RunnerConfig,
    done: CancellationToken,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(config.heartbeat) => {}
            () = done.cancelled() => return,
        }
        let leases: Vec<Lease> = hand
            .lock()
            .map(|h| h.values().map(|(l, _)| l.clone()).collect())
            .unwrap_or_default();
        if leases.is_empty() {
            continue;
        }
        let until =
            clock.now() + chrono::Duration::from_std(config.lease).unwrap_or(chrono::Duration::seconds(30));
        match queue.heartbeat(&leases, until).await {
            Ok(held) => {
                if let Ok(h) = hand.lock() {
                    for (lease, stop) in h.values() {
                        if !held.contains(lease) {
                            stop.cancel();
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %ErrorChain(&e), "renewing leases failed"),
        }
    }
}

/// What the generator talks to while it runs.
struct Control {
    queue: Arc<dyn JobQueue>,
    lease: Lease,
    stop: CancellationToken,
    clock: Arc<dyn Clock>,
    previews: Previews,
}

/// The preview images of one attempt, stored in the media store as `preview-<schema>-job<id>-
/// a<attempt>-<n>.<ext>` and removed when the attempt ends.
struct Previews {
    media: Arc<dyn MediaStore>,
    stem: String,
    saved: Mutex<Vec<String>>,
}

impl Previews {
    fn new(media: Arc<dyn MediaStore>, stem: String) -> Self {
        Previews {
            media,
            stem,
            saved: Mutex::new(Vec::new()),
        }
    }

    async fn save(&self, image: &MediaFile) -> Option<String> {
        let n = self.saved.lock().map_or(0, |s| s.len());
        match self.media.save(&format!("{}-{n}", self.stem), image).await {
            Ok(url) => {
                if let Ok(mut saved) = self.saved.lock() {
                    saved.push(url.clone());
                }
                Some(url)
            }
            Err(e) => {
                tracing::warn!(error = %e, "storing a preview failed");
                None
            }
        }
    }

    async fn remove_all(&self) {
        let saved = self
            .saved
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        for url in saved {
            self.media.remove(&url).await;
        }
    }
}

#[async_trait]
impl GenerationControl for Control {
    async fn progress(&self, progress: Progress) -> bool {
        if self.stop.is_cancelled() {
            return false;
        }
        match self
            .queue
            .progress(&self.lease, &progress, self.clock.now())
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                self.stop.cancel();
                false
            }
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "recording progress failed");
                true
            }
        }
    }

    fn should_stop(&self) -> bool {
        self.stop.is_cancelled()
    }

    async fn save_preview(&self, image: &MediaFile) -> Option<String> {
        if self.stop.is_cancelled() {
            return None;
        }
        self.previews.save(image).await
    }
}

struct Dispatcher {
    runner: Arc<Runner>,
    tenant: usize,
}

#[async_trait]
impl JobDispatch for Dispatcher {
    async fn dispatch(&self, max: usize) -> DomainResult<Vec<GenerationJob>> {
        let Some(tenant) = self.runner.tenants.get(self.tenant).cloned() else {
            return Ok(Vec::new());
        };
        let worker = format!("{}-dispatch", self.runner.config.name);
        let jobs = tenant
            .queue
            .claim(
                &worker,
                max,
                self.runner.config.lease,
                self.runner.clock.now(),
                self.runner.config.max_running_per_user,
            )
            .await?;
        if !jobs.is_empty() {
            let runner = self.runner.clone();
            let batch = jobs.clone();
            self.runner.tasks.spawn(async move {
                let _all_fast = runner.run_batch(&tenant, batch).await;
            });
        }
        Ok(jobs)
    }
}
