//! The in-memory fake of users.

use super::*;

#[async_trait]
impl UserRepository for Users {
    async fn insert(&self, user: NewUser, now: Timestamp) -> DomainResult<User> {
        let mut s = self.0.lock();
        if s.users.values().any(|u| u.username == user.username.as_str()) {
            return Err(DomainError::Conflict(crate::Conflict::Username(None)));
        }
        if s.users.values().any(|u| u.email == user.email.as_str()) {
            return Err(DomainError::Conflict(crate::Conflict::Email(None)));
        }
        let id = UserId(s.next());
        let user = User {
            id,
            username: user.username.into_inner(),
            email: user.email.into_inner(),
            created_at: now,
            updated_at: now,
            preferences: user.preferences,
            is_active: true,
        };
        s.users.insert(id, user.clone());
        Ok(user)
    }

    async fn get(&self, id: UserId) -> DomainResult<Option<User>> {
        Ok(self.0.lock().users.get(&id).cloned())
    }

    async fn get_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>> {
        let s = self.0.lock();
        Ok(ids.iter().filter_map(|id| s.users.get(id).cloned()).collect())
    }

    async fn find_by_username(&self, username: &str) -> DomainResult<Option<User>> {
        Ok(self
            .0
            .lock()
            .users
            .values()
            .find(|u| u.username == username)
            .cloned())
    }

    async fn find_by_email(&self, email: &str) -> DomainResult<Option<User>> {
        Ok(self.0.lock().users.values().find(|u| u.email == email).cloned())
    }

    async fn update(&self, id: UserId, changes: UserChanges, now: Timestamp) -> DomainResult<Option<User>> {
        let mut s = self.0.lock();
        if let Some(name) = &changes.username
            && s.users
                .values()
                .any(|u| u.id != id && u.username == name.as_str())
        {
            return Err(DomainError::Conflict(crate::Conflict::Username(None)));
        }
        if let Some(email) = &changes.email
            && s.users.values().any(|u| u.id != id && u.email == email.as_str())
        {
            return Err(DomainError::Conflict(crate::Conflict::Email(None)));
        }
        let Some(user) = s.users.get_mut(&id) else {
            return Ok(None);
        };
        if changes.changes(user) {
            if let Some(name) = changes.username {
                user.username = name.into_inner();
            }
            if let Some(email) = changes.email {
                user.email = email.into_inner();
            }
            if let Some(active) = changes.is_active {
                user.is_active = active;
            }
            user.updated_at = now;
        }
        Ok(Some(user.clone()))
    }

    async fn merge_preferences(
        &self,
        id: UserId,
        preferences: JsonObject,
        now: Timestamp,
    ) -> DomainResult<Option<User>> {
        let mut s = self.0.lock();
        let Some(user) = s.users.get_mut(&id) else {
            return Ok(None);
        };
        user.preferences.extend(preferences);
        user.updated_at = now;
        Ok(Some(user.clone()))
    }

    async fn list(&self, query: &UserQuery, page: PageRequest) -> DomainResult<Page<User>> {
        let s = self.0.lock();
        let needle = Value::Object(query.preferences.clone());
        let users: Vec<User> = s
            .users
            .values()
            .filter(|u| !query.active_only || u.is_active)
            .filter(|u| {
                query.preferences.is_empty() || json_contains(&Value::Object(u.preferences.clone()), &needle)
            })
            .cloned()
            .collect();
        Ok(paged(users, page))
    }

    async fn activity(&self, id: UserId) -> DomainResult<UserActivity> {
        let s = self.0.lock();
        let mine: Vec<&Interaction> = s.interactions.values().filter(|i| i.user_id == id).collect();
        Ok(UserActivity {
            total_interactions: mine.len() as i64,
            content_created: s.content.values().filter(|c| c.creator_id == id).count() as i64,
            avg_rating_given: mean(mine.iter().filter_map(|i| i.rating).map(f64::from)).unwrap_or(0.0),
        })
    }

    async fn overview(&self) -> DomainResult<UserOverview> {
        let s = self.0.lock();
        Ok(UserOverview {
            total: s.users.len() as i64,
            active: s.users.values().filter(|u| u.is_active).count() as i64,
        })
    }
}
