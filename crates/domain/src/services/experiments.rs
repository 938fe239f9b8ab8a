//! Online experiments: creation, listing, stopping and results (see
//! [`model::experiment`](crate::model::Experiment) for assignment and the statistics).

use std::sync::Arc;

use crate::error::{DomainError, DomainResult, Entity};
use crate::ids::ExperimentId;
use crate::model::{Experiment, ExperimentResults, NewExperiment};
use crate::page::{Page, PageRequest};
use crate::ports::{Clock, ExperimentRepository};

/// Online experiments.
#[derive(Clone)]
pub struct ExperimentService {
    store: Arc<dyn ExperimentRepository>,
    clock: Arc<dyn Clock>,
}

pub(crate) fn not_found(id: ExperimentId) -> DomainError {
    DomainError::not_found(Entity::Experiment, id)
}

impl ExperimentService {
    /// A service over `store`.
    pub fn new(store: Arc<dyn ExperimentRepository>, clock: Arc<dyn Clock>) -> Self {
        ExperimentService { store, clock }
    }

    /// Creates a running experiment; its name must be unused in the schema (422 otherwise).
    pub async fn create(&self, experiment: NewExperiment) -> DomainResult<Experiment> {
        if self.store.by_name(&experiment.name).await?.is_some() {
            return Err(name_taken(&experiment.name));
        }
        match self.store.insert(experiment.clone(), self.clock.now()).await {
            // Lost a race with a concurrent creation of the same name.
            Err(DomainError::Conflict(_)) => Err(name_taken(&experiment.name)),
            other => other,
        }
    }

    /// The experiment, or `NotFound`.
    pub async fn get(&self, id: ExperimentId) -> DomainResult<Experiment> {
        self.store.get(id).await?.ok_or_else(|| not_found(id))
    }

    /// Experiments, newest first.
    pub async fn list(&self, page: PageRequest) -> DomainResult<Page<Experiment>> {
        self.store.list(page).await
    }

    /// Stops the experiment: generations naming it fall back to the default algorithm and are
    /// no longer counted. Idempotent.
    pub async fn stop(&self, id: ExperimentId) -> DomainResult<Experiment> {
        self.store
            .stop(id, self.clock.now())
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Per-variant users, served, engaged and rejected recommendations, rates with 95 %
    /// intervals, and the leader if the difference is significant.
    pub async fn results(&self, id: ExperimentId) -> DomainResult<ExperimentResults> {
        let experiment = self.get(id).await?;
        let counts = self.store.counts(id, experiment.engagement_window_hours).await?;
        Ok(ExperimentResults::compute(experiment, &counts))
    }
}

fn name_taken(name: &str) -> DomainError {
    DomainError::Conflict(crate::Conflict::ExperimentName(Some(name.to_owned())))
}
