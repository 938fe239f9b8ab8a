//! Interactions (contract §4.4).

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::ids::{ContentId, UserId};
use genonaut_domain::model::{
    Interaction, InteractionChanges, InteractionQuery, InteractionType, NewInteraction, TypeAggregate,
    UserBehavior,
};
use genonaut_domain::services::{ContentInteractionStats, InteractionTypeCounts};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{InteractionTypeDoc, JsonObject, text_path, timestamp};
use crate::input::Input;

/// A recorded interaction.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = InteractionOut::example())]
pub struct InteractionOut {
    /// Identifier.
    pub id: i64,
    /// Who.
    pub user_id: i64,
    /// On what.
    pub content_item_id: i64,
    /// What.
    #[schemars(with = "InteractionTypeDoc")]
    pub interaction_type: &'static str,
    /// Rating 1–5.
    pub rating: Option<i32>,
    /// Duration in seconds.
    pub duration: Option<i32>,
    /// When (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: NaiveDateTime,
    /// Metadata (sent as `metadata`).
    pub interaction_metadata: JsonObject,
}

impl InteractionOut {
    fn example() -> Value {
        json!({"id": 12, "user_id": 1, "content_item_id": 7, "interaction_type": "like", "rating": 5, "duration": 120,
               "created_at": "2025-09-19T23:52:25.364437", "interaction_metadata": {"device": "mobile"}})
    }
}

impl From<Interaction> for InteractionOut {
    fn from(i: Interaction) -> Self {
        InteractionOut {
            id: i.id.0,
            user_id: i.user_id.0,
            content_item_id: i.content_item_id.0,
            interaction_type: i.interaction_type.as_str(),
            rating: i.rating,
            duration: i.duration,
            created_at: i.created_at,
            interaction_metadata: i.metadata,
        }
    }
}

/// Body of `POST /api/v1/interactions/`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = InteractionCreate::example())]
// The hot path (`POST /interactions`) also gets the serde shortcut, from the same fields.
#[input(plain_json)]
pub struct InteractionCreate {
    /// Who (an existing, active user; otherwise 422).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub user_id: i64,
    /// On what (an existing item; otherwise 422).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub content_item_id: i64,
    /// What.
    #[schemars(with = "InteractionTypeDoc")]
    pub interaction_type: InteractionType,
    /// Rating 1–5.
    #[schemars(range(min = 1, max = 5))]
    pub rating: Option<i32>,
    /// Duration in seconds (≥ 0).
    #[schemars(range(min = 0, max = 2147483647))]
    pub duration: Option<i32>,
    /// Metadata (returned as `interaction_metadata`).
    pub metadata: Option<JsonObject>,
}

impl InteractionCreate {
    fn example() -> Value {
        json!({"user_id": 1, "content_item_id": 7, "interaction_type": "like", "rating": 5, "duration": 120,
               "metadata": {"device": "mobile", "source": "recommendation"}})
    }
}

impl From<InteractionCreate> for NewInteraction {
    fn from(b: InteractionCreate) -> Self {
        NewInteraction {
            user_id: UserId(b.user_id),
            content_item_id: ContentId(b.content_item_id),
            interaction_type: b.interaction_type,
            rating: b.rating,
            duration: b.duration,
            metadata: b.metadata.unwrap_or_default(),
        }
    }
}

/// Body of `PUT /api/v1/interactions/{interaction_id}` (every field optional; `null` = unchanged).
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = InteractionUpdate::example())]
pub struct InteractionUpdate {
    /// New rating 1–5 (cannot be cleared).
    #[schemars(range(min = 1, max = 5))]
    pub rating: Option<i32>,
    /// New duration (≥ 0).
    #[schemars(range(min = 0, max = 2147483647))]
    pub duration: Option<i32>,
    /// Replacement metadata.
    pub metadata: Option<JsonObject>,
}

impl InteractionUpdate {
    fn example() -> Value {
        json!({"rating": 4, "metadata": {"edited": true}})
    }
}

impl From<InteractionUpdate> for InteractionChanges {
    fn from(b: InteractionUpdate) -> Self {
        InteractionChanges {
            rating: b.rating,
            duration: b.duration,
            metadata: b.metadata,
        }
    }
}

/// Query of `GET /api/v1/interactions/`: every given filter applies (AND), newest first.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct InteractionListQuery {
    /// Of this user (must exist).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub user_id: Option<i64>,
    /// On this item (must exist).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub content_item_id: Option<i64>,
    /// Of this type.
    #[schemars(with = "Option<InteractionTypeDoc>")]
    pub interaction_type: Option<InteractionType>,
    /// Only the last `days` days (1…365).
    #[schemars(range(min = 1, max = 365))]
    pub days: Option<i64>,
    /// Rows to skip (≥ 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

impl InteractionListQuery {
    /// The domain query (`since` computed by the caller from `days`).
    pub fn query(&self, since: Option<genonaut_domain::model::Timestamp>) -> InteractionQuery {
        InteractionQuery {
            user_id: self.user_id.map(UserId),
            content_item_id: self.content_item_id.map(ContentId),
            interaction_type: self.interaction_type,
            since,
        }
    }
}

/// Query of `GET /api/v1/interactions/user/{user_id}/recent`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct RecentInteractionsQuery {
    /// Window in days (1…365).
    #[serde(default = "crate::dto::defaults::n_30")]
    #[schemars(range(min = 1, max = 365))]
    pub days: i64,
    /// Maximum number of items (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

/// `{user_id}/content/{content_item_id}/{interaction_type}` of I12.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct BetweenPath {
    /// User id.
    pub user_id: i64,
    /// Content id.
    pub content_item_id: i64,
    /// Interaction type, compared verbatim.
    pub interaction_type: String,
}

text_path!(
    /// `{interaction_type}` (not validated: an unknown type lists nothing).
    InteractionTypePath { interaction_type }
);

/// `{"count": n, "avg_rating": x|null}` per type.
fn per_type(aggregates: &[TypeAggregate], with_duration: bool) -> Map<String, Value> {
    let mut map = Map::new();
    for a in aggregates {
        let mut entry = Map::new();
        entry.insert("count".into(), json!(a.count));
        entry.insert("avg_rating".into(), json!(a.avg_rating));
        if with_duration {
            entry.insert("avg_duration".into(), json!(a.avg_duration));
        }
        map.insert(a.interaction_type.as_str().into(), Value::Object(entry));
    }
    map
}

/// `GET /api/v1/interactions/user/{user_id}/summary`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = UserSummaryOut::example())]
pub struct UserSummaryOut {
    /// The user.
    pub user_id: i64,
    /// One entry per type used (`{"count", "avg_rating"}`) plus `total_interactions`.
    #[schemars(with = "JsonObject")]
    pub summary: Map<String, Value>,
}

impl UserSummaryOut {
    fn example() -> Value {
        json!({"user_id": 2, "summary": {"like": {"count": 2, "avg_rating": 3.5},
               "view": {"count": 2, "avg_rating": null}, "total_interactions": 4}})
    }

    /// Builds the summary.
    pub fn new(user_id: i64, total: i64, by_type: &[TypeAggregate]) -> Self {
        let mut summary = per_type(by_type, false);
        summary.insert("total_interactions".into(), json!(total));
        UserSummaryOut { user_id, summary }
    }
}

/// `GET /api/v1/interactions/content/{content_item_id}/stats`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = ContentInteractionStatsOut::example())]
pub struct ContentInteractionStatsOut {
    /// The item.
    pub content_item_id: i64,
    /// Per type present: `{"count", "avg_rating", "avg_duration"}` (averages over non-null values).
    #[schemars(with = "JsonObject")]
    pub stats: Map<String, Value>,
}

impl ContentInteractionStatsOut {
    fn example() -> Value {
        json!({"content_item_id": 7, "stats": {"view": {"count": 10, "avg_rating": null, "avg_duration": 42.5}}})
    }
}

impl From<ContentInteractionStats> for ContentInteractionStatsOut {
    fn from(s: ContentInteractionStats) -> Self {
        ContentInteractionStatsOut {
            content_item_id: s.content_item_id.0,
            stats: per_type(&s.by_type, true),
        }
    }
}

/// `GET /api/v1/interactions/analytics/user-behavior/{user_id}`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct UserBehaviorOut {
    /// All interactions of the user.
    pub total_interactions: i64,
    /// Per type used: `{"count", "avg_rating"}`.
    #[schemars(with = "JsonObject")]
    pub interaction_types: Map<String, Value>,
    /// Content types the user engages with most, at most 5.
    pub favorite_content_types: Vec<&'static str>,
}

impl From<UserBehavior> for UserBehaviorOut {
    fn from(b: UserBehavior) -> Self {
        UserBehaviorOut {
            total_interactions: b.total_interactions,
            interaction_types: per_type(&b.by_type, false),
            favorite_content_types: b.favorite_content_types.iter().map(|t| t.as_str()).collect(),
        }
    }
}

/// `GET /api/v1/interactions/stats/overview`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct InteractionOverviewOut {
    /// All interactions.
    pub total_interactions: i64,
    /// Count per type; always all seven types in canonical order.
    #[schemars(with = "std::collections::BTreeMap<String, i64>")]
    pub type_breakdown: Map<String, Value>,
}

impl From<InteractionTypeCounts> for InteractionOverviewOut {
    fn from(c: InteractionTypeCounts) -> Self {
        InteractionOverviewOut {
            total_interactions: c.total,
            type_breakdown: c
                .by_type
                .iter()
                .map(|(t, n)| (t.as_str().to_owned(), json!(n)))
                .collect(),
        }
    }
}
