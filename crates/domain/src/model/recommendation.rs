use super::{JsonObject, Timestamp, string_enum};
use crate::ids::{ContentId, RecommendationId, UserId};

/// A stored recommendation of an item to a user.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// Identifier.
    pub id: RecommendationId,
    /// For whom.
    pub user_id: UserId,
    /// What.
    pub content_item_id: ContentId,
    /// Score in `[0, 1]`.
    pub score: f64,
    /// Label of the algorithm (free text).
    pub algorithm_version: String,
    /// When.
    pub created_at: Timestamp,
    /// Shown to the user.
    pub is_served: bool,
    /// When it was shown.
    pub served_at: Option<Timestamp>,
    /// Explanation, feedback, …
    pub metadata: JsonObject,
}

/// Command: store a recommendation.
#[derive(Debug, Clone)]
pub struct NewRecommendation {
    /// For whom.
    pub user_id: UserId,
    /// What.
    pub content_item_id: ContentId,
    /// Score in `[0, 1]`.
    pub score: f64,
    /// Algorithm label as sent (the service trims it and rejects blanks).
    pub algorithm_version: String,
    /// Metadata.
    pub metadata: JsonObject,
}

/// Command: change a recommendation (`None` = leave as is).
#[derive(Debug, Clone, Default)]
pub struct RecommendationChanges {
    /// New score.
    pub score: Option<f64>,
    /// Replacement metadata.
    pub metadata: Option<JsonObject>,
}

/// Ordering of recommendation listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecommendationOrder {
    /// Score descending, then id ascending.
    #[default]
    ScoreDesc,
    /// Creation descending, then id descending.
    NewestFirst,
}

/// Query: which recommendations to list (all given filters hold).
#[derive(Debug, Clone, Default)]
pub struct RecommendationQuery {
    /// For this user.
    pub user_id: Option<UserId>,
    /// Of this item.
    pub content_item_id: Option<ContentId>,
    /// With this exact algorithm label.
    pub algorithm_version: Option<String>,
    /// Score at least.
    pub min_score: Option<f64>,
    /// Not served yet.
    pub unserved_only: bool,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Ordering.
    pub order: RecommendationOrder,
}

/// Per-algorithm aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct AlgorithmAggregate {
    /// Algorithm label.
    pub algorithm_version: String,
    /// How many.
    pub count: i64,
    /// Mean score.
    pub avg_score: f64,
}

/// Recommendation counters (for one user or all).
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendationStats {
    /// All.
    pub total: i64,
    /// Served.
    pub served: i64,
    /// Mean score, 0.0 if none.
    pub average_score: f64,
    /// Per algorithm, by label.
    pub by_algorithm: Vec<AlgorithmAggregate>,
}

string_enum!(
    /// A user's reaction to a served recommendation.
    Feedback {
        /// Opened it.
        Clicked => "clicked",
        /// Liked it.
        Liked => "liked",
        /// Disliked it.
        Disliked => "disliked",
        /// Dismissed it.
        Dismissed => "dismissed",
        /// Acted on it (bought, downloaded, …).
        Converted => "converted",
    }
);

impl Feedback {
    /// Whether this feedback is a positive signal the recommender learns from.
    pub fn is_positive(self) -> bool {
        matches!(self, Feedback::Clicked | Feedback::Liked | Feedback::Converted)
    }
}
