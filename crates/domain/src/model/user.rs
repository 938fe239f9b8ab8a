use super::{JsonObject, Timestamp};
use crate::ids::UserId;
use crate::values::{Email, Username};

/// A user account.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// Unique, case-sensitive.
    pub username: String,
    /// Unique, normalised.
    pub email: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Free-form preferences (favourite genres, tags, content types, UI settings …).
    pub preferences: JsonObject,
    /// Inactive users are kept but may not act.
    pub is_active: bool,
}

/// Command: register a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Validated username.
    pub username: Username,
    /// Validated, normalised e-mail.
    pub email: Email,
    /// Initial preferences.
    pub preferences: JsonObject,
}

/// Command: change some fields of a user (`None` = leave as is).
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New username.
    pub username: Option<Username>,
    /// New e-mail.
    pub email: Option<Email>,
    /// New activity flag.
    pub is_active: Option<bool>,
}

impl UserChanges {
    /// Whether applying these changes to `user` would change anything.
    pub fn changes(&self, user: &User) -> bool {
        self.username
            .as_ref()
            .is_some_and(|u| u.as_str() != user.username)
            || self.email.as_ref().is_some_and(|e| e.as_str() != user.email)
            || self.is_active.is_some_and(|a| a != user.is_active)
    }
}

/// Query: which users to list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Only active users.
    pub active_only: bool,
    /// Users whose preferences contain every given key with the given JSON value
    /// (type-sensitive containment); empty = no filter.
    pub preferences: JsonObject,
}

/// A user's activity counters.
#[derive(Debug, Clone, PartialEq)]
pub struct UserActivity {
    /// Interactions recorded by the user.
    pub total_interactions: i64,
    /// Content items created by the user.
    pub content_created: i64,
    /// Mean of the user's non-null ratings, 0.0 if none.
    pub avg_rating_given: f64,
}

/// Counts of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserOverview {
    /// All users.
    pub total: i64,
    /// Active users.
    pub active: i64,
}
