use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::ContentId;
use crate::model::{Content, Timestamp};

/// Dimensions of the item embeddings (all-MiniLM-L6-v2 class sentence embeddings).
pub const EMBEDDING_DIM: usize = 384;

/// Turns texts into sentence embeddings: one unit vector of [`EMBEDDING_DIM`] numbers per
/// text, in order. The work is CPU-bound: adapters run it off the async executor.
#[async_trait]
pub trait TextEmbedder: Send + Sync {
    /// Which model produced the vectors (stored with each vector).
    fn model(&self) -> &str;

    /// The embeddings of `texts`, in order; each has length [`EMBEDDING_DIM`] and norm 1.
    async fn embed(&self, texts: Vec<String>) -> DomainResult<Vec<Vec<f32>>>;
}

/// One stored item embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVector {
    /// The item.
    pub item: ContentId,
    /// Its unit vector.
    pub vector: Vec<f32>,
    /// When it was written.
    pub updated_at: Timestamp,
}

/// Where item embeddings are kept (one row per item, removed with the item).
///
/// An item is *pending* when it was created or its text changed after its vector was
/// computed (the store marks it so itself, whoever wrote the item), and *missing* when it
/// never had a vector.
#[async_trait]
pub trait EmbeddingStore: Send + Sync {
    /// Items that need a vector — pending or missing — newest first, at most `limit`; with
    /// `pending_only`, only items marked pending (cheap: a partial index), never the whole
    /// catalogue's missing ones.
    async fn needing(&self, pending_only: bool, limit: usize) -> DomainResult<Vec<Content>>;

    /// How many items need a vector (pending or missing).
    async fn count_needing(&self) -> DomainResult<i64>;

    /// Stores vectors (replacing older ones) computed by `model`; clears their pending marks.
    async fn save(&self, model: &str, vectors: &[(ContentId, Vec<f32>)], now: Timestamp) -> DomainResult<()>;

    /// Stored vectors written at or after `since` (every one with `None`), ordered by
    /// `(updated_at, item)`, after `after` in that order, at most `limit`.
    async fn changed(
        &self,
        since: Option<Timestamp>,
        after: Option<(Timestamp, ContentId)>,
        limit: usize,
    ) -> DomainResult<Vec<StoredVector>>;
}

/// Nearest-neighbour search over item embeddings, held in process. Cosine similarity of unit
/// vectors (their dot product). Implementations are internally synchronised.
pub trait VectorIndex: Send + Sync {
    /// Adds or replaces the vector of `item`.
    fn upsert(&self, item: ContentId, vector: &[f32]);

    /// The `k` items most similar to `query`, best first, with their similarity.
    fn nearest(&self, query: &[f32], k: usize) -> Vec<(ContentId, f32)>;

    /// The vector of `item`, if indexed.
    fn vector(&self, item: ContentId) -> Option<Vec<f32>>;

    /// How many items are indexed.
    fn len(&self) -> usize;

    /// Whether nothing is indexed.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
