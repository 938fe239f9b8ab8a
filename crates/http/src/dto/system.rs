//! System routes (contract §4.1, §7.1).

use apistos::{ApiComponent, JsonSchema};
use genonaut_domain::ports::{GlobalStats, StoreInfo};
use serde::Serialize;
use serde_json::{Value, json};

/// `GET /`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct RootOut {
    /// `Welcome to Genonaut API`.
    pub message: &'static str,
    /// API version.
    pub version: &'static str,
    /// Interactive documentation.
    pub docs: &'static str,
    /// Alternative documentation (same UI).
    pub redoc: &'static str,
    /// Health check.
    pub health: &'static str,
    /// Served data sets.
    pub database_info: &'static str,
    /// Global counters.
    pub global_stats: &'static str,
}

impl RootOut {
    /// The constant body.
    pub const VALUE: RootOut = RootOut {
        message: "Welcome to Genonaut API",
        version: "1.0.0",
        docs: "/docs",
        redoc: "/redoc",
        health: "/api/v1/health",
        database_info: "/api/v1/databases",
        global_stats: "/api/v1/stats/global",
    };
}

/// `GET /health` (legacy; does not touch the database).
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct LegacyHealthOut {
    /// `healthy`.
    pub status: &'static str,
    /// Pointer to the detailed check.
    pub message: &'static str,
}

/// Database part of the health answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DatabaseHealth {
    /// `connected` or `disconnected`.
    pub status: &'static str,
}

/// `GET /api/v1/health`: 200 when the database answers, 503 (same shape) otherwise.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = HealthOut::example())]
pub struct HealthOut {
    /// `healthy` or `unhealthy`.
    pub status: &'static str,
    /// Database reachability.
    pub database: DatabaseHealth,
    /// Time of the check (UTC, no zone).
    pub timestamp: String,
    /// Why unhealthy (no driver details).
    pub error: Option<String>,
}

impl HealthOut {
    fn example() -> Value {
        json!({"status": "healthy", "database": {"status": "connected"}, "timestamp": "2025-09-19T23:52:25.364437", "error": null})
    }
}

/// `GET /api/v1/databases`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct DatabasesOut {
    /// Every served schema.
    pub available_databases: Vec<String>,
    /// The schema this request used.
    pub current_database: String,
}

/// One served schema.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SchemaOut {
    /// Name (the `X-Genonaut-Schema` value).
    pub name: String,
    /// Whether requests without the header use it.
    pub is_default: bool,
    /// Newest applied migration, if the schema answered.
    pub migration_version: Option<String>,
    /// Approximate row counts per table (planner statistics), if the schema answered.
    pub approximate_rows: Option<std::collections::BTreeMap<String, i64>>,
}

impl SchemaOut {
    /// Facts of one schema (`info` is `None` if it could not be read).
    pub fn new(name: &str, is_default: bool, info: Option<StoreInfo>) -> Self {
        SchemaOut {
            name: name.to_owned(),
            is_default,
            migration_version: info.as_ref().and_then(|i| i.migration_version.clone()),
            approximate_rows: info.map(|i| i.approximate_rows.into_iter().collect()),
        }
    }
}

/// `GET /api/v1/schemas`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct SchemasOut {
    /// The schema used without `X-Genonaut-Schema`.
    pub default: String,
    /// Every served schema.
    pub schemas: Vec<SchemaOut>,
}

/// `GET /api/v1/stats/global` — every value is an integer.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct GlobalStatsOut {
    /// Users.
    pub total_users: i64,
    /// Active users.
    pub active_users: i64,
    /// Inactive users.
    pub inactive_users: i64,
    /// Content items.
    pub total_content: i64,
    /// Public and not private.
    pub public_content: i64,
    /// Private.
    pub private_content: i64,
    /// Interactions.
    pub total_interactions: i64,
    /// Recommendations.
    pub total_recommendations: i64,
    /// Served recommendations.
    pub served_recommendations: i64,
    /// Unserved recommendations.
    pub unserved_recommendations: i64,
    /// Generation jobs.
    pub total_generation_jobs: i64,
    /// Running jobs.
    pub running_generation_jobs: i64,
    /// Completed jobs.
    pub completed_generation_jobs: i64,
    /// Failed jobs.
    pub failed_generation_jobs: i64,
}

impl From<GlobalStats> for GlobalStatsOut {
    fn from(s: GlobalStats) -> Self {
        GlobalStatsOut {
            total_users: s.users,
            active_users: s.active_users,
            inactive_users: s.users - s.active_users,
            total_content: s.content,
            public_content: s.public_content,
            private_content: s.private_content,
            total_interactions: s.interactions,
            total_recommendations: s.recommendations,
            served_recommendations: s.served_recommendations,
            unserved_recommendations: s.recommendations - s.served_recommendations,
            total_generation_jobs: s.jobs,
            running_generation_jobs: s.running_jobs,
            completed_generation_jobs: s.completed_jobs,
            failed_generation_jobs: s.failed_jobs,
        }
    }
}
