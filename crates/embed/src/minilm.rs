//! all-MiniLM-L6-v2 in process: candle's BERT + mean pooling + L2 normalisation.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use genonaut_domain::ports::{EMBEDDING_DIM, TextEmbedder};
use genonaut_domain::{DomainError, DomainResult};
use tokenizers::{Encoding, PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Tokens per text (longer texts are truncated; the model was trained on ≤ 256, and titles,
/// prompts and tags fit easily).
const MAX_TOKENS: usize = 128;
/// How much padding may add to a group's real tokens (a quarter: at most a fifth of the tokens
/// run are padding; see [`MiniLm::embed_sync`]).
const MAX_PADDING_SHARE: f64 = 0.25;

/// Why the model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file the model needs is missing.
    #[error("{0} is missing (fetch the model with scripts/fetch-model.sh or set GENONAUT_EMBED_MODEL_DIR)")]
    Missing(PathBuf),
    /// A file exists but cannot be used.
    #[error("cannot load {path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// The all-MiniLM-L6-v2 sentence-embedding model, loaded from a folder holding
/// `config.json`, `tokenizer.json` and `model.safetensors`.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    name: String,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl MiniLm {
    /// Loads the model from `dir`; `name` is stored with every vector it computes.
    pub fn load(dir: &Path, name: &str) -> Result<MiniLm, ModelError> {
        let file = |name: &str| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(ModelError::Missing(path))
            }
        };
        let (config_path, tokenizer_path, weights_path) = (
            file("config.json")?,
            file("tokenizer.json")?,
            file("model.safetensors")?,
        );
        let invalid = |path: &Path| {
            let path = path.to_path_buf();
            move |e: &dyn std::fmt::Display| ModelError::Invalid {
                path: path.clone(),
                reason: e.to_string(),
            }
        };
        let config: Config = std::fs::read_to_string(&config_path)
            .map_err(|e| invalid(&config_path)(&e))
            .and_then(|text| serde_json::from_str(&text).map_err(|e| invalid(&config_path)(&e)))?;
        if config.hidden_size != EMBEDDING_DIM {
            return Err(invalid(&config_path)(&format!(
                "hidden_size {} is not {EMBEDDING_DIM}",
                config.hidden_size
            )));
        }
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|e| invalid(&tokenizer_path)(&e))?;
        // The shipped tokenizer pads every text to 128 tokens; pad a batch to its longest text.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| invalid(&tokenizer_path)(&e))?;
        let device = Device::Cpu;
        let weights = std::fs::read(&weights_path).map_err(|e| invalid(&weights_path)(&e))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| invalid(&weights_path)(&e))?;
        let model = BertModel::load(vb, &config).map_err(|e| invalid(&weights_path)(&e))?;
        Ok(MiniLm {
            model,
            tokenizer,
            device,
            name: name.to_owned(),
        })
    }

    /// The embeddings of `texts` (synchronous, CPU-bound), in their order.
    ///
    /// Texts run through the model in groups of similar length, each group padded to its
    /// longest text, so that one long text does not pad a whole batch (padded tokens cost as
    /// much as real ones): a group grows, shortest first, while padding adds at most
    /// [`MAX_PADDING_SHARE`] to its real tokens.
    pub fn embed_sync(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| format!("tokenising: {e}"))?;
        // Real lengths: the tokenizer pads on the right to the longest text of the call.
        let lengths: Vec<usize> = encodings
            .iter()
            .map(|e| e.get_attention_mask().iter().filter(|m| **m == 1).count().max(1))
            .collect();
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|i| lengths[*i]);
        let mut out = vec![Vec::new(); texts.len()];
        let mut start = 0;
        while start < order.len() {
            let (mut end, mut real) = (start + 1, lengths[order[start]]);
            while let Some(next) = order.get(end).map(|i| lengths[*i]) {
                let padded = (end + 1 - start) * next;
                if padded as f64 > (real + next) as f64 * (1.0 + MAX_PADDING_SHARE) {
                    break;
                }
                real += next;
                end += 1;
            }
            let group = &order[start..end];
            let len = lengths[group[group.len() - 1]];
            let vectors = self
                .run(&encodings, group, len)
                .map_err(|e| format!("running the model: {e}"))?;
            for (i, v) in group.iter().zip(vectors) {
                out[*i] = v;
            }
            start = end;
        }
        Ok(out)
    }

    /// The model over `encodings[group]`, each cut to its first `len` tokens (a group's
    /// longest text has `len` real ones; the rest of the cut is padding, masked out).
    fn run(&self, encodings: &[Encoding], group: &[usize], len: usize) -> candle_core::Result<Vec<Vec<f32>>> {
        let n = group.len();
        let mut ids = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for i in group {
            ids.extend(encodings[*i].get_ids().iter().take(len).copied());
            mask.extend(encodings[*i].get_attention_mask().iter().take(len).copied());
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?; // (n, len, 384)
        // Mean over the real tokens (mask 1), then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (n, 384)
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?; // (n, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        mean.broadcast_div(&norms)?.to_vec2::<f32>()
    }
}

/// [`MiniLm`] as the domain's [`TextEmbedder`]: each call runs on tokio's blocking pool.
#[derive(Debug, Clone)]
pub struct SharedMiniLm(pub Arc<MiniLm>);

#[async_trait::async_trait]
impl TextEmbedder for SharedMiniLm {
    fn model(&self) -> &str {
        &self.0.name
    }

    async fn embed(&self, texts: Vec<String>) -> DomainResult<Vec<Vec<f32>>> {
        let model = self.0.clone();
        tokio::task::spawn_blocking(move || model.embed_sync(&texts))
            .await
            .map_err(|e| DomainError::unexpected("embedding texts", e))?
            .map_err(|e| DomainError::unexpected("embedding texts", std::io::Error::other(e)))
    }
}
