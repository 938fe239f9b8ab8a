use std::sync::Arc;

use crate::error::{DomainError, DomainResult, Entity, Rule};
use crate::ids::{ContentId, UserId};
use crate::model::{
    Content, ContentChanges, ContentKey, ContentQuery, ContentStart, ContentStats, ContentType, NewContent,
};
use crate::page::{KeysetPage, Page, PageRequest};
use crate::ports::{Clock, ContentRepository};
use crate::services::{UserService, days_ago};
use crate::values::non_blank;

/// Quality score given to newly created content.
pub const INITIAL_QUALITY: f64 = 0.5;

/// Content items: creation, changes, deletion, search and counters.
#[derive(Clone)]
pub struct ContentService {
    content: Arc<dyn ContentRepository>,
    users: UserService,
    clock: Arc<dyn Clock>,
}

impl ContentService {
    /// A service over `content`.
    pub fn new(content: Arc<dyn ContentRepository>, users: UserService, clock: Arc<dyn Clock>) -> Self {
        ContentService {
            content,
            users,
            clock,
        }
    }

    /// Creates an item. Order: creator exists, title non-blank, content non-blank.
    pub async fn create(&self, mut new: NewContent) -> DomainResult<Content> {
        if self.users.find(new.creator_id).await?.is_none() {
            return Err(DomainError::Rule(Rule::CreatorMissing));
        }
        new.title = non_blank(&new.title).ok_or_else(|| DomainError::Rule(Rule::EmptyTitle))?;
        if new.content_data.trim().is_empty() {
            return Err(DomainError::Rule(Rule::EmptyContentData));
        }
        self.content.insert(new, INITIAL_QUALITY, self.clock.now()).await
    }

    /// The item, or `NotFound("ContentItem with id … not found")`.
    pub async fn get(&self, id: ContentId) -> DomainResult<Content> {
        self.content
            .get(id)
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::ContentItem, id))
    }

    /// The item, if it exists.
    pub async fn find(&self, id: ContentId) -> DomainResult<Option<Content>> {
        self.content.get(id).await
    }

    /// Fails with `NotFound` unless the item exists.
    pub async fn ensure_exists(&self, id: ContentId) -> DomainResult<()> {
        self.get(id).await.map(drop)
    }

    /// Changes an item. Order: existence, title, content, resulting visibility.
    pub async fn update(&self, id: ContentId, mut changes: ContentChanges) -> DomainResult<Content> {
        let current = self.get(id).await?;
        if let Some(title) = &changes.title {
            changes.title = Some(non_blank(title).ok_or_else(|| DomainError::Rule(Rule::EmptyTitle))?);
        }
        if changes.content_data.as_ref().is_some_and(|c| c.trim().is_empty()) {
            return Err(DomainError::Rule(Rule::EmptyContentData));
        }
        let public = changes.is_public.unwrap_or(current.is_public);
        let private = changes.is_private.unwrap_or(current.is_private);
        if public && private {
            return Err(DomainError::Rule(Rule::PublicAndPrivate));
        }
        self.content
            .update(id, changes, self.clock.now())
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::ContentItem, id))
    }

    /// Sets the quality score (already validated to `[0, 1]`).
    pub async fn set_quality(&self, id: ContentId, score: f64) -> DomainResult<Content> {
        self.content
            .set_quality(id, score, self.clock.now())
            .await?
            .ok_or_else(|| DomainError::not_found(Entity::ContentItem, id))
    }

    /// Deletes an item and everything that references it.
    pub async fn delete(&self, id: ContentId) -> DomainResult<()> {
        if self.content.delete(id).await? {
            Ok(())
        } else {
            Err(DomainError::not_found(Entity::ContentItem, id))
        }
    }

    /// The listing with every filter applied, from `start` (an offset or a key), at most `limit`
    /// items, with the key the next page starts after (`None` on the last page). Both kinds
    /// of start give the same items in the same order; a key costs the same at any depth.
    pub async fn list_paged(
        &self,
        query: &ContentQuery,
        start: ContentStart,
        limit: i64,
    ) -> DomainResult<KeysetPage<Content, ContentKey>> {
        // One row more than asked says whether a next page exists.
        let probe = limit.max(0).saturating_add(1);
        let page = match start {
            ContentStart::Skip(skip) => self.content.list(query, PageRequest::new(skip, probe)).await?,
            ContentStart::After(key) => self.content.list_from(query, Some(key), probe).await?,
        };
        Ok(KeysetPage::from_probe(page, limit, ContentKey::of))
    }

    /// Search / list with every filter applied.
    pub async fn list(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Page<Content>> {
        self.content.list(query, page).await
    }

    /// Items of an existing creator, newest first.
    pub async fn by_creator(&self, creator: UserId, page: PageRequest) -> DomainResult<Page<Content>> {
        self.users.ensure_exists(creator).await?;
        let query = ContentQuery {
            creator_id: Some(creator),
            ..ContentQuery::default()
        };
        self.content.list(&query, page).await
    }

    /// Items of the type spelled `raw`; an unknown type yields an empty page.
    pub async fn by_type(&self, raw: &str, page: PageRequest) -> DomainResult<Page<Content>> {
        match ContentType::parse(raw) {
            Some(content_type) => {
                let query = ContentQuery {
                    content_type: Some(content_type),
                    ..ContentQuery::default()
                };
                self.content.list(&query, page).await
            }
            None => Ok(Page::empty()),
        }
    }

    /// Public items, newest first.
    pub async fn public(&self, page: PageRequest) -> DomainResult<Page<Content>> {
        self.content
            .list(
                &ContentQuery {
                    public_only: true,
                    ..ContentQuery::default()
                },
                page,
            )
            .await
    }

    /// Best-rated items (any visibility).
    pub async fn top_rated(&self, limit: i64) -> DomainResult<Vec<Content>> {
        self.content.top_rated(limit).await
    }

    /// Items created in the last `days` days (any visibility), newest first.
    pub async fn recent(&self, days: i64, limit: i64) -> DomainResult<Vec<Content>> {
        let query = ContentQuery {
            created_since: Some(days_ago(self.clock.now(), days)),
            ..ContentQuery::default()
        };
        self.content.fetch(&query, PageRequest::first(limit)).await
    }

    /// Which of these items exist.
    pub async fn existing(&self, ids: &[ContentId]) -> DomainResult<Vec<ContentId>> {
        self.content.existing(ids).await
    }

    /// Catalogue counters.
    pub async fn stats(&self) -> DomainResult<ContentStats> {
        self.content.stats().await
    }
}
