//! # genonaut-db
//!
//! PostgreSQL adapters of the ports of [`genonaut_domain`]: diesel + diesel-async over one
//! deadpool pool per PostgreSQL schema (each connection's `search_path` selects the schema),
//! embedded migrations run per schema under an advisory lock, and administrative helpers
//! (database creation, roles).
//!
//! Database failures are translated at this seam ([`DomainError`](genonaut_domain::DomainError)):
//! constraint violations become the API's business errors, connectivity problems and pool
//! exhaustion become `Unavailable`, and no SQL text ever leaves this crate in a domain error
//! message.

pub mod admin;
mod error;
pub mod events;
pub mod migrate;
mod pool;
mod prepared;
pub mod repos;
mod rows;
mod schema;
mod schema_name;
pub mod seed;
#[cfg(feature = "test-util")]
pub mod testing;

use std::sync::Arc;

use genonaut_domain::ports::Repositories;

pub use error::DbError;
pub use events::EventHub;
pub use pool::{PgConn, PgPool, PoolSettings, PoolUsage, pin_thread};
pub use schema_name::{InvalidSchemaName, SchemaName};

/// Every repository adapter over one pool (one schema).
pub fn repositories(pool: &PgPool) -> Repositories {
    Repositories {
        users: Arc::new(repos::PgUsers::new(pool.clone())),
        content: Arc::new(repos::PgContent::new(pool.clone())),
        interactions: Arc::new(repos::PgInteractions::new(pool.clone())),
        recommendations: Arc::new(repos::PgRecommendations::new(pool.clone())),
        jobs: Arc::new(repos::PgJobs::new(pool.clone())),
        system: Arc::new(repos::PgSystem::new(pool.clone())),
        queue: Arc::new(repos::PgJobQueue::new(pool.clone())),
        job_events: Arc::new(repos::PgJobs::new(pool.clone())),
        recommender: Arc::new(repos::PgRecommender::new(pool.clone())),
        recommender_builds: Arc::new(repos::PgRecommender::new(pool.clone())),
        embeddings: Arc::new(repos::PgEmbeddings::new(pool.clone())),
        experiments: Arc::new(repos::PgExperiments::new(pool.clone())),
        webhooks: Arc::new(repos::PgWebhooks::new(pool.clone())),
    }
}
