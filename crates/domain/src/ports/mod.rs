//! Ports: the traits adapters implement. They speak domain types and [`DomainError`] only.
//!
//! Every port is object-safe (`Arc<dyn Port>`), `Send + Sync`, and documented with the
//! guarantees an adapter must give (atomicity, ordering, what "not found" means).
//!
//! [`DomainError`]: crate::DomainError

mod clock;
mod content;
mod embeddings;
mod entropy;
mod experiments;
mod generation;
mod interactions;
mod jobs;
mod keys;
mod queue;
mod recommendations;
mod recommender;
mod system;
mod tickets;
mod users;
mod webhooks;

pub use clock::*;
pub use content::*;
pub use embeddings::*;
pub use entropy::*;
pub use experiments::*;
pub use generation::*;
pub use interactions::*;
pub use jobs::*;
pub use keys::*;
pub use queue::*;
pub use recommendations::*;
pub use recommender::*;
pub use system::*;
pub use tickets::*;
pub use users::*;
pub use webhooks::*;

#[cfg(feature = "os")]
pub use crate::os::{OsEntropy, SystemClock};

use std::sync::Arc;

/// One set of repository adapters over one data store (in Genonaut: one PostgreSQL schema).
#[derive(Clone)]
pub struct Repositories {
    /// Users.
    pub users: Arc<dyn UserRepository>,
    /// Content items.
    pub content: Arc<dyn ContentRepository>,
    /// Interactions.
    pub interactions: Arc<dyn InteractionRepository>,
    /// Recommendations.
    pub recommendations: Arc<dyn RecommendationRepository>,
    /// Generation jobs.
    pub jobs: Arc<dyn JobRepository>,
    /// Store-wide facts (health, counters).
    pub system: Arc<dyn SystemRepository>,
    /// The worker side of the job queue.
    pub queue: Arc<dyn JobQueue>,
    /// Jobs' event logs.
    pub job_events: Arc<dyn JobEventLog>,
    /// What the recommender reads at request time.
    pub recommender: Arc<dyn RecommenderData>,
    /// The recommender's derived state and its builds.
    pub recommender_builds: Arc<dyn RecommenderBuildStore>,
    /// Item embeddings.
    pub embeddings: Arc<dyn EmbeddingStore>,
    /// Online experiments and their results.
    pub experiments: Arc<dyn ExperimentRepository>,
    /// The webhook outbox of jobs' events.
    pub webhooks: Arc<dyn WebhookOutbox>,
}
