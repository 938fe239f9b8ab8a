use async_trait::async_trait;

use crate::error::DomainResult;

/// Store-wide counters (contract `GET /api/v1/stats/global`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GlobalStats {
    /// Users.
    pub users: i64,
    /// Active users.
    pub active_users: i64,
    /// Content items.
    pub content: i64,
    /// Public and not private.
    pub public_content: i64,
    /// Private.
    pub private_content: i64,
    /// Interactions.
    pub interactions: i64,
    /// Recommendations.
    pub recommendations: i64,
    /// Served recommendations.
    pub served_recommendations: i64,
    /// Jobs.
    pub jobs: i64,
    /// Running jobs.
    pub running_jobs: i64,
    /// Completed jobs.
    pub completed_jobs: i64,
    /// Failed jobs.
    pub failed_jobs: i64,
}

/// Facts about one data store worth showing to operators.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoreInfo {
    /// Newest applied migration.
    pub migration_version: Option<String>,
    /// Approximate row counts per table (planner statistics).
    pub approximate_rows: Vec<(String, i64)>,
}

/// Store-wide queries.
#[async_trait]
pub trait SystemRepository: Send + Sync {
    /// Succeeds if the store answers a trivial query.
    async fn ping(&self) -> DomainResult<()>;

    /// Exact counters.
    async fn global_stats(&self) -> DomainResult<GlobalStats>;

    /// Migration version and approximate sizes.
    async fn info(&self) -> DomainResult<StoreInfo>;
}
