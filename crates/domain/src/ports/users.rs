use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::UserId;
use crate::model::{
    JsonObject, NewUser, Timestamp, User, UserActivity, UserChanges, UserOverview, UserQuery,
};
use crate::page::{Page, PageRequest};

/// Storage of users.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new active user with `created_at = updated_at = now`.
    ///
    /// A username or e-mail already in use → `DomainError::Conflict` (`Conflict::Username` /
    /// `Conflict::Email`).
    async fn insert(&self, user: NewUser, now: Timestamp) -> DomainResult<User>;

    /// The user with this id, if any (ids the store cannot hold simply do not exist).
    async fn get(&self, id: UserId) -> DomainResult<Option<User>>;

    /// The users with these ids that exist (any order).
    async fn get_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>>;

    /// Exact, case-sensitive lookup by username.
    async fn find_by_username(&self, username: &str) -> DomainResult<Option<User>>;

    /// Exact lookup by (normalised) e-mail.
    async fn find_by_email(&self, email: &str) -> DomainResult<Option<User>>;

    /// Applies `changes`; `updated_at = now` only if a value actually changed.
    /// `None` if the user does not exist. Uniqueness violations → `Conflict`.
    async fn update(&self, id: UserId, changes: UserChanges, now: Timestamp) -> DomainResult<Option<User>>;

    /// Shallow-merges `preferences` into the stored object atomically (top-level keys
    /// overwrite) and sets `updated_at = now`. `None` if the user does not exist.
    async fn merge_preferences(
        &self,
        id: UserId,
        preferences: JsonObject,
        now: Timestamp,
    ) -> DomainResult<Option<User>>;

    /// Users matching `query`, ordered by id ascending, with the total number of matches.
    async fn list(&self, query: &UserQuery, page: PageRequest) -> DomainResult<Page<User>>;

    /// Activity counters of a user (zeros for unknown users; callers check existence).
    async fn activity(&self, id: UserId) -> DomainResult<UserActivity>;

    /// Counts of all and active users.
    async fn overview(&self) -> DomainResult<UserOverview>;
}
