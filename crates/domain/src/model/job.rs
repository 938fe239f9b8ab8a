use super::{JsonObject, Timestamp, string_enum};
use crate::ids::{ContentId, JobId, UserId};
use crate::model::ContentType;

string_enum!(
    /// What a generation job produces. Always stored and returned in canonical form.
    JobType {
        /// Text.
        Text => "text_generation",
        /// An image.
        Image => "image_generation",
        /// A video.
        Video => "video_generation",
        /// Audio.
        Audio => "audio_generation",
    }
);

impl JobType {
    /// Accepts the canonical values and the short aliases (`text`, `image`, `video`, `audio`),
    /// case-insensitively.
    pub fn parse_lenient(raw: &str) -> Option<Self> {
        let lower = raw.to_lowercase();
        JobType::parse(&lower).or(match lower.as_str() {
            "text" => Some(JobType::Text),
            "image" => Some(JobType::Image),
            "video" => Some(JobType::Video),
            "audio" => Some(JobType::Audio),
            _ => None,
        })
    }

    /// The content type a job of this type produces.
    pub fn content_type(self) -> ContentType {
        match self {
            JobType::Text => ContentType::Text,
            JobType::Image => ContentType::Image,
            JobType::Video => ContentType::Video,
            JobType::Audio => ContentType::Audio,
        }
    }
}

string_enum!(
    /// Lifecycle state of a generation job.
    JobStatus {
        /// Waiting in the queue.
        Pending => "pending",
        /// Being generated.
        Running => "running",
        /// Finished with a result.
        Completed => "completed",
        /// Finished with an error.
        Failed => "failed",
        /// Stopped on request.
        Cancelled => "cancelled",
    }
);

impl JobStatus {
    /// Whether the job has finished (no further change expected).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// A generation job.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationJob {
    /// Identifier.
    pub id: JobId,
    /// Owner.
    pub user_id: UserId,
    /// What to generate.
    pub job_type: JobType,
    /// Prompt (trimmed, non-blank).
    pub prompt: String,
    /// Generator parameters.
    pub parameters: JsonObject,
    /// State.
    pub status: JobStatus,
    /// The content item produced.
    pub result_content_id: Option<ContentId>,
    /// Creation time.
    pub created_at: Timestamp,
    /// When it first started running.
    pub started_at: Option<Timestamp>,
    /// When it finished.
    pub completed_at: Option<Timestamp>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Command: create a job.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Owner (must exist and be active).
    pub user_id: UserId,
    /// What to generate.
    pub job_type: JobType,
    /// Prompt as sent (the service trims it and rejects blanks).
    pub prompt: String,
    /// Parameters.
    pub parameters: JsonObject,
}

/// Query: which jobs to list (all given filters hold), newest first.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    /// Of this user.
    pub user_id: Option<UserId>,
    /// In this state.
    pub status: Option<JobStatus>,
    /// Of this type.
    pub job_type: Option<JobType>,
    /// Created at or after.
    pub created_since: Option<Timestamp>,
}

/// Job counters (for one user or all).
#[derive(Debug, Clone, PartialEq)]
pub struct JobStats {
    /// All jobs.
    pub total: i64,
    /// Per status that occurs.
    pub by_status: Vec<(JobStatus, i64)>,
    /// Per type that occurs.
    pub by_type: Vec<(JobType, i64)>,
    /// Mean of `completed_at − started_at` over completed jobs, seconds.
    pub average_processing_seconds: Option<f64>,
}
