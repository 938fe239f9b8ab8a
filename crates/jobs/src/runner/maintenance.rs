//! The runner's background loops: lease reaping and start deadlines, interaction-count
//! checkpoints, recommender builds.

use super::*;

impl Runner {
    /// Reaps expired leases every `reap_every`; cancels pending jobs past their start deadline
    /// every second (a partial-index scan), so a missed deadline shows promptly.
    pub(super) async fn reap_loop(self: Arc<Self>) {
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
    pub(super) async fn counts_loop(self: Arc<Self>) {
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
    pub(super) async fn maintenance_loop(self: Arc<Self>) {
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
}
