//! The in-memory fake of item embeddings.

use super::*;

/// [`EmbeddingStore`](crate::ports::EmbeddingStore) over the store: an item needs a vector
/// when it has none or was updated after it was computed.
pub(super) struct Embeddings(pub(super) InMemoryStore);

impl Embeddings {
    pub(super) fn needing_items(&self) -> Vec<Content> {
        let state = self.0.lock();
        let mut items: Vec<Content> = state
            .content
            .values()
            .filter(|c| state.embeddings.get(&c.id).is_none_or(|e| c.updated_at > e.2))
            .cloned()
            .collect();
        items.sort_by_key(|c| std::cmp::Reverse(c.id));
        items
    }
}

#[async_trait]
impl crate::ports::EmbeddingStore for Embeddings {
    async fn needing(&self, _pending_only: bool, limit: usize) -> DomainResult<Vec<Content>> {
        Ok(self.needing_items().into_iter().take(limit).collect())
    }

    async fn count_needing(&self) -> DomainResult<i64> {
        Ok(self.needing_items().len() as i64)
    }

    async fn save(&self, model: &str, vectors: &[(ContentId, Vec<f32>)], now: Timestamp) -> DomainResult<()> {
        let mut state = self.0.lock();
        for (id, v) in vectors {
            if state.content.contains_key(id) {
                state.embeddings.insert(*id, (model.to_owned(), v.clone(), now));
            }
        }
        Ok(())
    }

    async fn changed(
        &self,
        since: Option<Timestamp>,
        after: Option<(Timestamp, ContentId)>,
        limit: usize,
    ) -> DomainResult<Vec<crate::ports::StoredVector>> {
        let state = self.0.lock();
        let mut rows: Vec<crate::ports::StoredVector> = state
            .embeddings
            .iter()
            .filter(|(id, e)| state.content.contains_key(id) && since.is_none_or(|s| e.2 >= s))
            .filter(|(id, e)| after.is_none_or(|a| (e.2, **id) > a))
            .map(|(id, e)| crate::ports::StoredVector {
                item: *id,
                vector: e.1.clone(),
                updated_at: e.2,
            })
            .collect();
        rows.sort_by_key(|r| (r.updated_at, r.item));
        rows.truncate(limit);
        Ok(rows)
    }
}
