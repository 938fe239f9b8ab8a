use std::sync::Arc;

use crate::error::{DomainError, DomainResult, Entity, InactiveAction, NotFound, Rule};
use crate::ids::{ContentId, InteractionId, UserId};
use crate::model::{
    Interaction, InteractionChanges, InteractionQuery, InteractionType, NewInteraction, TypeAggregate,
    UserBehavior,
};
use crate::page::{Page, PageRequest};
use crate::ports::{Clock, ContentRepository, InteractionRepository};
use crate::services::{UserService, days_ago};

/// Per-type counts over all interactions (every type present, canonical order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionTypeCounts {
    /// All interactions.
    pub total: i64,
    /// One entry per interaction type, in canonical order.
    pub by_type: Vec<(InteractionType, i64)>,
}

/// Per-type aggregates of one content item.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentInteractionStats {
    /// The item.
    pub content_item_id: ContentId,
    /// Types present on the item.
    pub by_type: Vec<TypeAggregate>,
}

/// Interactions: recording what users do, and reading it back.
#[derive(Clone)]
pub struct InteractionService {
    interactions: Arc<dyn InteractionRepository>,
    content: Arc<dyn ContentRepository>,
    users: UserService,
    clock: Arc<dyn Clock>,
}

impl InteractionService {
    /// A service over `interactions`.
    pub fn new(
        interactions: Arc<dyn InteractionRepository>,
        content: Arc<dyn ContentRepository>,
        users: UserService,
        clock: Arc<dyn Clock>,
    ) -> Self {
        InteractionService {
            interactions,
            content,
            users,
            clock,
        }
    }

    /// Records an interaction. Order: user exists, user active, content exists (all 422).
    pub async fn record(&self, new: NewInteraction) -> DomainResult<Interaction> {
        let user = new.user_id;
        // One statement on the hot path; the reason is looked up only when nothing was written.
        match self.interactions.insert_if_active(new, self.clock.now()).await? {
            Some(recorded) => Ok(recorded),
            None => match self.users.find(user).await? {
                None => Err(DomainError::Rule(Rule::UserMissing)),
                Some(_) => Err(DomainError::Rule(Rule::InactiveUser(
                    InactiveAction::RecordInteractions,
                ))),
            },
        }
    }

    /// The interaction, or `NotFound`.
    pub async fn get(&self, id: InteractionId) -> DomainResult<Interaction> {
        self.interactions
            .get(id)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::UserInteraction, id))
    }

    /// Changes rating, duration and/or metadata.
    pub async fn update(&self, id: InteractionId, changes: InteractionChanges) -> DomainResult<Interaction> {
        self.interactions
            .update(id, changes)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::UserInteraction, id))
    }

    /// Deletes an interaction.
    pub async fn delete(&self, id: InteractionId) -> DomainResult<()> {
        if self.interactions.delete(id).await? {
            Ok(())
        } else {
            Err(DomainError::not_found(Entity::UserInteraction, id))
        }
    }

    /// Lists with every filter applied; a referenced user or item must exist.
    pub async fn list(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Page<Interaction>> {
        if let Some(user) = query.user_id {
            self.users.ensure_exists(user).await?;
        }
        if let Some(content) = query.content_item_id {
            self.ensure_content(content).await?;
        }
        self.interactions.list(query, page).await
    }

    /// Interactions of a user within the last `days` days (when given), newest first.
    pub fn query_since(&self, days: Option<i64>) -> Option<crate::model::Timestamp> {
        days.map(|d| days_ago(self.clock.now(), d))
    }

    /// An existing user's interactions, newest first.
    pub async fn by_user(&self, user: UserId, page: PageRequest) -> DomainResult<Page<Interaction>> {
        self.users.ensure_exists(user).await?;
        self.interactions
            .list(
                &InteractionQuery {
                    user_id: Some(user),
                    ..InteractionQuery::default()
                },
                page,
            )
            .await
    }

    /// An existing user's interactions of the last `days` days, newest first, at most `limit`.
    pub async fn recent_by_user(
        &self,
        user: UserId,
        days: i64,
        limit: i64,
    ) -> DomainResult<Vec<Interaction>> {
        self.users.ensure_exists(user).await?;
        let query = InteractionQuery {
            user_id: Some(user),
            since: Some(days_ago(self.clock.now(), days)),
            ..InteractionQuery::default()
        };
        self.interactions.fetch(&query, PageRequest::first(limit)).await
    }

    /// Per-type aggregates of an existing user's interactions, with the total.
    pub async fn user_summary(&self, user: UserId) -> DomainResult<(i64, Vec<TypeAggregate>)> {
        self.users.ensure_exists(user).await?;
        let by_type = self
            .interactions
            .aggregate(&InteractionQuery {
                user_id: Some(user),
                ..InteractionQuery::default()
            })
            .await?;
        Ok((by_type.iter().map(|a| a.count).sum(), by_type))
    }

    /// Interactions on an existing item, newest first.
    pub async fn by_content(&self, content: ContentId, page: PageRequest) -> DomainResult<Page<Interaction>> {
        self.ensure_content(content).await?;
        let query = InteractionQuery {
            content_item_id: Some(content),
            ..InteractionQuery::default()
        };
        self.interactions.list(&query, page).await
    }

    /// Per-type aggregates of an existing item.
    pub async fn content_stats(&self, content: ContentId) -> DomainResult<ContentInteractionStats> {
        self.ensure_content(content).await?;
        let query = InteractionQuery {
            content_item_id: Some(content),
            ..InteractionQuery::default()
        };
        Ok(ContentInteractionStats {
            content_item_id: content,
            by_type: self.interactions.aggregate(&query).await?,
        })
    }

    /// Interactions of the type spelled `raw`; unknown types yield an empty page.
    pub async fn by_type(&self, raw: &str, page: PageRequest) -> DomainResult<Page<Interaction>> {
        match InteractionType::parse(raw) {
            Some(t) => {
                let query = InteractionQuery {
                    interaction_type: Some(t),
                    ..InteractionQuery::default()
                };
                self.interactions.list(&query, page).await
            }
            None => Ok(Page::empty()),
        }
    }

    /// The most recent interaction of exactly this type between an existing user and item.
    pub async fn between(
        &self,
        user: UserId,
        content: ContentId,
        interaction_type: &str,
    ) -> DomainResult<Interaction> {
        self.users.ensure_exists(user).await?;
        self.ensure_content(content).await?;
        self.interactions
            .latest_between(user, content, interaction_type)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound(NotFound::InteractionBetween {
                    user,
                    content,
                    interaction_type: interaction_type.to_owned(),
                })
            })
    }

    /// An existing user's behaviour profile.
    pub async fn user_behavior(&self, user: UserId) -> DomainResult<UserBehavior> {
        let (total_interactions, by_type) = self.user_summary(user).await?;
        let favorite_content_types = if total_interactions == 0 {
            Vec::new()
        } else {
            self.interactions.favorite_content_types(user, 5).await?
        };
        Ok(UserBehavior {
            total_interactions,
            by_type,
            favorite_content_types,
        })
    }

    /// Counts of all interactions per type.
    pub async fn overview(&self) -> DomainResult<InteractionTypeCounts> {
        // Every type in canonical order, zeros included: the port's promise.
        let by_type = self.interactions.count_by_type().await?;
        Ok(InteractionTypeCounts {
            total: by_type.iter().map(|(_, c)| c).sum(),
            by_type,
        })
    }

    async fn ensure_content(&self, id: ContentId) -> DomainResult<()> {
        match self.content.get(id).await? {
            Some(_) => Ok(()),
            None => Err(DomainError::not_found(Entity::ContentItem, id)),
        }
    }
}
