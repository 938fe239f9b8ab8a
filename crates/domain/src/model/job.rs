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
    /// Queue priority (higher runs first; FIFO within a priority).
    pub priority: i32,
    /// Attempts started so far (the current one while running).
    pub attempts: i32,
    /// Attempts allowed before the job fails for good.
    pub max_attempts: i32,
    /// Progress of the current attempt in [0, 1].
    pub progress: f64,
    /// Sequence number of the job's latest event.
    pub event_seq: i64,
    /// Position in the queue (1 = next) while pending; filled by reads that compute it.
    pub queue_position: Option<i64>,
    /// Not started by then, it is never started and ends `cancelled`.
    pub start_deadline_at: Option<Timestamp>,
    /// An attempt running longer is stopped and the job ends `failed` (no retry).
    pub timeout_seconds: Option<i32>,
    /// Where its events are delivered, if anywhere.
    pub webhook: Option<super::Webhook>,
    /// The worker that claimed its latest attempt (`host:pid/n`); current only while the job
    /// is running.
    pub worker_id: Option<String>,
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
    /// Queue priority (−1000…1000, default 0).
    pub priority: i32,
    /// Start within this many seconds of creation or never ([`MAX_DEADLINE_SECONDS`] at most).
    pub start_deadline_seconds: Option<i32>,
    /// Each attempt may run this many seconds at most ([`MAX_DEADLINE_SECONDS`] at most).
    pub timeout_seconds: Option<i32>,
    /// Deliver its events to this webhook.
    pub webhook: Option<super::Webhook>,
}

impl NewJob {
    /// The fingerprint of this command as sent ([`super::fingerprint`]): two submissions with
    /// the same fingerprint ask for the same job.
    pub fn fingerprint(&self) -> String {
        let mut fields = serde_json::json!({
            "user_id": self.user_id.0,
            "job_type": self.job_type.as_str(),
            "prompt": self.prompt,
            "parameters": self.parameters,
            "priority": self.priority,
            "start_deadline_seconds": self.start_deadline_seconds,
            "timeout_seconds": self.timeout_seconds,
        });
        // Only when set, so fingerprints of requests without a webhook stay as they were.
        if let Some(webhook) = &self.webhook {
            fields["webhook"] = serde_json::json!(webhook.url);
            fields["webhook_events_filter"] =
                serde_json::json!(webhook.events.iter().map(|k| k.as_str()).collect::<Vec<_>>());
        }
        super::fingerprint("POST /api/v1/generation-jobs", &fields)
    }
}

/// `error_message` of a job cancelled because its start deadline passed.
pub const START_DEADLINE_PASSED: &str = "start deadline passed: the job was not started in time";

/// Upper bound of `start_deadline_seconds` and `timeout_seconds`: 7 days.
pub const MAX_DEADLINE_SECONDS: i32 = 7 * 24 * 3600;

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

string_enum!(
    /// What happened to a job (the `type` of its live-status messages).
    JobEventKind {
        /// Entered the queue (created, released or re-queued).
        Queued => "queued",
        /// A worker started an attempt.
        Started => "started",
        /// The generator reported progress.
        Progress => "progress",
        /// The attempt failed and the job will be retried.
        Retrying => "retrying",
        /// Finished with a result.
        Completed => "completed",
        /// Finished with an error.
        Failed => "failed",
        /// Stopped on request.
        Cancelled => "cancelled",
    }
);

impl JobEventKind {
    /// Whether this event ends the job's stream.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobEventKind::Completed | JobEventKind::Failed | JobEventKind::Cancelled
        )
    }
}

/// One entry of a job's ordered event log.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    /// The job.
    pub job_id: JobId,
    /// Position in the job's log (1, 2, 3, …).
    pub seq: i64,
    /// What happened.
    pub kind: JobEventKind,
    /// When.
    pub at: Timestamp,
    /// Details: `queue_position`, `attempt`, `progress`/`step`/`total`/`message` (and
    /// `preview` when the generator showed one), `result_content_id`, `error_message`,
    /// `retry_at`.
    pub data: JsonObject,
}

impl JobEvent {
    /// The event's wire form, shared by the WebSocket, server-sent events and webhooks:
    /// `type`, `job_id`, `seq`, `timestamp` (UTC, no zone, microseconds when non-zero), then
    /// the details.
    pub fn message(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        out.insert("type".into(), self.kind.as_str().into());
        out.insert("job_id".into(), self.job_id.0.into());
        out.insert("seq".into(), self.seq.into());
        out.insert(
            "timestamp".into(),
            super::TimestampText::new(&self.at).as_str().into(),
        );
        for (k, v) in &self.data {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
        serde_json::Value::Object(out)
    }
}

/// Progress reported by a generator.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    /// Steps done.
    pub step: u32,
    /// Steps in all.
    pub total: u32,
    /// Optional human-readable note.
    pub message: Option<String>,
    /// URL path of a small preview image of the work so far (`/media/preview-…`, as returned
    /// by [`crate::ports::GenerationControl::save_preview`]); in the event's data as `preview`
    /// only when present.
    pub preview: Option<String>,
}

impl Progress {
    /// `step / total` in [0, 1].
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (f64::from(self.step) / f64::from(self.total)).clamp(0.0, 1.0)
        }
    }
}

/// What a cancellation request did.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    /// The job was pending or running and is now cancelled.
    Cancelled(Box<GenerationJob>),
    /// The job had already finished (in this status).
    AlreadyFinished(JobStatus),
    /// No such job.
    NotFound,
}
