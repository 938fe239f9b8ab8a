//! # genonaut-embed
//!
//! Adapters of the domain's embedding ports:
//!
//! * [`MiniLm`] — a [`TextEmbedder`](genonaut_domain::ports::TextEmbedder): the
//!   all-MiniLM-L6-v2 sentence-embedding model (BERT, 6 layers, 384 dimensions) run in process
//!   on the CPU with candle, tokenised with Hugging Face `tokenizers`; mean pooling over the
//!   tokens, then L2 normalisation, exactly as sentence-transformers does for this model.
//! * [`AnnIndex`] — a [`VectorIndex`](genonaut_domain::ports::VectorIndex): exact scan below
//!   [`EXACT_BELOW`] vectors, an HNSW graph (`hnsw_rs`) above, rebuilt in the
//!   background as vectors arrive; vectors added since the last graph are scanned exactly, so
//!   a new item is found at once.

mod index;
mod minilm;

pub use index::{AnnIndex, EXACT_BELOW};
pub use minilm::{MiniLm, ModelError, SharedMiniLm};

/// The model folder tests and benchmarks use: `GENONAUT_EMBED_MODEL_DIR`, else where
/// `scripts/fetch-model.sh` puts it (`target/models/all-MiniLM-L6-v2` of the workspace).
pub fn test_model_dir() -> std::path::PathBuf {
    std::env::var_os("GENONAUT_EMBED_MODEL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/models/all-MiniLM-L6-v2")
        })
}
