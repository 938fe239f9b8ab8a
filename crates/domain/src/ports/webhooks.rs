use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::JobId;
use crate::model::{AttemptResult, DeliveryStatus, JobEvent, Timestamp, WebhookDelivery};

/// A delivery claimed for one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    /// The `webhook-id` (the same on every attempt).
    pub webhook_id: String,
    /// Where to send it.
    pub url: String,
    /// The event (the body is its [message](JobEvent::message)).
    pub event: JobEvent,
    /// Attempts including this one.
    pub attempts: i32,
    /// When the event happened (retries stop some time after).
    pub created_at: Timestamp,
}

impl DueDelivery {
    /// The delivery's key in the outbox: its event's job and `seq`.
    pub fn key(&self) -> (JobId, i64) {
        (self.event.job_id, self.event.seq)
    }
}

/// How an attempt ended, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// The new state.
    pub status: DeliveryStatus,
    /// The HTTP status, if a response came.
    pub last_status: Option<i32>,
    /// What went wrong, if anything.
    pub last_error: Option<String>,
    /// Next attempt (pending only).
    pub next_attempt_at: Option<Timestamp>,
    /// When it was accepted (delivered only).
    pub delivered_at: Option<Timestamp>,
}

/// The webhook outbox of one store. Rows are written by the job repositories in the same
/// statement as the event they deliver (one per event whose job has a webhook asking for its
/// kind), so a delivery exists if and only if its event committed.
#[async_trait]
pub trait WebhookOutbox: Send + Sync {
    /// Claims at most `limit` deliveries due at `now`: for each job only its pending delivery
    /// with the lowest `seq` (so a job's deliveries go out in order, the next only once the
    /// previous one is delivered or failed). Each claimed row counts one more attempt and is
    /// hidden from every claim until `hold_until` (a process that dies mid-attempt leaves it
    /// to be retried then). Concurrent claims never return the same row.
    async fn claim(
        &self,
        now: Timestamp,
        hold_until: Timestamp,
        limit: usize,
    ) -> DomainResult<Vec<DueDelivery>>;

    /// Records how the attempts of claimed deliveries ended (`(delivery key, record)`, the key
    /// from [`DueDelivery::key`]), all in one step; ends their hold.
    async fn finish(&self, done: &[((JobId, i64), AttemptRecord)]) -> DomainResult<()>;

    /// A job's deliveries in `seq` order (empty for an unknown job).
    async fn deliveries(&self, job: JobId) -> DomainResult<Vec<WebhookDelivery>>;
}

/// A signed webhook request.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRequest {
    /// Target URL.
    pub url: String,
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp` (unix seconds).
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
    /// JSON body.
    pub body: String,
}

/// Sends webhook requests (`POST`, `Content-Type: application/json`, the three
/// `webhook-*` headers). An implementation must not follow redirects, must give up after the
/// policy's timeout, and — unless private targets are allowed — must resolve the host, refuse
/// it with [`AttemptResult::Forbidden`] if an address it resolves to is forbidden
/// ([`forbidden_address`](crate::model::forbidden_address)), and connect only to the
/// addresses it checked.
#[async_trait]
pub trait HttpSender: Send + Sync {
    /// One attempt.
    async fn send(&self, request: &WebhookRequest) -> AttemptResult;
}
