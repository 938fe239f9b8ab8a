//! Users (contract §4.2).

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::model::{NewUser, User, UserActivity, UserChanges, UserOverview, UserQuery};
use genonaut_domain::values::{Email, Username};
use serde::Serialize;
use serde_json::json;

use super::{JsonObject, limit_query, text_path, timestamp};
use crate::input::{Fields, Input};

/// A user.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = UserOut::example())]
pub struct UserOut {
    /// Identifier.
    pub id: i64,
    /// Unique username (case-sensitive).
    pub username: String,
    /// Unique e-mail; the domain part is lower-cased.
    pub email: String,
    /// Creation time (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: NaiveDateTime,
    /// Last change (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub updated_at: NaiveDateTime,
    /// Free-form preferences.
    pub preferences: JsonObject,
    /// Inactive users are kept but cannot act.
    pub is_active: bool,
}

impl UserOut {
    fn example() -> serde_json::Value {
        json!({"id": 1, "username": "alice", "email": "alice@example.com", "created_at": "2025-09-19T23:52:25.364437",
               "updated_at": "2025-09-19T23:52:25.364437", "preferences": {"theme": "dark", "favorite_genres": ["sci-fi"]},
               "is_active": true})
    }
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            id: u.id.0,
            username: u.username,
            email: u.email,
            created_at: u.created_at,
            updated_at: u.updated_at,
            preferences: u.preferences,
            is_active: u.is_active,
        }
    }
}

/// A username read as a string: letters, digits, `-`, `_` (at least one letter or digit).
fn read_username(f: &mut Fields<'_>, name: &str, value: Option<String>) -> Option<Username> {
    f.validate(name, value, |u| Username::parse(&u))
}

/// An e-mail read as a string (validated, domain lower-cased).
fn read_email(f: &mut Fields<'_>, name: &str, value: Option<String>) -> Option<Email> {
    let value = value?;
    match Email::parse(&value) {
        Ok(e) => Some(e),
        Err(e) => {
            f.fail(
                name,
                "value_error",
                format!("value is not a valid email address: {e}"),
                Some(json!({"reason": e.0})),
            );
            None
        }
    }
}

/// Body of `POST /api/v1/users/`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = UserCreate::example())]
pub struct UserCreate {
    /// 3–50 characters: letters, digits, `-` and `_` (at least one letter or digit).
    #[schemars(with = "String", length(min = 3, max = 50))]
    #[input(then = read_username)]
    pub username: Username,
    /// A deliverable e-mail address; stored with the domain lower-cased.
    #[schemars(with = "String", email)]
    #[input(then = read_email)]
    pub email: Email,
    /// Initial preferences (`null` = `{}`).
    #[serde(default)]
    pub preferences: Option<JsonObject>,
}

impl UserCreate {
    fn example() -> serde_json::Value {
        json!({"username": "alice", "email": "alice@example.com", "preferences": {"theme": "dark"}})
    }
}

impl From<UserCreate> for NewUser {
    fn from(b: UserCreate) -> Self {
        NewUser {
            username: b.username,
            email: b.email,
            preferences: b.preferences.unwrap_or_default(),
        }
    }
}

/// Body of `PUT /api/v1/users/{user_id}` — every field optional; `null` = unchanged.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = UserUpdate::example())]
pub struct UserUpdate {
    /// New username (same rule as on creation).
    #[schemars(with = "Option<String>", length(min = 3, max = 50))]
    #[input(then = read_username)]
    pub username: Option<Username>,
    /// New e-mail.
    #[schemars(with = "Option<String>", email)]
    #[input(then = read_email)]
    pub email: Option<Email>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

impl UserUpdate {
    fn example() -> serde_json::Value {
        json!({"username": "alice_2", "email": "alice2@example.com"})
    }
}

impl From<UserUpdate> for UserChanges {
    fn from(b: UserUpdate) -> Self {
        UserChanges {
            username: b.username,
            email: b.email,
            is_active: b.is_active,
        }
    }
}

/// Body of `PUT /api/v1/users/{user_id}/preferences`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = PreferencesUpdate::example())]
pub struct PreferencesUpdate {
    /// Keys to add or overwrite (shallow merge; other keys are kept, `null` values are stored).
    pub preferences: JsonObject,
}

impl PreferencesUpdate {
    fn example() -> serde_json::Value {
        json!({"preferences": {"theme": "light", "language": "es"}})
    }
}

/// Query of `GET /api/v1/users/` and `GET /api/v1/users/search`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct UserListQuery {
    /// Only active users.
    #[serde(default)]
    pub active_only: bool,
    /// Rows to skip (≥ 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

impl UserListQuery {
    /// The domain query.
    pub fn query(&self) -> UserQuery {
        UserQuery {
            active_only: self.active_only,
            preferences: JsonObject::new(),
        }
    }
}

/// Body of `POST /api/v1/users/search` (every field optional).
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = UserSearch::example())]
pub struct UserSearch {
    /// Only active users.
    #[serde(default)]
    pub active_only: bool,
    /// Users whose preferences contain every given key with exactly the given JSON value
    /// (type-sensitive: `true` matches boolean `true`, not `"true"`).
    pub preferences_filter: Option<JsonObject>,
    /// Rows to skip (≥ 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

impl UserSearch {
    fn example() -> serde_json::Value {
        json!({"active_only": true, "preferences_filter": {"theme": "dark"}, "skip": 0, "limit": 10})
    }
}

impl crate::extract::OptionalBody for UserSearch {}

impl UserSearch {
    /// The domain query.
    pub fn query(&self) -> UserQuery {
        UserQuery {
            active_only: self.active_only,
            preferences: self.preferences_filter.clone().unwrap_or_default(),
        }
    }
}

text_path!(
    /// `{username}`.
    UsernamePath { username }
);
text_path!(
    /// `{email}`.
    EmailPath { email }
);

limit_query!(
    /// `limit` of `GET /users/{id}/recommendations/unserved` (default 20).
    UnservedLimit,
    "crate::dto::defaults::n_20"
);

/// `GET /api/v1/users/{user_id}/stats`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct UserStatsOut {
    /// Interactions recorded by the user.
    pub total_interactions: i64,
    /// Content items the user created.
    pub content_created: i64,
    /// Mean of the user's ratings, 0.0 if none.
    pub avg_rating_given: f64,
}

impl From<UserActivity> for UserStatsOut {
    fn from(a: UserActivity) -> Self {
        UserStatsOut {
            total_interactions: a.total_interactions,
            content_created: a.content_created,
            avg_rating_given: a.avg_rating_given,
        }
    }
}

/// `GET /api/v1/users/stats/overview`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct UserOverviewOut {
    /// All users.
    pub total_users: i64,
    /// Active users.
    pub active_users: i64,
    /// Inactive users.
    pub inactive_users: i64,
}

impl From<UserOverview> for UserOverviewOut {
    fn from(o: UserOverview) -> Self {
        UserOverviewOut {
            total_users: o.total,
            active_users: o.active,
            inactive_users: o.total - o.active,
        }
    }
}
