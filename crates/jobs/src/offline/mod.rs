//! The built-in offline generator: real, deterministic artifacts from prompt + seed, with
//! progress in steps — text, PNG images, WAV audio and animated PNG video.

mod audio;
pub mod demo;
mod image;
mod text;
mod video;

use std::time::Duration;

use async_trait::async_trait;
use genonaut_domain::model::{ContentType, JobType, JsonObject, Progress};
use genonaut_domain::ports::{
    Artifact, GenerationControl, GenerationError, GenerationRequest, Generator, MediaFile, Output,
};
use genonaut_domain::synthetic::Rng;
use serde_json::Value;

/// Keywords of a prompt (lower-case words of 3+ letters), in order, without repeats.
pub(crate) fn keywords(prompt: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in prompt.split(|c: char| !c.is_alphanumeric()) {
        let w = w.to_lowercase();
        if w.chars().count() >= 3 && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Reads an integer parameter within bounds.
pub(crate) fn param(parameters: &JsonObject, name: &str, default: u32, min: u32, max: u32) -> u32 {
    parameters
        .get(name)
        .and_then(Value::as_u64)
        .map_or(default, |v| u32::try_from(v).unwrap_or(max))
        .clamp(min, max)
}

/// Progress reporting with the configured pause between steps (so clients see generation
/// advance); stops as soon as the runner says so.
pub(crate) struct Steps<'a> {
    control: &'a dyn GenerationControl,
    delay: Duration,
    total: u32,
}

impl Steps<'_> {
    pub(crate) async fn done(&self, step: u32, message: impl Into<String>) -> Result<(), GenerationError> {
        self.done_showing(step, message, None).await
    }

    /// [`done`](Self::done) with a preview image of the work so far (stored by the runner;
    /// the progress event carries its URL).
    pub(crate) async fn done_showing(
        &self,
        step: u32,
        message: impl Into<String>,
        preview: Option<MediaFile>,
    ) -> Result<(), GenerationError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let preview = match preview {
            Some(image) => self.control.save_preview(&image).await,
            None => None,
        };
        let progress = Progress {
            step,
            total: self.total,
            message: Some(message.into()),
            preview,
        };
        if self.control.progress(progress).await {
            Ok(())
        } else {
            Err(GenerationError::Stopped)
        }
    }
}

/// The offline generator.
#[derive(Debug, Clone)]
pub struct OfflineGenerator {
    step_delay: Duration,
}

impl OfflineGenerator {
    /// A generator pausing `step_delay` per step (overridable per job with the
    /// `step_delay_ms` parameter, at most 5 s).
    pub fn new(step_delay: Duration) -> Self {
        OfflineGenerator { step_delay }
    }
}

#[async_trait]
impl Generator for OfflineGenerator {
    fn name(&self) -> &str {
        "offline"
    }

    async fn generate(
        &self,
        request: &GenerationRequest,
        control: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        let delay = request
            .parameters
            .get("step_delay_ms")
            .and_then(Value::as_u64)
            .map_or(self.step_delay, |ms| Duration::from_millis(ms.min(5_000)));
        let mut rng = Rng::new(request.seed());
        let seed = request.seed();
        match request.job_type {
            JobType::Text => {
                let total = param(&request.parameters, "paragraphs", 5, 1, 20);
                let steps = Steps {
                    control,
                    delay,
                    total,
                };
                let (text, metadata) = text::write(&request.prompt, total, &mut rng, &steps).await?;
                Ok(Artifact {
                    content_type: ContentType::Text,
                    output: Output::Text(text),
                    metadata: with_seed(metadata, seed),
                })
            }
            JobType::Image => {
                let steps = Steps {
                    control,
                    delay,
                    total: 8,
                };
                let (file, metadata) = image::paint(request, &mut rng, &steps).await?;
                Ok(Artifact {
                    content_type: ContentType::Image,
                    output: Output::Media(file),
                    metadata: with_seed(metadata, seed),
                })
            }
            JobType::Audio => {
                let seconds = param(&request.parameters, "duration", 8, 1, 60);
                let steps = Steps {
                    control,
                    delay,
                    total: seconds,
                };
                let (file, metadata) = audio::compose(request, seconds, &mut rng, &steps).await?;
                Ok(Artifact {
                    content_type: ContentType::Audio,
                    output: Output::Media(file),
                    metadata: with_seed(metadata, seed),
                })
            }
            JobType::Video => {
                let frames = param(&request.parameters, "frames", 24, 2, 120);
                let steps = Steps {
                    control,
                    delay: delay / 3,
                    total: frames,
                };
                let (file, metadata) = video::animate(request, frames, &mut rng, &steps).await?;
                Ok(Artifact {
                    content_type: ContentType::Video,
                    output: Output::Media(file),
                    metadata: with_seed(metadata, seed),
                })
            }
        }
    }
}

fn with_seed(mut metadata: JsonObject, seed: u64) -> JsonObject {
    metadata.insert("seed".into(), Value::from(seed));
    metadata
}

/// A generator that produces a tiny text at once: measures the queue itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopGenerator;

#[async_trait]
impl Generator for NoopGenerator {
    fn name(&self) -> &str {
        "noop"
    }

    async fn generate(
        &self,
        request: &GenerationRequest,
        _: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        Ok(Artifact {
            content_type: request.job_type.content_type(),
            output: Output::Text(format!("noop #{}", request.job_id)),
            metadata: JsonObject::new(),
        })
    }
}
