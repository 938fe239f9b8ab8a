use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::ContentId;
use crate::model::{Content, ContentChanges, ContentKey, ContentQuery, ContentStats, NewContent, Timestamp};
use crate::page::{Page, PageRequest};

/// Storage of content items.
#[async_trait]
pub trait ContentRepository: Send + Sync {
    /// Stores a new item (title already trimmed and checked by the service).
    /// A creator that does not exist → `DomainError::Rule(Rule::CreatorMissing)`.
    async fn insert(&self, content: NewContent, quality_score: f64, now: Timestamp) -> DomainResult<Content>;

    /// The item with this id, if any.
    async fn get(&self, id: ContentId) -> DomainResult<Option<Content>>;

    /// The items with these ids that exist, in any order.
    async fn get_many(&self, ids: &[ContentId]) -> DomainResult<Vec<Content>>;

    /// Which of these ids exist.
    async fn existing(&self, ids: &[ContentId]) -> DomainResult<Vec<ContentId>>;

    /// Applies `changes` (already checked by the service) and sets `updated_at = now`.
    /// `None` if the item does not exist. A change that would make the item both public and
    /// private is rejected by the store with `DomainError::Rule`.
    async fn update(
        &self,
        id: ContentId,
        changes: ContentChanges,
        now: Timestamp,
    ) -> DomainResult<Option<Content>>;

    /// Sets the quality score and `updated_at`. `None` if the item does not exist.
    async fn set_quality(&self, id: ContentId, score: f64, now: Timestamp) -> DomainResult<Option<Content>>;

    /// Deletes the item together with its interactions and recommendations, and detaches it
    /// from generation jobs (`result_content_id = NULL`), in one atomic step.
    /// `false` if it did not exist.
    async fn delete(&self, id: ContentId) -> DomainResult<bool>;

    /// Items matching every filter of `query`, newest first (`created_at` desc, `id` desc),
    /// with the total number of matches.
    async fn list(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Page<Content>>;

    /// Keyset paging: the first `limit` items matching every filter of `query` that come
    /// strictly after `after` in the same order as [`list`](Self::list) (`created_at` desc,
    /// `id` desc; all matches when `after` is `None`), with the total number of matches
    /// ignoring `after`. Costs the same at any depth (an index range scan from the key).
    async fn list_from(
        &self,
        query: &ContentQuery,
        after: Option<ContentKey>,
        limit: i64,
    ) -> DomainResult<Page<Content>>;

    /// Like [`list`](Self::list) without counting the total.
    async fn fetch(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Vec<Content>>;

    /// Items with `quality_score > 0`, best first (ties: id ascending), at most `limit`.
    async fn top_rated(&self, limit: i64) -> DomainResult<Vec<Content>>;

    /// Counters for the whole catalogue.
    async fn stats(&self) -> DomainResult<ContentStats>;
}
