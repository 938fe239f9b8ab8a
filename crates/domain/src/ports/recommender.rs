use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::{ContentId, UserId};
use crate::model::Timestamp;
use crate::recommender::{
    BuildClaim, BuildInfo, BuildStatus, CandidateLists, CandidateRequest, EraTables, ItemFacts, ItemRow,
    Model, Signal, TagRow, UserState,
};

/// What the recommender reads at request time. An adapter answers each call with one or two
/// indexed queries; derived state (popularity, neighbours, tag statistics) comes from the last
/// [`RecommenderBuildStore`] build and is `None` where it was never built.
#[async_trait]
pub trait RecommenderData: Send + Sync {
    /// The user's most recent interactions (newest first, at most `limit`) with the facts of
    /// the items, the items they rejected (recommendations with `disliked`/`dismissed`
    /// feedback) and their preferences.
    async fn user_state(&self, user: UserId, limit: usize) -> DomainResult<UserState>;

    /// Candidate lists from the derived state: neighbours of the seeds, top items of the
    /// tags, the most popular items (of the era containing `popular_at`, if any, else of all
    /// time).
    async fn candidates(&self, request: &CandidateRequest) -> DomainResult<CandidateLists>;

    /// Popularity computed from raw interactions since `since` (the fallback when no build
    /// exists yet), best first, at most `limit`, weighted with `weights` (interaction type
    /// name → weight).
    async fn popular_live(
        &self,
        since: Timestamp,
        weights: &[(&'static str, f64)],
        limit: usize,
    ) -> DomainResult<Vec<(ContentId, f64)>>;

    /// Publicly listed items carrying any of `tags` (the fallback when no tag statistics
    /// exist), highest quality first, at most `limit`.
    async fn tagged_live(&self, tags: &[String], limit: usize) -> DomainResult<Vec<ContentId>>;

    /// Facts of the items that exist, in any order.
    async fn facts(&self, ids: &[ContentId]) -> DomainResult<Vec<ItemFacts>>;
}

/// What the maintenance job reads and writes: the raw signals, the derived state it builds
/// from them, and the build's coordination (one build per store at a time, across processes).
#[async_trait]
pub trait RecommenderBuildStore: Send + Sync {
    /// Interactions with id greater than `after`, by id, at most `limit`: `(id, user, signal)`.
    async fn signals(&self, after: i64, limit: usize) -> DomainResult<Vec<(i64, UserId, Signal)>>;

    /// Items with id greater than `after`, by id, at most `limit`.
    async fn items(&self, after: ContentId, limit: usize) -> DomainResult<Vec<ItemFacts>>;

    /// The last build, the pending request, the running build, the newest interaction.
    async fn status(&self, now: Timestamp) -> DomainResult<BuildStatus>;

    /// Asks for a build (a full one with `full`); whichever worker checks next runs it.
    async fn request_build(&self, full: bool, now: Timestamp) -> DomainResult<()>;

    /// Takes the build lock for `worker` until `until` unless another worker holds an
    /// unexpired one; returns the pending request it thereby takes over (`None`: not taken).
    async fn claim_build(
        &self,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> DomainResult<Option<BuildClaim>>;

    /// Releases `worker`'s build lock, recording the error of a failed build.
    async fn finish_build(&self, worker: &str, error: Option<&str>) -> DomainResult<()>;

    /// Stores a build: with `full`, `rows` replace all per-item derived state (rows of items
    /// not listed are removed); otherwise only the listed items' rows are replaced. Tag
    /// statistics, popularity and trending eras and the learned `model` are always replaced. `info` becomes
    /// the current build. One transaction.
    async fn save_build(
        &self,
        rows: Vec<ItemRow>,
        tags: Vec<TagRow>,
        model: Model,
        eras: EraTables,
        info: BuildInfo,
        full: bool,
    ) -> DomainResult<()>;
}
