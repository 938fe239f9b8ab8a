//! Wiring of item embeddings: the model (loaded once per process), one in-process index per
//! schema, and the loop that keeps each index current and embeds new or changed items.

use std::sync::Arc;
use std::time::{Duration, Instant};

use genonaut_domain::ErrorChain;
use genonaut_domain::services::{EMBED_BATCH, SemanticService};
use genonaut_embed::{AnnIndex, MiniLm, SharedMiniLm};

use crate::config::EmbedConfig;

/// The loaded model, or why there is none.
#[derive(Clone)]
pub enum Model {
    /// Loaded.
    Loaded(Arc<MiniLm>),
    /// Not configured or not loadable: the reason, for `/ready` and the logs.
    Unavailable(String),
}

/// Loads the configured model (reading ~90 MB off the async executor). Never fails: a missing
/// or broken model leaves the service on tags, with the reason logged and reported.
pub async fn load(config: &EmbedConfig) -> Model {
    let Some(dir) = config.model_dir.clone() else {
        tracing::info!(
            "GENONAUT_EMBED_MODEL_DIR is not set: no item embeddings (content and similar items use tags)"
        );
        return Model::Unavailable(
            "no embedding model configured (GENONAUT_EMBED_MODEL_DIR is not set)".into(),
        );
    };
    let name = config.model_name.clone();
    let started = Instant::now();
    let loaded = tokio::task::spawn_blocking(move || MiniLm::load(&dir, &name)).await;
    match loaded {
        Ok(Ok(model)) => {
            tracing::info!(model = %config.model_name, ms = started.elapsed().as_millis() as u64, "loaded the embedding model");
            Model::Loaded(Arc::new(model))
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "no item embeddings: the model cannot be loaded (content and similar items use tags)");
            Model::Unavailable(format!("the embedding model cannot be loaded: {e}"))
        }
        Err(e) => Model::Unavailable(format!("loading the embedding model failed: {e}")),
    }
}

/// `semantic` with the model and a fresh index, or marked unavailable.
pub fn attach(semantic: SemanticService, model: &Model) -> SemanticService {
    match model {
        Model::Loaded(m) => semantic.with_model(Arc::new(SharedMiniLm(m.clone())), Arc::new(AnnIndex::new())),
        Model::Unavailable(reason) => semantic.unavailable(reason.clone()),
    }
}

/// Keeps `semantic`'s index current until aborted: first reads every stored vector, then every
/// `poll` reads the vectors written since (by any process) and embeds the items marked pending
/// (new or changed ones, newest first) — a generated item is recommendable a poll after its
/// job completes.
pub async fn keep_current(schema: String, semantic: SemanticService, poll: Duration) {
    if !semantic.status().available {
        return;
    }
    let started = Instant::now();
    match semantic.refresh_index().await {
        Ok(n) => {
            tracing::info!(%schema, vectors = n, ms = started.elapsed().as_millis() as u64, "loaded item embeddings")
        }
        Err(e) => {
            tracing::warn!(%schema, error = %ErrorChain(&e), "loading item embeddings failed; retrying")
        }
    }
    loop {
        tokio::time::sleep(poll).await;
        if let Err(e) = semantic.refresh_index().await {
            tracing::warn!(%schema, error = %ErrorChain(&e), "reading new item embeddings failed");
            continue;
        }
        // A few batches per tick at most, so a burst of new items cannot starve the rest.
        for _ in 0..4 {
            match semantic.embed_needing(true, EMBED_BATCH).await {
                Ok(n) if n == EMBED_BATCH => continue,
                Ok(n) => {
                    if n > 0 {
                        tracing::debug!(%schema, items = n, "embedded new items");
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(%schema, error = %ErrorChain(&e), "embedding new items failed");
                    break;
                }
            }
        }
    }
}
