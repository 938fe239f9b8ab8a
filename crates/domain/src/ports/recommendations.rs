use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::{RecommendationId, UserId};
use crate::model::{
    NewRecommendation, Recommendation, RecommendationChanges, RecommendationQuery, RecommendationStats,
    Timestamp,
};
use crate::page::{Page, PageRequest};

/// A result that exists only for an existing, active user.
#[derive(Debug, Clone, PartialEq)]
pub enum ForUser<T> {
    /// There is no such user.
    Missing,
    /// The user exists but is inactive.
    Inactive,
    /// The user is active.
    Active(T),
}

/// Storage of recommendations.
#[async_trait]
pub trait RecommendationRepository: Send + Sync {
    /// Stores one unserved recommendation created at `now`.
    async fn insert(&self, recommendation: NewRecommendation, now: Timestamp)
    -> DomainResult<Recommendation>;

    /// Stores all of them in one transaction (all or nothing), in input order.
    async fn insert_many(
        &self,
        recommendations: Vec<NewRecommendation>,
        now: Timestamp,
    ) -> DomainResult<Vec<Recommendation>>;

    /// The recommendation with this id, if any.
    async fn get(&self, id: RecommendationId) -> DomainResult<Option<Recommendation>>;

    /// Applies `changes`. `None` if it does not exist.
    async fn update(
        &self,
        id: RecommendationId,
        changes: RecommendationChanges,
    ) -> DomainResult<Option<Recommendation>>;

    /// Deletes it; `false` if it did not exist.
    async fn delete(&self, id: RecommendationId) -> DomainResult<bool>;

    /// Recommendations matching every filter in the query's order, with the total of matches.
    async fn list(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Page<Recommendation>>;

    /// [`list`](Self::list) for `user` (the query's user filter), with the user's state read
    /// on the same connection, in the same round trip where the store can: the listing when
    /// the user exists and is active.
    async fn list_for_user(
        &self,
        user: UserId,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<ForUser<Page<Recommendation>>>;

    /// Like [`list`](Self::list) without counting.
    async fn fetch(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Vec<Recommendation>>;

    /// Marks every listed recommendation served at `now` in one transaction. If any id does
    /// not exist, nothing changes and the first missing id (in input order) is reported as
    /// `DomainError::NotFound`. Returns how many distinct recommendations were marked.
    async fn mark_served(&self, ids: &[RecommendationId], now: Timestamp) -> DomainResult<u64>;

    /// Records feedback atomically: replaces the recommendation's metadata and, when given,
    /// records the matching interaction in the same transaction. With `reject` (negative
    /// feedback) the recommendation is also marked served (if it was not) and the user's other
    /// unserved recommendations of the same item are deleted. `None` if the recommendation
    /// does not exist (then nothing is written).
    async fn record_feedback(
        &self,
        id: RecommendationId,
        metadata: crate::model::JsonObject,
        interaction: Option<crate::model::NewInteraction>,
        reject: bool,
        now: Timestamp,
    ) -> DomainResult<Option<Recommendation>>;

    /// Counters, for one user or for all. Computed by the store.
    async fn stats(&self, user: Option<UserId>) -> DomainResult<RecommendationStats>;
}
