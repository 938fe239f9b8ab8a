use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::ExperimentId;
use crate::model::{Experiment, NewExperiment, Timestamp, VariantCounts};
use crate::page::{Page, PageRequest};

/// Storage of online experiments, and the aggregate their results are computed from.
#[async_trait]
pub trait ExperimentRepository: Send + Sync {
    /// Stores a running experiment created at `now`. A name already in use is a
    /// [`Conflict`](crate::DomainError::Conflict).
    async fn insert(&self, experiment: NewExperiment, now: Timestamp) -> DomainResult<Experiment>;

    /// The experiment with this id, if any.
    async fn get(&self, id: ExperimentId) -> DomainResult<Option<Experiment>>;

    /// The experiment with exactly this name, if any.
    async fn by_name(&self, name: &str) -> DomainResult<Option<Experiment>>;

    /// Experiments, newest first, with the total.
    async fn list(&self, page: PageRequest) -> DomainResult<Page<Experiment>>;

    /// Stops it at `now` (idempotent: a stopped experiment keeps its first stop time).
    /// `None` if it does not exist.
    async fn stop(&self, id: ExperimentId, now: Timestamp) -> DomainResult<Option<Experiment>>;

    /// Per variant name found in the recommendations stored under the experiment
    /// (`rec_metadata.experiment.id`): distinct users, recommendations, those followed by a
    /// positive interaction (`like`, `bookmark`, `share`, `download`, or `rate` ≥ 4) by the
    /// same user with the same item from the recommendation's creation until
    /// `window_hours` after it was served (its creation if never marked served), and those
    /// with `disliked`/`dismissed` feedback. Computed by the store in one aggregate.
    async fn counts(&self, id: ExperimentId, window_hours: i32) -> DomainResult<Vec<VariantCounts>>;
}
