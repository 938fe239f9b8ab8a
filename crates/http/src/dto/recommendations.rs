//! Recommendations (contract §4.5, §7.2).

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::ids::{ContentId, RecommendationId, UserId};
use genonaut_domain::model::{
    Feedback, NewRecommendation, Recommendation, RecommendationChanges, RecommendationQuery,
    RecommendationStats,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{JsonObject, limit_query, text_path, timestamp};
use crate::input::Input;

/// A stored recommendation.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = RecommendationOut::example())]
pub struct RecommendationOut {
    /// Identifier.
    pub id: i64,
    /// For whom.
    pub user_id: i64,
    /// What.
    pub content_item_id: i64,
    /// Score in [0, 1].
    pub recommendation_score: f64,
    /// Algorithm label.
    pub algorithm_version: String,
    /// When (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: NaiveDateTime,
    /// Shown to the user.
    pub is_served: bool,
    /// Explanation, feedback, … (sent as `metadata`).
    pub rec_metadata: JsonObject,
}

impl RecommendationOut {
    fn example() -> Value {
        json!({"id": 3, "user_id": 1, "content_item_id": 7, "recommendation_score": 0.85, "algorithm_version": "hybrid",
               "created_at": "2025-09-19T23:52:25.364437", "is_served": false,
               "rec_metadata": {"algorithm": "hybrid", "reasons": ["tag_overlap"]}})
    }
}

impl From<Recommendation> for RecommendationOut {
    fn from(r: Recommendation) -> Self {
        RecommendationOut {
            id: r.id.0,
            user_id: r.user_id.0,
            content_item_id: r.content_item_id.0,
            recommendation_score: r.score,
            algorithm_version: r.algorithm_version,
            created_at: r.created_at,
            is_served: r.is_served,
            rec_metadata: r.metadata,
        }
    }
}

/// Body of `POST /api/v1/recommendations/` (also one element of a bulk request).
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = RecommendationCreate::example())]
pub struct RecommendationCreate {
    /// For whom (an existing, active user).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub user_id: i64,
    /// What (an existing item).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub content_item_id: i64,
    /// Score in [0, 1].
    #[schemars(range(min = 0.0, max = 1.0))]
    pub recommendation_score: f64,
    /// Algorithm label, 1–50 characters, not blank; stored trimmed.
    #[schemars(length(min = 1, max = 50))]
    pub algorithm_version: String,
    /// Metadata (returned as `rec_metadata`).
    pub metadata: Option<JsonObject>,
}

impl RecommendationCreate {
    fn example() -> Value {
        json!({"user_id": 1, "content_item_id": 7, "recommendation_score": 0.85, "algorithm_version": "test_v1.0",
               "metadata": {"reason": "similar tags"}})
    }
}

impl From<RecommendationCreate> for NewRecommendation {
    fn from(b: RecommendationCreate) -> Self {
        NewRecommendation {
            user_id: UserId(b.user_id),
            content_item_id: ContentId(b.content_item_id),
            score: b.recommendation_score,
            algorithm_version: b.algorithm_version,
            metadata: b.metadata.unwrap_or_default(),
        }
    }
}

/// Body of `POST /api/v1/recommendations/bulk`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct RecommendationBulk {
    /// 1–1000 recommendations, stored all or nothing.
    #[schemars(length(min = 1, max = 1000))]
    pub recommendations: Vec<RecommendationCreate>,
}

/// Body of `PUT /api/v1/recommendations/{recommendation_id}` (fields optional).
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct RecommendationUpdate {
    /// New score in [0, 1].
    #[schemars(range(min = 0.0, max = 1.0))]
    pub recommendation_score: Option<f64>,
    /// Replacement metadata.
    pub metadata: Option<JsonObject>,
}

impl From<RecommendationUpdate> for RecommendationChanges {
    fn from(b: RecommendationUpdate) -> Self {
        RecommendationChanges {
            score: b.recommendation_score,
            metadata: b.metadata,
        }
    }
}

/// Query of `GET /api/v1/recommendations/`: every filter applies (AND); best first.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct RecommendationListQuery {
    /// For this user (existing and active).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub user_id: Option<i64>,
    /// Of this item (existing).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub content_item_id: Option<i64>,
    /// With exactly this label.
    pub algorithm_version: Option<String>,
    /// Score at least (0…1).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_score: Option<f64>,
    /// Only not yet served.
    #[serde(default)]
    pub unserved_only: bool,
    /// Rows to skip (≥ 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

impl RecommendationListQuery {
    /// The domain query.
    pub fn query(&self) -> RecommendationQuery {
        RecommendationQuery {
            user_id: self.user_id.map(UserId),
            content_item_id: self.content_item_id.map(ContentId),
            algorithm_version: self.algorithm_version.clone(),
            min_score: self.min_score,
            unserved_only: self.unserved_only,
            ..RecommendationQuery::default()
        }
    }
}

/// Query of `GET /api/v1/recommendations/user/{user_id}/recommendations`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct UserRecommendationsQuery {
    /// Score at least (0…1).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_score: Option<f64>,
    /// Only not yet served.
    #[serde(default)]
    pub unserved_only: bool,
    /// Rows to skip (≥ 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

/// Query of `GET /api/v1/recommendations/user/{user_id}/top`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct TopRecommendationsQuery {
    /// Score at least (0…1).
    #[serde(default = "crate::dto::defaults::half")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_score: f64,
    /// Maximum number of items (1…1000).
    #[serde(default = "crate::dto::defaults::n_10")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

limit_query!(
    /// `limit` of `GET /recommendations/user/{user_id}/unserved` (default 20).
    UnservedRecommendationsQuery,
    "crate::dto::defaults::n_20"
);

/// Query of `GET /api/v1/recommendations/user/{user_id}/recent`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct RecentRecommendationsQuery {
    /// Window in days (1…365).
    #[serde(default = "crate::dto::defaults::n_7")]
    #[schemars(range(min = 1, max = 365))]
    pub days: i64,
    /// Maximum number of items (1…1000).
    #[serde(default = "crate::dto::defaults::n_50")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

text_path!(
    /// `{algorithm_version}` (exact label).
    AlgorithmPath { algorithm_version }
);

/// Body of `POST /api/v1/recommendations/served`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = ServedBody::example())]
pub struct ServedBody {
    /// Recommendations to mark served (at least one; every id must exist).
    #[schemars(length(min = 1))]
    #[input(length(max = 10_000))]
    pub recommendation_ids: Vec<i64>,
}

impl ServedBody {
    fn example() -> Value {
        json!({"recommendation_ids": [3, 4]})
    }

    /// The ids.
    pub fn ids(&self) -> Vec<RecommendationId> {
        self.recommendation_ids
            .iter()
            .copied()
            .map(RecommendationId)
            .collect()
    }
}

/// Answer of `POST /api/v1/recommendations/served`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct ServedOut {
    /// Distinct recommendations marked served.
    pub marked_as_served: u64,
}

/// Body of `POST /api/v1/recommendations/generate`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = GenerateBody::example())]
pub struct GenerateBody {
    /// For whom (existing and active).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub user_id: i64,
    /// Label to store the new recommendations under; selects the algorithm when it names one
    /// (`popularity`, `content`, `item-knn`, `ease` — the learned model, alias `learned` —,
    /// `hybrid`), otherwise the default is used. `experiment:<name>` assigns the user to a
    /// variant of that running experiment (404 if there is none) whose algorithm answers.
    #[schemars(length(min = 1))]
    #[input(length(max = 50))]
    pub algorithm_version: String,
    /// How many (1…100).
    #[serde(default = "crate::dto::defaults::n_10")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: i64,
}

impl GenerateBody {
    fn example() -> Value {
        json!({"user_id": 1, "algorithm_version": "hybrid", "limit": 10})
    }
}

/// Answer of `POST /api/v1/recommendations/generate`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct GenerateOut {
    /// The label as sent.
    pub algorithm_version: String,
    /// The recommendations, best first.
    pub recommendations: Vec<RecommendationOut>,
}

/// Body of `PUT /api/v1/recommendations/{recommendation_id}/feedback`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = FeedbackBody::example())]
pub struct FeedbackBody {
    /// The user's reaction.
    #[schemars(with = "FeedbackDoc")]
    pub feedback: Feedback,
    /// Extra details stored with the feedback.
    pub metadata: Option<JsonObject>,
}

/// A user's reaction to a recommendation.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Feedback")]
pub enum FeedbackDoc {
    // Opened it (records a `view`).
    Clicked,
    // Liked it (records a `like`).
    Liked,
    // Disliked it.
    Disliked,
    // Dismissed it.
    Dismissed,
    // Acted on it (records a `download`).
    Converted,
}

impl FeedbackBody {
    fn example() -> Value {
        json!({"feedback": "liked", "metadata": {"surface": "home_feed"}})
    }
}

/// `GET /api/v1/recommendations/user/{user_id}/stats`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct UserRecommendationStatsOut {
    /// The user.
    pub user_id: i64,
    /// All of the user's recommendations.
    pub total_recommendations: i64,
    /// Served.
    pub served_recommendations: i64,
    /// Not served.
    pub unserved_recommendations: i64,
    /// Mean score (0.0 if none).
    pub average_score: f64,
    /// Per label: `{"count", "avg_score"}`.
    #[schemars(with = "JsonObject")]
    pub algorithm_breakdown: Map<String, Value>,
}

impl UserRecommendationStatsOut {
    /// Builds the body.
    pub fn new(user_id: i64, s: RecommendationStats) -> Self {
        UserRecommendationStatsOut {
            user_id,
            total_recommendations: s.total,
            served_recommendations: s.served,
            unserved_recommendations: s.total - s.served,
            average_score: s.average_score,
            algorithm_breakdown: s
                .by_algorithm
                .into_iter()
                .map(|a| {
                    (
                        a.algorithm_version,
                        json!({"count": a.count, "avg_score": a.avg_score}),
                    )
                })
                .collect(),
        }
    }
}

/// `GET /api/v1/recommendations/stats/overview`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct RecommendationOverviewOut {
    /// All.
    pub total_recommendations: i64,
    /// Served.
    pub served_recommendations: i64,
    /// Not served.
    pub unserved_recommendations: i64,
}

impl From<RecommendationStats> for RecommendationOverviewOut {
    fn from(s: RecommendationStats) -> Self {
        RecommendationOverviewOut {
            total_recommendations: s.total,
            served_recommendations: s.served,
            unserved_recommendations: s.total - s.served,
        }
    }
}
