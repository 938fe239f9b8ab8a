use super::{ContentType, JsonObject, Timestamp, string_enum};
use crate::ids::{ContentId, InteractionId, UserId};

string_enum!(
    /// What a user did with a content item.
    InteractionType {
        /// Viewed it.
        View => "view",
        /// Liked it.
        Like => "like",
        /// Shared it.
        Share => "share",
        /// Downloaded it.
        Download => "download",
        /// Bookmarked it.
        Bookmark => "bookmark",
        /// Commented on it.
        Comment => "comment",
        /// Rated it.
        Rate => "rate",
    }
);

/// A recorded interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    /// Identifier.
    pub id: InteractionId,
    /// Who.
    pub user_id: UserId,
    /// On what.
    pub content_item_id: ContentId,
    /// What.
    pub interaction_type: InteractionType,
    /// Rating 1–5, if any.
    pub rating: Option<i32>,
    /// Duration in seconds, if any.
    pub duration: Option<i32>,
    /// When.
    pub created_at: Timestamp,
    /// Free-form metadata (device, source …).
    pub metadata: JsonObject,
}

/// Command: record an interaction.
#[derive(Debug, Clone)]
pub struct NewInteraction {
    /// Who (must exist and be active).
    pub user_id: UserId,
    /// On what (must exist).
    pub content_item_id: ContentId,
    /// What.
    pub interaction_type: InteractionType,
    /// Rating 1–5.
    pub rating: Option<i32>,
    /// Duration in seconds (≥ 0).
    pub duration: Option<i32>,
    /// Metadata.
    pub metadata: JsonObject,
}

/// Command: change an interaction (`None` = leave as is).
#[derive(Debug, Clone, Default)]
pub struct InteractionChanges {
    /// New rating.
    pub rating: Option<i32>,
    /// New duration.
    pub duration: Option<i32>,
    /// Replacement metadata.
    pub metadata: Option<JsonObject>,
}

/// Query: which interactions to list (all given filters hold), newest first.
#[derive(Debug, Clone, Default)]
pub struct InteractionQuery {
    /// Of this user.
    pub user_id: Option<UserId>,
    /// On this item.
    pub content_item_id: Option<ContentId>,
    /// Of this type.
    pub interaction_type: Option<InteractionType>,
    /// Created at or after.
    pub since: Option<Timestamp>,
}

/// Aggregate of one interaction type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeAggregate {
    /// The type.
    pub interaction_type: InteractionType,
    /// How many.
    pub count: i64,
    /// Mean of non-null ratings.
    pub avg_rating: Option<f64>,
    /// Mean of non-null durations.
    pub avg_duration: Option<f64>,
}

/// A user's behaviour profile.
#[derive(Debug, Clone, PartialEq)]
pub struct UserBehavior {
    /// All interactions of the user.
    pub total_interactions: i64,
    /// Per type used.
    pub by_type: Vec<TypeAggregate>,
    /// Content types of the items interacted with, most interactions first (at most 5).
    pub favorite_content_types: Vec<ContentType>,
}
