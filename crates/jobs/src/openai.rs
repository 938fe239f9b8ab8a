//! Generation through OpenAI-compatible HTTP servers (vLLM, Ollama, llama.cpp server, hosted
//! APIs): chat completions for text, image generation for images. Audio and video, which that
//! API does not cover, go to a fallback generator (the offline one by default).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use genonaut_domain::model::{ContentType, JobType, JsonObject, Progress};
use genonaut_domain::ports::{
    Artifact, GenerationControl, GenerationError, GenerationRequest, Generator, MediaFile, Output,
};
use serde_json::{Value, json};

use crate::retry::{self, Retries};

/// Where and how to reach the server.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Base URL including the version prefix, e.g. `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// Bearer token, if the server wants one (never logged).
    pub api_key: Option<String>,
    /// Model for chat completions.
    pub text_model: String,
    /// Model for image generation (`None`: images go to the fallback).
    pub image_model: Option<String>,
    /// Time limit of one HTTP request.
    pub timeout: Duration,
    /// Retries of one request on 429, 5xx and network errors.
    pub max_retries: u32,
    /// First backoff between retries (doubles each time; `Retry-After` wins).
    pub retry_base: Duration,
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("text_model", &self.text_model)
            .field("image_model", &self.image_model)
            .finish()
    }
}

/// The HTTP generator.
pub struct OpenAiGenerator {
    config: OpenAiConfig,
    agent: ureq::Agent,
    fallback: Arc<dyn Generator>,
}

impl OpenAiGenerator {
    /// A generator for `config`, handing unsupported job types to `fallback`.
    pub fn new(config: OpenAiConfig, fallback: Arc<dyn Generator>) -> Self {
        let agent = retry::agent(config.timeout);
        OpenAiGenerator {
            config,
            agent,
            fallback,
        }
    }

    /// POSTs `body` to `path`, retrying on 429/5xx/network errors ([`crate::retry`]); returns
    /// the JSON answer.
    async fn post(
        &self,
        path: &str,
        body: Value,
        control: &dyn GenerationControl,
    ) -> Result<Value, GenerationError> {
        let url = format!("{}/{}", self.config.base_url.trim_end_matches('/'), path);
        let agent = self.agent.clone();
        let key = self.config.api_key.clone();
        let send = Arc::new(move || {
            let mut request = agent.post(&url).header("Content-Type", "application/json");
            if let Some(key) = &key {
                request = request.header("Authorization", &format!("Bearer {key}"));
            }
            request.send_json(&body)
        });
        let retries = Retries {
            max_retries: self.config.max_retries,
            base: self.config.retry_base,
        };
        let answer = retry::call(path, retries, control, send).await?;
        serde_json::from_slice(&answer)
            .map_err(|e| GenerationError::Transient(format!("unreadable answer from {path}: {e}")))
    }
}

#[async_trait]
impl Generator for OpenAiGenerator {
    fn name(&self) -> &str {
        "openai"
    }

    async fn generate(
        &self,
        request: &GenerationRequest,
        control: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        let options = |key: &str| request.parameters.get(key).cloned();
        match (request.job_type, &self.config.image_model) {
            (JobType::Text, _) => {
                report_step(control, 1, "request sent").await;
                let mut body = json!({
                    "model": self.config.text_model,
                    "messages": [
                        {"role": "system", "content": "You are a creative writer. Answer with the requested text only."},
                        {"role": "user", "content": request.prompt},
                    ],
                    "seed": request.seed() % (1 << 31),
                });
                for key in ["max_tokens", "temperature", "top_p"] {
                    if let Some(v) = options(key) {
                        body[key] = v;
                    }
                }
                let answer = self.post("chat/completions", body, control).await?;
                let text = answer["choices"][0]["message"]["content"]
                    .as_str()
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| GenerationError::Transient("the answer holds no text".into()))?
                    .to_owned();
                report_step(control, 2, "text received").await;
                let mut metadata = JsonObject::new();
                metadata.insert(
                    "model".into(),
                    answer
                        .get("model")
                        .cloned()
                        .unwrap_or_else(|| json!(self.config.text_model)),
                );
                if let Some(usage) = answer.get("usage") {
                    metadata.insert("usage".into(), usage.clone());
                }
                Ok(Artifact {
                    content_type: ContentType::Text,
                    output: Output::Text(text),
                    metadata,
                })
            }
            (JobType::Image, Some(model)) => {
                report_step(control, 1, "request sent").await;
                let size = options("size")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "512x512".into());
                let body = json!({"model": model, "prompt": request.prompt, "n": 1, "size": size, "response_format": "b64_json"});
                let answer = self.post("images/generations", body, control).await?;
                let encoded = answer["data"][0]["b64_json"]
                    .as_str()
                    .ok_or_else(|| GenerationError::Transient("the answer holds no image".into()))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|e| GenerationError::Transient(format!("undecodable image: {e}")))?;
                let (extension, mime) = if bytes.starts_with(&[0xFF, 0xD8]) {
                    ("jpg", "image/jpeg")
                } else {
                    ("png", "image/png")
                };
                report_step(control, 2, "image received").await;
                let mut metadata = JsonObject::new();
                metadata.insert("model".into(), json!(model));
                metadata.insert("size".into(), json!(size));
                Ok(Artifact {
                    content_type: ContentType::Image,
                    output: Output::Media(MediaFile {
                        bytes,
                        extension,
                        mime,
                    }),
                    metadata,
                })
            }
            _ => self.fallback.generate(request, control).await,
        }
    }
}

/// Reports step `step` of the two a request takes (sent, received).
async fn report_step(control: &dyn GenerationControl, step: u32, message: &str) {
    control
        .progress(Progress {
            step,
            total: 2,
            message: Some(message.to_owned()),
            preview: None,
        })
        .await;
}
