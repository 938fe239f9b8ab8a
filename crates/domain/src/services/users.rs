use std::sync::Arc;

use crate::error::{Conflict, DomainError, DomainResult, Entity, InactiveAction, NotFound, Rule};
use crate::ids::UserId;
use crate::model::{JsonObject, NewUser, User, UserActivity, UserChanges, UserOverview, UserQuery};
use crate::page::{Page, PageRequest};
use crate::ports::{Clock, UserRepository};

/// Users: registration, profile changes, activation, lookups and counters.
#[derive(Clone)]
pub struct UserService {
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
}

impl UserService {
    /// A service over `users`.
    pub fn new(users: Arc<dyn UserRepository>, clock: Arc<dyn Clock>) -> Self {
        UserService { users, clock }
    }

    /// Registers a user. Username uniqueness is checked before e-mail uniqueness.
    pub async fn create(&self, new: NewUser) -> DomainResult<User> {
        if self
            .users
            .find_by_username(new.username.as_str())
            .await?
            .is_some()
        {
            return Err(DomainError::Conflict(Conflict::Username(None)));
        }
        if self.users.find_by_email(new.email.as_str()).await?.is_some() {
            return Err(DomainError::Conflict(Conflict::Email(None)));
        }
        self.users.insert(new, self.clock.now()).await
    }

    /// The user, if it exists.
    pub async fn find(&self, id: UserId) -> DomainResult<Option<User>> {
        self.users.get(id).await
    }

    /// The user, or `NotFound("User with id … not found")`.
    pub async fn get(&self, id: UserId) -> DomainResult<User> {
        self.users
            .get(id)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::User, id))
    }

    /// The user, which must exist and be active (otherwise the rule error says what an
    /// inactive user cannot do: `action`).
    pub async fn get_active(&self, id: UserId, action: InactiveAction) -> DomainResult<User> {
        let user = self.get(id).await?;
        if !user.is_active {
            return Err(DomainError::Rule(Rule::InactiveUser(action)));
        }
        Ok(user)
    }

    /// Fails with `NotFound` unless the user exists.
    pub async fn ensure_exists(&self, id: UserId) -> DomainResult<()> {
        self.get(id).await.map(drop)
    }

    /// Which of these users exist.
    pub async fn get_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>> {
        self.users.get_many(ids).await
    }

    /// Lookup by exact username.
    pub async fn by_username(&self, username: &str) -> DomainResult<User> {
        self.users
            .find_by_username(username)
            .await?
            .ok_or_else(|| DomainError::NotFound(NotFound::Username(username.to_owned())))
    }

    /// Lookup by exact stored e-mail (not normalised).
    pub async fn by_email(&self, email: &str) -> DomainResult<User> {
        self.users
            .find_by_email(email)
            .await?
            .ok_or_else(|| DomainError::NotFound(NotFound::Email(email.to_owned())))
    }

    /// Changes username, e-mail and/or activity. Order of checks: existence, username taken by
    /// someone else, e-mail taken by someone else.
    pub async fn update(&self, id: UserId, changes: UserChanges) -> DomainResult<User> {
        let user = self.get(id).await?;
        if let Some(username) = &changes.username
            && username.as_str() != user.username
            && self.users.find_by_username(username.as_str()).await?.is_some()
        {
            return Err(DomainError::Conflict(Conflict::Username(Some(
                username.to_string(),
            ))));
        }
        if let Some(email) = &changes.email
            && email.as_str() != user.email
            && self.users.find_by_email(email.as_str()).await?.is_some()
        {
            return Err(DomainError::Conflict(Conflict::Email(Some(email.to_string()))));
        }
        if !changes.changes(&user) {
            return Ok(user);
        }
        self.users
            .update(id, changes, self.clock.now())
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::User, id))
    }

    /// Sets the activity flag (deactivate, activate, soft delete).
    pub async fn set_active(&self, id: UserId, active: bool) -> DomainResult<User> {
        self.update(
            id,
            UserChanges {
                is_active: Some(active),
                ..UserChanges::default()
            },
        )
        .await
    }

    /// Shallow-merges preferences.
    pub async fn merge_preferences(&self, id: UserId, preferences: JsonObject) -> DomainResult<User> {
        self.users
            .merge_preferences(id, preferences, self.clock.now())
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::User, id))
    }

    /// Users matching `query`, by id.
    pub async fn list(&self, query: &UserQuery, page: PageRequest) -> DomainResult<Page<User>> {
        self.users.list(query, page).await
    }

    /// Activity counters of an existing user.
    pub async fn activity(&self, id: UserId) -> DomainResult<UserActivity> {
        self.ensure_exists(id).await?;
        self.users.activity(id).await
    }

    /// Counts of users.
    pub async fn overview(&self) -> DomainResult<UserOverview> {
        self.users.overview().await
    }
}
