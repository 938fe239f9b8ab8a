use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::{ContentId, InteractionId, UserId};
use crate::model::{
    ContentType, Interaction, InteractionChanges, InteractionQuery, InteractionType, NewInteraction,
    Timestamp, TypeAggregate,
};
use crate::page::{Page, PageRequest};

/// Storage of interactions.
#[async_trait]
pub trait InteractionRepository: Send + Sync {
    /// Records an interaction at `now` (user and item existence already checked; a vanished
    /// user or item → `DomainError::Rule`).
    async fn insert(&self, interaction: NewInteraction, now: Timestamp) -> DomainResult<Interaction>;

    /// Records an interaction at `now` if its user exists and is active, in one step (the hot
    /// path of the API). `None` if the user is missing or inactive (nothing written); a missing
    /// item → `DomainError::Rule(Rule::ContentMissing)`.
    async fn insert_if_active(
        &self,
        interaction: NewInteraction,
        now: Timestamp,
    ) -> DomainResult<Option<Interaction>>;

    /// The interaction with this id, if any.
    async fn get(&self, id: InteractionId) -> DomainResult<Option<Interaction>>;

    /// Applies `changes`. `None` if it does not exist.
    async fn update(
        &self,
        id: InteractionId,
        changes: InteractionChanges,
    ) -> DomainResult<Option<Interaction>>;

    /// Deletes it; `false` if it did not exist.
    async fn delete(&self, id: InteractionId) -> DomainResult<bool>;

    /// Interactions matching every filter, newest first (`created_at` desc, `id` desc), with
    /// the total number of matches.
    async fn list(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Page<Interaction>>;

    /// Like [`list`](Self::list) without counting.
    async fn fetch(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Vec<Interaction>>;

    /// The most recent interaction of `user` on `content` whose type is spelled exactly
    /// `interaction_type`.
    async fn latest_between(
        &self,
        user: UserId,
        content: ContentId,
        interaction_type: &str,
    ) -> DomainResult<Option<Interaction>>;

    /// Per-type aggregates over the interactions matching `query`, in canonical type order,
    /// types without interactions omitted. Computed by the store.
    async fn aggregate(&self, query: &InteractionQuery) -> DomainResult<Vec<TypeAggregate>>;

    /// The number of interactions of every type (zeros included, in canonical type order).
    /// Exact, and cheap at any table size.
    async fn count_by_type(&self) -> DomainResult<Vec<(InteractionType, i64)>>;

    /// Housekeeping behind cheap whole-table counts, run every few seconds: the PostgreSQL
    /// store folds the interactions recorded since the previous call into its counters.
    /// Returns how far the counters reach (the highest id they cover; 0 for stores without).
    async fn checkpoint_counts(&self) -> DomainResult<i64>;

    /// Content types of the items `user` interacted with, by number of interactions
    /// (descending, ties by type order), at most `limit`.
    async fn favorite_content_types(&self, user: UserId, limit: i64) -> DomainResult<Vec<ContentType>>;
}
