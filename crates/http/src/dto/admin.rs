//! Administration: the recommender's builds.

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::recommender::{BuildInfo, BuildStatus};
use serde::Serialize;
use serde_json::json;

use super::common::{optional_timestamp, timestamp};
use crate::input::{Fields, Input};

/// Body of `POST /api/v1/admin/recommender/rebuild` (optional).
#[derive(Debug, Default, JsonSchema, ApiComponent)]
#[schemars(example = RebuildIn::example())]
pub struct RebuildIn {
    /// Recompute everything (new popularity epoch, every item's neighbours) instead of only
    /// the items with new interactions. Default `false`.
    #[serde(default)]
    pub full: bool,
}

impl RebuildIn {
    fn example() -> serde_json::Value {
        json!({"full": false})
    }
}

impl Input for RebuildIn {
    fn parse(f: &mut Fields<'_>) -> Option<Self> {
        Some(RebuildIn {
            full: f.boolean("full").or(false),
        })
    }
}

impl crate::extract::OptionalBody for RebuildIn {}

/// The last build of the recommender's derived state.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct BuildOut {
    /// When it finished (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub built_at: NaiveDateTime,
    /// Full or incremental.
    pub full: bool,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// Interactions read.
    pub interactions: i64,
    /// Highest interaction id included.
    pub watermark: i64,
    /// Items with derived state.
    pub items: i64,
    /// Users with interactions.
    pub users: i64,
    /// Stored item-neighbour pairs.
    pub neighbour_pairs: i64,
    /// Items the learned model (EASE, algorithm `ease`) was fitted on; 0 without a model.
    pub model_items: i64,
    /// The learned model's regularisation `λ`.
    pub model_lambda: f64,
}

impl From<BuildInfo> for BuildOut {
    fn from(b: BuildInfo) -> Self {
        BuildOut {
            built_at: b.built_at,
            full: b.full,
            duration_ms: b.millis,
            interactions: b.signals,
            watermark: b.watermark,
            items: b.items,
            users: b.users,
            neighbour_pairs: b.pairs,
            model_items: b.model_items,
            model_lambda: b.model_lambda,
        }
    }
}

/// State of the recommender's builds in the selected schema.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = RecommenderStatusOut::example())]
pub struct RecommenderStatusOut {
    /// The last successful build; `null` before the first.
    pub last_build: Option<BuildOut>,
    /// Interactions arrived since the last build.
    pub stale: bool,
    /// The newest interaction id.
    pub latest_interaction_id: i64,
    /// A pending build request (UTC, no zone), picked up by the next worker check.
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub requested_at: Option<NaiveDateTime>,
    /// The pending request asks for a full build.
    pub requested_full: bool,
    /// The worker building now, if any.
    pub running_on: Option<String>,
    /// Since when.
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub running_since: Option<NaiveDateTime>,
    /// Error of the last failed build (cleared by a successful one).
    pub last_error: Option<String>,
}

impl RecommenderStatusOut {
    fn example() -> serde_json::Value {
        json!({"last_build": {"built_at": "2025-09-19T23:52:25.364437", "full": true, "duration_ms": 412,
               "interactions": 12000, "watermark": 12000, "items": 1180, "users": 58, "neighbour_pairs": 51230,
               "model_items": 1180, "model_lambda": 200.0},
               "stale": false, "latest_interaction_id": 12000, "requested_at": null, "requested_full": false,
               "running_on": null, "running_since": null, "last_error": null})
    }
}

impl From<BuildStatus> for RecommenderStatusOut {
    fn from(s: BuildStatus) -> Self {
        RecommenderStatusOut {
            stale: s.is_stale(),
            latest_interaction_id: s.latest_signal,
            last_build: s.last.map(BuildOut::from),
            requested_at: s.requested_at,
            requested_full: s.requested_full,
            running_on: s.running_on,
            running_since: s.running_since,
            last_error: s.last_error,
        }
    }
}
