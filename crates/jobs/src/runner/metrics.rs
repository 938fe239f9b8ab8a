//! Outcome counters and generation durations of the jobs, for `/metrics`.

use super::*;

#[derive(Clone)]
pub(super) struct JobMetrics {
    pub(super) outcomes: Family<Vec<(&'static str, String)>, Counter>,
    pub(super) generation: Histogram,
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
    pub(super) fn outcome(&self, schema: &str, outcome: &str) {
        self.outcomes
            .get_or_create(&vec![
                ("schema", schema.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }
}

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
}
