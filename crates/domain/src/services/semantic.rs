//! Semantic content: item embeddings (computed from an item's text by a sentence-embedding
//! model), kept in a store and in an in-process nearest-neighbour index, and what uses them —
//! semantic search, embedding neighbours, and the user's taste vector for `content` scoring.
//!
//! Without a model (none configured, or its files missing) everything still works on tags:
//! [`SemanticService::status`] says why embeddings are unavailable, semantic search is refused
//! with a business-rule error (HTTP 422), and the recommender notes the tag fallback.

use std::sync::{Arc, Mutex};

use crate::error::{DomainError, DomainResult, Rule};
use crate::ids::ContentId;
use crate::model::{Content, ContentQuery, ContentType, Timestamp};
use crate::page::{Page, PageRequest};
use crate::ports::{Clock, ContentRepository, EmbeddingStore, TextEmbedder, VectorIndex};

/// Items embedded per model call.
pub const EMBED_BATCH: usize = 32;
/// Stored vectors read per query when filling the index.
const LOAD_PAGE: usize = 5_000;
/// A refresh re-reads vectors written this long before the newest one it saw (a transaction
/// may commit a little after the time it wrote).
const REFRESH_OVERLAP_SECS: i64 = 5;
/// Semantic search ranks at most this many nearest items before filtering.
const SEARCH_CANDIDATES: usize = 1_000;
/// Characters of a text item's content that go into its embedding text.
const CONTENT_CHARS: usize = 400;

/// The text an item is embedded from: title, prompt, description, tags (and the beginning of
/// a text item's content).
pub fn embedding_text(item: &Content) -> String {
    let mut parts: Vec<String> = vec![item.title.trim().to_owned()];
    for key in ["prompt", "description"] {
        if let Some(text) = item.item_metadata.get(key).and_then(serde_json::Value::as_str)
            && !text.trim().is_empty()
            && text.trim() != item.title.trim()
        {
            parts.push(text.trim().to_owned());
        }
    }
    if item.content_type == ContentType::Text && !item.content_data.starts_with("http") {
        parts.push(item.content_data.chars().take(CONTENT_CHARS).collect());
    }
    if !item.tags.is_empty() {
        parts.push(item.tags.join(", "));
    }
    parts.retain(|p| !p.is_empty());
    parts.join(". ")
}

/// Whether embeddings are in use, and why not.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticStatus {
    /// A model is loaded: vectors are computed and used.
    pub available: bool,
    /// The model's name.
    pub model: Option<String>,
    /// Vectors in the in-process index.
    pub indexed: usize,
    /// Why embeddings are unavailable (with `available == false`).
    pub reason: Option<String>,
}

#[derive(Clone)]
struct Model {
    embedder: Arc<dyn TextEmbedder>,
    index: Arc<dyn VectorIndex>,
}

/// Item embeddings: computing, storing, indexing and searching them.
#[derive(Clone)]
pub struct SemanticService {
    store: Arc<dyn EmbeddingStore>,
    content: Arc<dyn ContentRepository>,
    clock: Arc<dyn Clock>,
    model: Option<Model>,
    reason: String,
    /// The newest `(updated_at, item)` the index has seen.
    seen: Arc<Mutex<Option<(Timestamp, ContentId)>>>,
}

impl SemanticService {
    /// Without a model: embeddings unavailable until [`with_model`](Self::with_model).
    pub fn new(
        store: Arc<dyn EmbeddingStore>,
        content: Arc<dyn ContentRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        SemanticService {
            store,
            content,
            clock,
            model: None,
            reason: "no embedding model configured (GENONAUT_EMBED_MODEL_DIR)".into(),
            seen: Arc::default(),
        }
    }

    /// Uses `embedder`, keeping vectors in `index`.
    pub fn with_model(mut self, embedder: Arc<dyn TextEmbedder>, index: Arc<dyn VectorIndex>) -> Self {
        self.model = Some(Model { embedder, index });
        self
    }

    /// No model, for `reason`.
    pub fn unavailable(mut self, reason: impl Into<String>) -> Self {
        self.model = None;
        self.reason = reason.into();
        self
    }

    /// Whether embeddings are in use.
    pub fn status(&self) -> SemanticStatus {
        match &self.model {
            Some(m) => SemanticStatus {
                available: true,
                model: Some(m.embedder.model().to_owned()),
                indexed: m.index.len(),
                reason: None,
            },
            None => SemanticStatus {
                available: false,
                model: None,
                indexed: 0,
                reason: Some(self.reason.clone()),
            },
        }
    }

    /// The index the recommender reads (`None` without a model).
    pub fn index(&self) -> Option<Arc<dyn VectorIndex>> {
        self.model.as_ref().map(|m| m.index.clone())
    }

    /// Brings the index up to date with the store: every vector written since the last call
    /// (all of them the first time). Returns how many were read.
    pub async fn refresh_index(&self) -> DomainResult<usize> {
        let Some(model) = &self.model else { return Ok(0) };
        let start = *self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let since = start.map(|(at, _)| at - chrono::Duration::seconds(REFRESH_OVERLAP_SECS));
        let mut after = None;
        let mut read = 0;
        loop {
            let page = self.store.changed(since, after, LOAD_PAGE).await?;
            for row in &page {
                model.index.upsert(row.item, &row.vector);
            }
            read += page.len();
            match page.last() {
                Some(last) => after = Some((last.updated_at, last.item)),
                None => break,
            }
            if page.len() < LOAD_PAGE {
                break;
            }
        }
        if let Some(newest) = after {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.is_none_or(|s| newest > s) {
                *seen = Some(newest);
            }
        }
        Ok(read)
    }

    /// Embeds up to `limit` items that need a vector (newest first; with `pending_only`, only
    /// those marked pending — new or changed items), stores and indexes them. Returns how many.
    pub async fn embed_needing(&self, pending_only: bool, limit: usize) -> DomainResult<usize> {
        let Some(model) = &self.model else { return Ok(0) };
        let items = self.store.needing(pending_only, limit).await?;
        if items.is_empty() {
            return Ok(0);
        }
        let texts: Vec<String> = items.iter().map(embedding_text).collect();
        let vectors = model.embedder.embed(texts).await?;
        let rows: Vec<(ContentId, Vec<f32>)> = items.iter().map(|c| c.id).zip(vectors).collect();
        self.store
            .save(model.embedder.model(), &rows, self.clock.now())
            .await?;
        for (id, v) in &rows {
            model.index.upsert(*id, v);
        }
        Ok(rows.len())
    }

    /// Embeds every item that needs a vector, in batches, calling `progress(done, total)`
    /// after each. Idempotent: a second run finds nothing to do. Returns how many it embedded.
    pub async fn backfill(&self, batch: usize, progress: &(dyn Fn(u64, u64) + Sync)) -> DomainResult<u64> {
        if self.model.is_none() {
            return Err(DomainError::Unavailable(format!(
                "embeddings are unavailable: {}",
                self.reason
            )));
        }
        let total = u64::try_from(self.store.count_needing().await?).unwrap_or(0);
        let mut done = 0u64;
        progress(0, total);
        loop {
            let n = self.embed_needing(false, batch.max(1)).await?;
            if n == 0 {
                break;
            }
            done += n as u64;
            progress(done, total.max(done));
        }
        Ok(done)
    }

    /// Items by meaning: the items nearest to `text` that match the other filters of `query`
    /// (its `search_term` is the text itself, not a title filter), best first; `total` counts
    /// the matches among the nearest [`SEARCH_CANDIDATES`].
    pub async fn search(
        &self,
        text: &str,
        query: &ContentQuery,
        page: PageRequest,
    ) -> DomainResult<Page<Content>> {
        let Some(model) = &self.model else {
            return Err(DomainError::Rule(Rule::SemanticSearchUnavailable(
                self.reason.clone(),
            )));
        };
        let mut vectors = model.embedder.embed(vec![text.to_owned()]).await?;
        let Some(q) = vectors.pop() else {
            return Ok(Page::complete(Vec::new()));
        };
        let nearest = model.index.nearest(&q, SEARCH_CANDIDATES);
        let ids: Vec<ContentId> = nearest.iter().map(|n| n.0).collect();
        let mut items: std::collections::HashMap<ContentId, Content> = self
            .content
            .get_many(&ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let matching: Vec<Content> = ids
            .iter()
            .filter_map(|id| items.remove(id))
            .filter(|c| query.matches_filters(c))
            .collect();
        let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
        Ok(Page {
            items: page.slice(matching),
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::RwLock;

    use async_trait::async_trait;

    use super::*;
    use crate::model::{InteractionType, NewContent, NewInteraction, NewUser};
    use crate::ports::EMBEDDING_DIM;
    use crate::recommender::{Algorithm, TAG_FALLBACK_NOTE};
    use crate::services::{GenerateRequest, Services};
    use crate::testing::{FixedClock, InMemoryStore};
    use crate::values::{Email, Tags, Username};

    /// Bag of words hashed into 384 dimensions: texts sharing words are near.
    struct Words;

    #[async_trait]
    impl TextEmbedder for Words {
        fn model(&self) -> &str {
            "words"
        }
        async fn embed(&self, texts: Vec<String>) -> DomainResult<Vec<Vec<f32>>> {
            Ok(texts
                .iter()
                .map(|t| {
                    let mut v = vec![0.0f32; EMBEDDING_DIM];
                    for w in t
                        .to_lowercase()
                        .split(|c: char| !c.is_alphanumeric())
                        .filter(|w| w.len() > 2)
                    {
                        let h = w
                            .bytes()
                            .fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
                        v[h % EMBEDDING_DIM] += 1.0;
                    }
                    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
                    v.iter().map(|x| x / n).collect()
                })
                .collect())
        }
    }

    /// Exact scan.
    #[derive(Default)]
    struct Exact(RwLock<HashMap<ContentId, Vec<f32>>>);

    impl VectorIndex for Exact {
        fn upsert(&self, item: ContentId, vector: &[f32]) {
            self.0.write().unwrap().insert(item, vector.to_vec());
        }
        fn nearest(&self, query: &[f32], k: usize) -> Vec<(ContentId, f32)> {
            let mut all: Vec<(ContentId, f32)> = self
                .0
                .read()
                .unwrap()
                .iter()
                .map(|(id, v)| (*id, v.iter().zip(query).map(|(a, b)| a * b).sum()))
                .collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            all.truncate(k);
            all
        }
        fn vector(&self, item: ContentId) -> Option<Vec<f32>> {
            self.0.read().unwrap().get(&item).cloned()
        }
        fn len(&self) -> usize {
            self.0.read().unwrap().len()
        }
    }

    async fn world(model: bool) -> (Services, Vec<ContentId>, crate::ids::UserId) {
        let store = InMemoryStore::new();
        let services = Services::new(store.repositories(), Arc::new(FixedClock::default()));
        let semantic = if model {
            services
                .semantic
                .clone()
                .with_model(Arc::new(Words), Arc::new(Exact::default()))
        } else {
            services.semantic.clone().unavailable("no model in this test")
        };
        let services = services.with_semantic(semantic);
        let user = |name: &str| NewUser {
            username: Username::parse(name).unwrap(),
            email: Email::parse(&format!("{name}@example.com")).unwrap(),
            preferences: Default::default(),
        };
        let maker = services.users.create(user("maker")).await.unwrap().id;
        let alice = services.users.create(user("alice")).await.unwrap().id;
        let mut ids = Vec::new();
        for (title, tag) in [
            ("stormy ocean waves at night", "a"),
            ("lighthouse over the ocean at night", "b"),
            ("tax spreadsheet figures", "c"),
        ] {
            let item = services
                .content
                .create(NewContent {
                    title: title.into(),
                    content_type: ContentType::Image,
                    content_data: "x".into(),
                    creator_id: maker,
                    item_metadata: Default::default(),
                    tags: Tags::parse([tag]).unwrap(),
                    is_public: true,
                    is_private: false,
                })
                .await
                .unwrap();
            ids.push(item.id);
        }
        services
            .interactions
            .record(NewInteraction {
                user_id: alice,
                content_item_id: ids[0],
                interaction_type: InteractionType::Like,
                rating: None,
                duration: None,
                metadata: Default::default(),
            })
            .await
            .unwrap();
        (services, ids, alice)
    }

    #[tokio::test]
    async fn embeddings_serve_search_similar_items_and_content_scoring() {
        let (services, ids, alice) = world(true).await;
        assert_eq!(services.semantic.embed_needing(true, 10).await.unwrap(), 3);
        // Idempotent: nothing is left to do.
        assert_eq!(services.semantic.backfill(10, &|_, _| {}).await.unwrap(), 0);
        assert_eq!(services.semantic.status().indexed, 3);

        let found = services
            .semantic
            .search("night ocean", &ContentQuery::default(), PageRequest::first(2))
            .await
            .unwrap();
        assert_eq!(found.total, 3);
        assert_ne!(found.items[0].id, ids[2]);

        let (similar, source) = services.recommendations.similar(ids[0], 2).await.unwrap();
        assert_eq!((source, similar[0].0.id), ("embedding", ids[1]));

        let recs = services
            .recommendations
            .generate(GenerateRequest {
                user_id: alice,
                algorithm_version: Algorithm::Content.as_str().into(),
                limit: 5,
            })
            .await
            .unwrap();
        assert_eq!(recs[0].content_item_id, ids[1]);
        assert!(recs[0].metadata["components"]["embedding"].as_f64().unwrap() > 0.3);
        assert!(
            !recs[0]
                .metadata
                .get("notes")
                .is_some_and(|n| n.to_string().contains(TAG_FALLBACK_NOTE))
        );
    }

    #[tokio::test]
    async fn without_a_model_tags_answer_and_explanations_say_so() {
        let (services, ids, alice) = world(false).await;
        assert!(!services.semantic.status().available);
        assert_eq!(services.semantic.embed_needing(false, 10).await.unwrap(), 0);
        let refused = services
            .semantic
            .search("night ocean", &ContentQuery::default(), PageRequest::first(2))
            .await
            .unwrap_err();
        assert!(matches!(
            refused,
            DomainError::Rule(Rule::SemanticSearchUnavailable(_))
        ));
        let (_, source) = services.recommendations.similar(ids[0], 2).await.unwrap();
        assert_eq!(source, "tags");
        let recs = services
            .recommendations
            .generate(GenerateRequest {
                user_id: alice,
                algorithm_version: "content".into(),
                limit: 5,
            })
            .await
            .unwrap();
        assert!(recs[0].metadata["notes"].to_string().contains(TAG_FALLBACK_NOTE));
    }

    #[test]
    fn the_embedded_text_names_title_prompt_and_tags() {
        let mut metadata = crate::model::JsonObject::new();
        metadata.insert("prompt".into(), serde_json::json!("a lighthouse at dusk"));
        let item = Content {
            id: ContentId(1),
            title: "Dusk".into(),
            content_type: ContentType::Image,
            content_data: "/media/1.png".into(),
            item_metadata: metadata,
            creator_id: crate::ids::UserId(1),
            created_at: Timestamp::default(),
            updated_at: Timestamp::default(),
            tags: vec!["coast".into(), "light".into()],
            quality_score: 0.5,
            is_public: true,
            is_private: false,
        };
        assert_eq!(embedding_text(&item), "Dusk. a lighthouse at dusk. coast, light");
    }
}
