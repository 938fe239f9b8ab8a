//! Administration: the recommender's builds, API keys.

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::model::{ApiKey, Scope};
use genonaut_domain::recommender::{BuildInfo, BuildStatus};
use serde::Serialize;
use serde_json::json;

use super::common::{ScopeDoc, optional_timestamp, text_path, timestamp};
use crate::input::Input;

/// Body of `POST /api/v1/admin/recommender/rebuild` (optional).
#[derive(Debug, Default, JsonSchema, ApiComponent, Input)]
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

/// Body of `POST /api/v1/admin/keys`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = KeyCreate::example())]
pub struct KeyCreate {
    /// Who or what uses the key, 1–100 characters, not only spaces (trimmed).
    #[schemars(length(min = 1, max = 100), pattern(r"\S"))]
    pub name: String,
    /// What the key may do.
    #[schemars(with = "ScopeDoc")]
    pub scope: Scope,
    /// Restrict the key to this served schema (one of `SchemaName`); `null`/absent = every
    /// schema.
    pub schema: Option<String>,
    /// The key expires this many days from now (1–3650); absent = never.
    #[schemars(range(min = 1, max = 3650))]
    pub expires_in_days: Option<i64>,
}

impl KeyCreate {
    fn example() -> serde_json::Value {
        json!({"name": "gallery-frontend", "scope": "read", "schema": null, "expires_in_days": 90})
    }
}

text_path!(
    /// `{prefix}`: a key's public prefix (as listed) or the whole key.
    KeyPrefixPath { prefix }
);

/// An API key as stored: never its secret (only a hash of it is kept).
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = KeyOut::example())]
pub struct KeyOut {
    /// Identifier.
    pub id: i32,
    /// Who or what uses it.
    pub name: String,
    /// Public prefix: the key reads `gnt_<prefix>_<secret>`; names the key in listings, logs
    /// and `POST /api/v1/admin/keys/{prefix}/revoke`.
    pub prefix: String,
    /// What it may do.
    #[schemars(with = "ScopeDoc")]
    pub scope: &'static str,
    /// The only schema it may use; `null` = every served schema.
    pub schema: Option<String>,
    /// Creation time (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: NaiveDateTime,
    /// After this instant the key is refused; `null` = never.
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub expires_at: Option<NaiveDateTime>,
    /// When it was revoked; `null` = not revoked.
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub revoked_at: Option<NaiveDateTime>,
}

impl KeyOut {
    fn example() -> serde_json::Value {
        json!({"id": 3, "name": "gallery-frontend", "prefix": "1f2e3d4c", "scope": "read", "schema": null,
               "created_at": "2025-09-19T23:52:25.364437", "expires_at": null, "revoked_at": null})
    }
}

impl From<ApiKey> for KeyOut {
    fn from(k: ApiKey) -> Self {
        KeyOut {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scope: k.scope.as_str(),
            schema: k.schema,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// Every API key, newest first.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct KeyListOut {
    /// The keys (revoked and expired ones included).
    pub items: Vec<KeyOut>,
    /// Their number.
    pub total: i64,
}

/// A key just created, with its secret: shown in this response only, stored nowhere.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = KeyCreatedOut::example())]
pub struct KeyCreatedOut {
    /// The stored record.
    pub key: KeyOut,
    /// The whole key, `gnt_<prefix>_<secret>`: send it as `Authorization: Bearer <key>`. It
    /// cannot be shown again.
    pub secret: String,
}

impl KeyCreatedOut {
    fn example() -> serde_json::Value {
        json!({"key": KeyOut::example(), "secret": "gnt_1f2e3d4c_00112233445566778899aabbccddeeff00112233"})
    }
}
