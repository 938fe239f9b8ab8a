use std::sync::Arc;
use std::time::Duration;

use crate::error::{DomainError, DomainResult};
use crate::model::Timestamp;
use crate::ports::{Clock, RecommenderBuildStore};
use crate::recommender::build::rebuild;
use crate::recommender::{BuildConfig, BuildReport, BuildStatus, Mode};

/// When the recommender's derived state is rebuilt.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceConfig {
    /// A stale build (new interactions since) is refreshed once it is this old; `None`: only
    /// requested builds run.
    pub refresh: Option<Duration>,
    /// How long a worker may hold the build lock without finishing.
    pub lease: Duration,
    /// Tuning of the computation.
    pub build: BuildConfig,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            refresh: Some(Duration::from_secs(300)),
            lease: Duration::from_secs(600),
            build: BuildConfig::default(),
        }
    }
}

/// Builds of the recommender's derived state (item popularity, neighbours, tag statistics):
/// on request, on a schedule, one at a time per store whatever the number of workers.
#[derive(Clone)]
pub struct RecommenderService {
    store: Arc<dyn RecommenderBuildStore>,
    clock: Arc<dyn Clock>,
    config: MaintenanceConfig,
}

impl RecommenderService {
    /// A service over `store`.
    pub fn new(
        store: Arc<dyn RecommenderBuildStore>,
        clock: Arc<dyn Clock>,
        config: MaintenanceConfig,
    ) -> Self {
        RecommenderService { store, clock, config }
    }

    /// The same service with other timings.
    pub fn with_config(mut self, config: MaintenanceConfig) -> Self {
        self.config = config;
        self
    }

    /// The state of the builds.
    pub async fn status(&self) -> DomainResult<BuildStatus> {
        self.store.status(self.clock.now()).await
    }

    /// Asks the workers for a build (full with `full`); returns the resulting status.
    pub async fn request_rebuild(&self, full: bool) -> DomainResult<BuildStatus> {
        let now = self.clock.now();
        self.store.request_build(full, now).await?;
        self.store.status(now).await
    }

    /// Runs a build if one was requested, or if the last one is stale and older than the
    /// refresh interval (or missing while interactions exist). `None` if nothing was due or
    /// another worker is building.
    pub async fn run_due(&self, worker: &str) -> DomainResult<Option<BuildReport>> {
        let now = self.clock.now();
        let status = self.store.status(now).await?;
        let scheduled = self.config.refresh.is_some_and(|refresh| {
            status.is_stale()
                && status
                    .last
                    .as_ref()
                    .is_none_or(|b| elapsed(now, b.built_at) >= refresh)
        });
        if status.running_on.is_some() || (status.requested_at.is_none() && !scheduled) {
            return Ok(None);
        }
        let Some(claim) = self.store.claim_build(worker, now, self.until(now)).await? else {
            return Ok(None);
        };
        // Another worker may have finished the same build between the check and the claim.
        if !claim.requested && !self.store.status(now).await?.is_stale() {
            self.store.finish_build(worker, None).await?;
            return Ok(None);
        }
        let mode = if claim.full { Mode::Full } else { Mode::Incremental };
        self.run(worker, mode).await.map(Some)
    }

    /// Builds now (`genonaut recs rebuild`); a conflict if another worker is building.
    pub async fn rebuild_now(&self, worker: &str, full: bool) -> DomainResult<BuildReport> {
        let now = self.clock.now();
        if self
            .store
            .claim_build(worker, now, self.until(now))
            .await?
            .is_none()
        {
            let running = self.store.status(now).await?.running_on.unwrap_or_default();
            return Err(DomainError::Conflict(crate::Conflict::BuildRunning(running)));
        }
        self.run(worker, if full { Mode::Full } else { Mode::Incremental })
            .await
    }

    /// Releases `worker`'s build lock after an interrupted build (nothing was stored).
    pub async fn abandon(&self, worker: &str) -> DomainResult<()> {
        self.store
            .finish_build(worker, Some("interrupted (worker shut down)"))
            .await
    }

    async fn run(&self, worker: &str, mode: Mode) -> DomainResult<BuildReport> {
        let result = rebuild(self.store.as_ref(), mode, &self.config.build, self.clock.as_ref()).await;
        let error = result.as_ref().err().map(ToString::to_string);
        self.store.finish_build(worker, error.as_deref()).await?;
        result
    }

    fn until(&self, now: Timestamp) -> Timestamp {
        now + chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::minutes(10))
    }
}

fn elapsed(now: Timestamp, since: Timestamp) -> Duration {
    (now - since).to_std().unwrap_or(Duration::ZERO)
}
