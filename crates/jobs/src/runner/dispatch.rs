//! Claims and runs jobs on request (`POST /generation-jobs/queue/process`).

use super::*;

pub(super) struct Dispatcher {
    pub(super) runner: Arc<Runner>,
    pub(super) tenant: usize,
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
