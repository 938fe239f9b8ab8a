//! Generation jobs (contract §4.6).

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::ids::UserId;
use genonaut_domain::model::{
    GenerationJob, JobQuery, JobStats, JobStatus, JobType, MAX_DEADLINE_SECONDS, MAX_WEBHOOK_URL_LEN, NewJob,
    Webhook, WebhookDelivery,
};
use genonaut_domain::services::StatusChange;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{
    DeliveryStatusDoc, JobStatusDoc, JobTypeDoc, JsonObject, WebhookEventDoc, optional_timestamp, text_path,
    timestamp,
};
use crate::error::invalid_message;
use crate::input::{Failure, Field, Fields, Input, expected_list};

/// A generation job.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = JobOut::example())]
pub struct JobOut {
    /// Identifier.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Canonical job type.
    #[schemars(with = "JobTypeDoc")]
    pub job_type: &'static str,
    /// Prompt.
    pub prompt: String,
    /// Generator parameters.
    pub parameters: JsonObject,
    /// Lifecycle state.
    #[schemars(with = "JobStatusDoc")]
    pub status: &'static str,
    /// The content item produced.
    pub result_content_id: Option<i64>,
    /// Creation time (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: NaiveDateTime,
    /// When it started running.
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub started_at: Option<NaiveDateTime>,
    /// When it finished.
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub completed_at: Option<NaiveDateTime>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Last change (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub updated_at: NaiveDateTime,
    /// Progress of the current attempt, 0.0–1.0.
    pub progress: f64,
    /// Attempts started so far.
    pub attempts: i32,
    /// Position in the queue (1 = next) while pending; null otherwise.
    pub queue_position: Option<i64>,
    /// Queue priority (higher runs first).
    pub priority: i32,
    /// The start deadline (UTC, no zone), if one was set: not started by then, never started.
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub start_deadline_at: Option<NaiveDateTime>,
    /// The limit on an attempt's duration, if one was set.
    pub timeout_seconds: Option<i32>,
    /// The URL the job's events are delivered to (signed, see `webhook-deliveries`); null if none.
    pub webhook: Option<String>,
    /// The event kinds delivered to `webhook` (null without a webhook).
    #[schemars(with = "Option<Vec<WebhookEventDoc>>")]
    pub webhook_events_filter: Option<Vec<&'static str>>,
    /// The worker running the job (`host:pid/n`) while it is running; null otherwise.
    pub worker_id: Option<String>,
}

impl JobOut {
    fn example() -> Value {
        json!({"id": 5, "user_id": 1, "job_type": "image_generation", "prompt": "a lighthouse at dusk",
               "parameters": {"width": 512}, "status": "pending", "result_content_id": null,
               "created_at": "2025-09-19T23:52:25.364437", "started_at": null, "completed_at": null,
               "error_message": null, "updated_at": "2025-09-19T23:52:25.364437", "progress": 0.0, "attempts": 0,
               "queue_position": 1, "priority": 0, "start_deadline_at": "2025-09-19T23:57:25.364437",
               "timeout_seconds": 600, "webhook": "https://example.com/hooks/genonaut",
               "webhook_events_filter": ["completed", "failed", "cancelled"], "worker_id": null})
    }
}

impl From<GenerationJob> for JobOut {
    fn from(j: GenerationJob) -> Self {
        JobOut {
            id: j.id.0,
            user_id: j.user_id.0,
            job_type: j.job_type.as_str(),
            prompt: j.prompt,
            parameters: j.parameters,
            status: j.status.as_str(),
            result_content_id: j.result_content_id.map(|c| c.0),
            created_at: j.created_at,
            started_at: j.started_at,
            completed_at: j.completed_at,
            error_message: j.error_message,
            updated_at: j.updated_at,
            progress: j.progress,
            attempts: j.attempts,
            queue_position: j.queue_position,
            priority: j.priority,
            start_deadline_at: j.start_deadline_at,
            timeout_seconds: j.timeout_seconds,
            webhook_events_filter: j
                .webhook
                .as_ref()
                .map(|w| w.events.iter().map(|k| k.as_str()).collect()),
            webhook: j.webhook.map(|w| w.url),
            worker_id: (j.status == JobStatus::Running).then_some(j.worker_id).flatten(),
        }
    }
}

/// Reads a job type: canonical values or aliases (`text`, `image`, …), any case. A string that
/// is neither is a `value_error`; any other JSON value is an `enum` error.
fn read_job_type<'s>(f: &'s mut Fields<'_>, name: &'s str) -> Field<'s, JobType> {
    let canonical: Vec<&str> = JobType::ALL.iter().map(|t| t.as_str()).collect();
    let expected = expected_list(&canonical);
    let enum_error = || Failure {
        kind: "enum",
        msg: format!("Input should be {expected}"),
        ctx: Some(json!({ "expected": expected })),
    };
    f.custom(name, ("enum", "Input should be a valid job type"), |v| match v {
        Value::String(raw) => JobType::parse_lenient(raw).ok_or_else(|| Failure {
            kind: "value_error",
            msg: format!("Value error, Unsupported job type: {raw}"),
            ctx: Some(json!({"error": {}})),
        }),
        _ => Err(enum_error()),
    })
}

/// Body of `POST /api/v1/generation-jobs/`.
#[derive(Debug, JsonSchema, ApiComponent)]
#[schemars(example = JobCreate::example())]
pub struct JobCreate {
    /// Owner (existing and active).
    #[schemars(range(min = 1))]
    pub user_id: i64,
    /// Canonical type or alias (`text`, `image`, `video`, `audio`), any case; stored canonically.
    #[schemars(with = "String")]
    #[schemars(pattern(r"^([Tt][Ee][Xx][Tt]|[Ii][Mm][Aa][Gg][Ee]|[Vv][Ii][Dd][Ee][Oo]|[Aa][Uu][Dd][Ii][Oo])(_[Gg][Ee][Nn][Ee][Rr][Aa][Tt][Ii][Oo][Nn])?$"))]
    pub job_type: JobType,
    /// Prompt, 1–10000 characters, not blank; stored trimmed.
    #[schemars(length(min = 1, max = 10000))]
    pub prompt: String,
    /// Generator parameters (`null` = `{}`). The offline generator reads `seed`, `width`,
    /// `height`, `duration`, `frames`, `paragraphs` and `step_delay_ms`; the ComfyUI generator
    /// `workflow` (a template's name; an unknown one is a 422 at `parameters.workflow`),
    /// `seed`, `width`, `height`, `steps` and `negative_prompt`.
    pub parameters: Option<JsonObject>,
    /// Queue priority, −1000…1000 (higher runs first; FIFO within a priority).
    #[serde(default)]
    #[schemars(range(min = -1000, max = 1000))]
    pub priority: i64,
    /// Seconds from creation within which the job must start, 1–604800: not started by then,
    /// it never runs and ends `cancelled` with `error_message` saying the deadline passed.
    #[schemars(range(min = 1, max = 604_800))]
    pub start_deadline_seconds: Option<i64>,
    /// Seconds an attempt may run, 1–604800: running longer, the generator is told to stop
    /// and the job ends `failed` (no retry).
    #[schemars(range(min = 1, max = 604_800))]
    pub timeout_seconds: Option<i64>,
    /// Absolute `http`/`https` URL (at most 2000 characters) the job's events are POSTed to,
    /// signed per the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`); the body is the event as the job's WebSocket sends it. Refused
    /// (422) when the server has no signing secret, or when the host is or resolves to a
    /// loopback, private, link-local, metadata or other internal address (unless the server
    /// allows private targets).
    #[schemars(with = "Option<String>", length(min = 1, max = 2000))]
    pub webhook: Option<String>,
    /// Which events to deliver (only with `webhook`): any of `started`, `progress`,
    /// `completed`, `failed`, `cancelled`; default the final ones (`completed`, `failed`,
    /// `cancelled`).
    #[schemars(with = "Option<Vec<WebhookEventDoc>>", length(min = 1))]
    pub webhook_events_filter: Option<Vec<String>>,
    /// The parsed webhook.
    #[schemars(skip)]
    pub parsed_webhook: Option<Webhook>,
}

impl JobCreate {
    fn example() -> Value {
        json!({"user_id": 1, "job_type": "image", "prompt": "a lighthouse at dusk, oil painting",
               "parameters": {"width": 512, "height": 512, "seed": 42},
               "start_deadline_seconds": 300, "timeout_seconds": 600,
               "webhook": "https://example.com/hooks/genonaut",
               "webhook_events_filter": ["started", "completed", "failed", "cancelled"]})
    }
}

/// Reads `webhook` and `webhook_events_filter` into the domain's [`Webhook`].
fn read_webhook(f: &mut Fields<'_>) -> (Option<String>, Option<Vec<String>>, Option<Webhook>) {
    let url = f
        .string("webhook")
        .min_len(1)
        .max_len(MAX_WEBHOOK_URL_LEN)
        .optional();
    let events = f.string_list("webhook_events_filter").optional();
    if let Some(raw) = &events
        && let Err(reason) = genonaut_domain::model::parse_events(raw)
    {
        f.value_error("webhook_events_filter", invalid_message(&reason));
        return (url, events, None);
    }
    let parsed = match &url {
        Some(u) => match Webhook::parse(u, events.as_deref()) {
            Ok(w) => Some(w),
            Err(genonaut_domain::DomainError::Invalid { field, reason }) => {
                f.value_error(
                    field.first().map_or("webhook", String::as_str),
                    invalid_message(&reason),
                );
                None
            }
            Err(other) => {
                f.value_error("webhook", other);
                None
            }
        },
        None if events.is_some() => {
            f.value_error("webhook_events_filter", "webhook_events_filter needs a webhook");
            None
        }
        None => None,
    };
    (url, events, parsed)
}

// Hand-written: `webhook` and `webhook_events_filter` parse together into a third field
// (`parsed_webhook`), and the filter's documented `minItems` is the domain's rule (its wording).
impl Input for JobCreate {
    fn parse(f: &mut Fields<'_>) -> Option<Self> {
        let user_id = f.int("user_id").gt(0).required();
        let job_type = read_job_type(f, "job_type").required();
        let prompt = f.string("prompt").min_len(1).max_len(10_000).required();
        let parameters = f.object("parameters").optional();
        let priority = f.int("priority").ge(-1000).le(1000).or(0);
        let max = i64::from(MAX_DEADLINE_SECONDS);
        let start_deadline_seconds = f.int("start_deadline_seconds").ge(1).le(max).optional();
        let timeout_seconds = f.int("timeout_seconds").ge(1).le(max).optional();
        let (webhook, webhook_events_filter, parsed_webhook) = read_webhook(f);
        Some(JobCreate {
            user_id: user_id?,
            job_type: job_type?,
            prompt: prompt?,
            parameters,
            priority,
            start_deadline_seconds,
            timeout_seconds,
            webhook,
            webhook_events_filter,
            parsed_webhook,
        })
    }
}

impl From<JobCreate> for NewJob {
    fn from(b: JobCreate) -> Self {
        NewJob {
            user_id: UserId(b.user_id),
            job_type: b.job_type,
            prompt: b.prompt,
            parameters: b.parameters.unwrap_or_default(),
            priority: i32::try_from(b.priority).unwrap_or(0),
            start_deadline_seconds: b.start_deadline_seconds.and_then(|s| i32::try_from(s).ok()),
            timeout_seconds: b.timeout_seconds.and_then(|s| i32::try_from(s).ok()),
            webhook: b.parsed_webhook,
        }
    }
}

/// Body of `PUT /api/v1/generation-jobs/{job_id}` (pending jobs only).
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct JobParametersUpdate {
    /// Replacement parameters (absent or `null` = unchanged).
    pub parameters: Option<JsonObject>,
}

impl crate::extract::OptionalBody for JobParametersUpdate {}

/// A status a worker may set (`cancelled` is set by cancelling).
fn is_settable_status(s: &str) -> bool {
    matches!(s, "pending" | "running" | "completed" | "failed")
}

/// A job status.
fn is_job_status(s: &str) -> bool {
    JobStatus::parse(s).is_some()
}

/// Body of `PUT /api/v1/generation-jobs/{job_id}/status`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = StatusUpdate::example())]
pub struct StatusUpdate {
    /// `pending`, `running`, `completed` or `failed`.
    #[schemars(pattern(r"^(pending|running|completed|failed)$"))]
    #[input(matches = is_settable_status)]
    pub status: String,
    /// Required (non-empty) for `failed`.
    pub error_message: Option<String>,
}

impl StatusUpdate {
    fn example() -> Value {
        json!({"status": "running"})
    }

    /// The domain change.
    pub fn change(&self) -> Option<StatusChange> {
        Some(StatusChange {
            status: JobStatus::parse(&self.status)?,
            error_message: self.error_message.clone(),
        })
    }
}

/// Body of `PUT /api/v1/generation-jobs/{job_id}/result`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct ResultUpdate {
    /// An existing content item.
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub content_id: i64,
}

/// Query of `GET /api/v1/generation-jobs/`: every filter applies (AND), newest first.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct JobListQuery {
    /// Of this user (must exist).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub user_id: Option<i64>,
    /// Of this type (canonical or alias, any case).
    #[schemars(with = "Option<String>")]
    #[schemars(pattern(r"^([Tt][Ee][Xx][Tt]|[Ii][Mm][Aa][Gg][Ee]|[Vv][Ii][Dd][Ee][Oo]|[Aa][Uu][Dd][Ii][Oo])(_[Gg][Ee][Nn][Ee][Rr][Aa][Tt][Ii][Oo][Nn])?$"))]
    #[input(with = read_job_type)]
    pub job_type: Option<JobType>,
    /// In this status.
    #[schemars(pattern(r"^(pending|running|completed|failed|cancelled)$"))]
    #[input(matches = is_job_status)]
    pub status: Option<String>,
    /// Created in the last `days` days (1…365).
    #[schemars(range(min = 1, max = 365))]
    pub days: Option<i64>,
    /// Rows to skip (≥ 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

impl JobListQuery {
    /// The domain query (`since` computed by the caller from `days`).
    pub fn query(&self, since: Option<genonaut_domain::model::Timestamp>) -> JobQuery {
        JobQuery {
            user_id: self.user_id.map(UserId),
            status: self.status.as_deref().and_then(JobStatus::parse),
            job_type: self.job_type,
            created_since: since,
        }
    }
}

/// Query of `GET /api/v1/generation-jobs/user/{user_id}/jobs`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct UserJobsQuery {
    /// Only this status (unknown values list nothing).
    pub status: Option<String>,
    /// Rows to skip (≥ 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

text_path!(
    /// `{status}` (exact; unknown values list nothing).
    StatusPath { status }
);
text_path!(
    /// `{job_type}` (canonical or alias, any case; unknown values list nothing).
    JobTypePath { job_type }
);

super::limit_query!(
    /// `limit` of `GET /generation-jobs/pending/all` (default 50).
    PendingQuery,
    "crate::dto::defaults::n_50"
);

/// Query of `GET /generation-jobs/completed/all` and `/failed/all`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct FinishedQuery {
    /// Only this user's jobs (`0` or absent: everyone's).
    #[schemars(range(min = 0))]
    pub user_id: Option<i64>,
    /// Window in days (1…365; default 30 for completed, 7 for failed).
    #[schemars(range(min = 1, max = 365))]
    pub days: Option<i64>,
    /// Maximum number of items (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

impl FinishedQuery {
    /// The user filter (`0` means none).
    pub fn user(&self) -> Option<UserId> {
        self.user_id.filter(|u| *u != 0).map(UserId)
    }
}

/// Query of `GET /api/v1/generation-jobs/stats/overview`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct JobStatsQuery {
    /// Only this user's jobs (`0` or absent: everyone's).
    #[schemars(range(min = 0))]
    pub user_id: Option<i64>,
}

/// Job counters.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct JobStatsOut {
    /// The user filter (null for all jobs).
    pub user_id: Option<i64>,
    /// Jobs counted.
    pub total_jobs: i64,
    /// Count per status that occurs.
    #[schemars(with = "std::collections::BTreeMap<String, i64>")]
    pub status_breakdown: Map<String, Value>,
    /// Count per job type that occurs.
    #[schemars(with = "std::collections::BTreeMap<String, i64>")]
    pub type_breakdown: Map<String, Value>,
    /// Mean seconds from start to completion over completed jobs (null if none).
    pub average_processing_time_seconds: Option<f64>,
}

impl JobStatsOut {
    /// Builds the body.
    pub fn new(user_id: Option<i64>, s: JobStats) -> Self {
        JobStatsOut {
            user_id,
            total_jobs: s.total,
            status_breakdown: s
                .by_status
                .iter()
                .map(|(k, n)| (k.as_str().to_owned(), json!(n)))
                .collect(),
            type_breakdown: s
                .by_type
                .iter()
                .map(|(k, n)| (k.as_str().to_owned(), json!(n)))
                .collect(),
            average_processing_time_seconds: s.average_processing_seconds,
        }
    }
}

/// Query of `POST /api/v1/generation-jobs/queue/process`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct ProcessQuery {
    /// How many pending jobs to start (0…100).
    #[serde(default = "crate::dto::defaults::n_1")]
    #[schemars(range(min = 0, max = 100))]
    pub max_jobs: i64,
}

/// `GET /api/v1/generation-jobs/queue/stats`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct QueueStatsOut {
    /// Jobs waiting.
    pub pending_jobs: i64,
    /// Jobs running.
    pub running_jobs: i64,
}

/// Body of `POST /api/v1/ws-tickets`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = TicketCreate::example())]
pub struct TicketCreate {
    /// The job to follow (must exist in the selected schema).
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub job_id: i64,
}

impl TicketCreate {
    fn example() -> serde_json::Value {
        json!({"job_id": 12})
    }
}

/// A live-status ticket: put it in the socket or event-stream URL as `?ticket=`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = TicketOut::example())]
pub struct TicketOut {
    /// The ticket (shown once; single use).
    pub ticket: String,
    /// Last moment it can be used (UTC, no zone): 60 s after issue.
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub expires_at: chrono::NaiveDateTime,
}

impl TicketOut {
    fn example() -> serde_json::Value {
        json!({"ticket": "gwt_3f9c2a6e1b7d4058a9e2c1f0b6d8e7a4c3b2a1908f7e6d5c4b3a29180f7e6d5c",
               "expires_at": "2025-09-19T23:53:25.364437"})
    }
}

/// One webhook delivery of a job's event.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = WebhookDeliveryOut::example())]
pub struct WebhookDeliveryOut {
    /// The `webhook-id` header, the same on every attempt (receivers deduplicate with it).
    pub webhook_id: String,
    /// The event's kind (its `type`).
    #[schemars(with = "WebhookEventDoc")]
    pub event_type: &'static str,
    /// The event's `seq`: deliveries of a job go out in this order.
    pub seq: i64,
    /// `pending` (attempted again at `next_attempt_at`), `delivered` (2xx) or `failed`
    /// (another 4xx, a refused target, or retries exhausted after 24 h).
    #[schemars(with = "DeliveryStatusDoc")]
    pub status: &'static str,
    /// Attempts made so far.
    pub attempts: i32,
    /// HTTP status of the last attempt (null if it got no response).
    pub last_status_code: Option<i32>,
    /// What went wrong in the last attempt (null after a success).
    pub last_error: Option<String>,
    /// When it is attempted next (UTC, no zone; null once delivered or failed).
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub next_attempt_at: Option<NaiveDateTime>,
    /// When the receiver accepted it (UTC, no zone).
    #[serde(serialize_with = "optional_timestamp")]
    #[schemars(with = "Option<String>")]
    pub delivered_at: Option<NaiveDateTime>,
    /// When the event happened (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: NaiveDateTime,
}

impl WebhookDeliveryOut {
    fn example() -> Value {
        json!({"webhook_id": "msg_5f0c2b8e9d3a4c71b6e2f1a09d8c7b6a", "event_type": "completed", "seq": 4,
               "status": "delivered", "attempts": 2, "last_status_code": 200, "last_error": null,
               "next_attempt_at": null, "delivered_at": "2025-09-19T23:52:31.120044",
               "created_at": "2025-09-19T23:52:25.364437"})
    }
}

impl From<WebhookDelivery> for WebhookDeliveryOut {
    fn from(d: WebhookDelivery) -> Self {
        WebhookDeliveryOut {
            webhook_id: d.webhook_id,
            event_type: d.event.as_str(),
            seq: d.seq,
            status: d.status.as_str(),
            attempts: d.attempts,
            last_status_code: d.last_status,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}
