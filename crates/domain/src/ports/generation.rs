use async_trait::async_trait;

use crate::model::{ContentType, JobType, JsonObject, Progress};

/// What a generator is asked to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    /// The job (for file names and logs).
    pub job_id: i64,
    /// What to produce.
    pub job_type: JobType,
    /// The prompt.
    pub prompt: String,
    /// Generator parameters (seed, sizes, steps, model options …).
    pub parameters: JsonObject,
}

impl GenerationRequest {
    /// The `seed` parameter, or one derived from the prompt, so output is reproducible.
    pub fn seed(&self) -> u64 {
        match self.parameters.get("seed").and_then(serde_json::Value::as_u64) {
            Some(seed) => seed,
            None => self.prompt.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            }),
        }
    }
}

/// A media file produced by a generator.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFile {
    /// File contents.
    pub bytes: Vec<u8>,
    /// File extension without the dot (`png`, `wav`, `gif`).
    pub extension: &'static str,
    /// MIME type.
    pub mime: &'static str,
}

/// What a generator produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Text content (stored as the item's `content_data`).
    Text(String),
    /// A media file (stored by the [`MediaStore`]; the item references it).
    Media(MediaFile),
}

/// A finished generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// The content type produced.
    pub content_type: ContentType,
    /// The output.
    pub output: Output,
    /// Facts worth keeping in the item's metadata (model, sizes, duration …).
    pub metadata: JsonObject,
}

/// Why a generator refuses a job at submission ([`Generator::validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The offending parameter (`workflow`).
    pub parameter: String,
    /// Why, for the client.
    pub message: String,
}

/// Why a generation did not produce an artifact.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerationError {
    /// May succeed if tried again (rate limits, timeouts, server errors).
    #[error("{0}")]
    Transient(String),
    /// Will not succeed (bad request, unsupported type).
    #[error("{0}")]
    Permanent(String),
    /// Stopped because the job was cancelled or its lease lost.
    #[error("stopped")]
    Stopped,
}

/// How a running generation talks back to the runner.
#[async_trait]
pub trait GenerationControl: Send + Sync {
    /// Reports progress; `false` means stop now (cancelled or lease lost).
    async fn progress(&self, progress: Progress) -> bool;

    /// Whether the generation should stop.
    fn should_stop(&self) -> bool;

    /// Stores a small preview image of the work in progress and returns its URL path, to be
    /// sent in the next [`Progress::preview`]. `None`: previews are not kept (the default; the
    /// runner's control stores them in the media store and removes them when the attempt
    /// ends).
    async fn save_preview(&self, _image: &MediaFile) -> Option<String> {
        None
    }
}

/// Turns a job into content.
#[async_trait]
pub trait Generator: Send + Sync {
    /// Name recorded in the content's metadata (`offline`, `openai`).
    fn name(&self) -> &str;

    /// Checks a job before it is queued — cheaply, without I/O (e.g. that a named workflow
    /// exists): `Err(message)` refuses the submission (422 at `parameters.<field>`). The default
    /// accepts everything; the generation itself may still fail.
    fn validate(&self, _job_type: JobType, _parameters: &JsonObject) -> Result<(), Refusal> {
        Ok(())
    }

    /// Produces the artifact for `request`, reporting progress through `control`.
    async fn generate(
        &self,
        request: &GenerationRequest,
        control: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError>;
}

/// Where media files live; the API serves them under `/media/`.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores `file` under a name derived from `stem`; returns the URL path clients use
    /// (`/media/<name>`).
    async fn save(&self, stem: &str, file: &MediaFile) -> Result<String, String>;

    /// Removes a stored file (best effort; used when a result could not be recorded).
    async fn remove(&self, url_path: &str);
}
