//! The job runner: workers claim jobs from every served schema's queue, run them through the
//! generator while renewing their leases, and record the outcome — all writes guarded by the
//! lease, so a worker that lost its job (reaped, cancelled) can never overwrite it.

mod control;
mod dispatch;
mod lease;
mod maintenance;
mod metrics;
mod worker;

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

use control::*;
use dispatch::*;
use lease::*;
use metrics::*;
use worker::*;

/// One served schema as the runner sees it: its queue, live events and maintenance.
#[derive(Clone)]
pub struct SchemaQueue {
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
    tenants: Vec<SchemaQueue>,
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
impl Runner {
    /// A runner over `tenants`; nothing runs until [`start`](Self::start) or a dispatch.
    pub fn new(
        tenants: Vec<SchemaQueue>,
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
}
