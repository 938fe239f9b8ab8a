//! Delivery of the webhook outbox: claim what is due, sign, send, decide what the answer
//! means (docs/jobs.md, "Webhooks").

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use crate::error::DomainResult;
use crate::model::AttemptResult;
use crate::model::{DeliveryDecision, DeliveryPolicy, DeliveryStatus, WebhookSecret};
use crate::ports::{
    AttemptRecord, Clock, DueDelivery, Entropy, HttpSender, WebhookOutbox, WebhookRequest, unit_interval,
};

/// What one attempt came to (for metrics and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Accepted (2xx).
    Delivered,
    /// Given up.
    Failed,
    /// Will be attempted again.
    Retrying,
}

impl AttemptOutcome {
    /// Label of the outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Retrying => "retrying",
        }
    }
}

/// Delivers one store's outbox.
#[derive(Clone)]
pub struct WebhookDeliverer {
    outbox: Arc<dyn WebhookOutbox>,
    sender: Arc<dyn HttpSender>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    secret: WebhookSecret,
    policy: DeliveryPolicy,
}

/// Attempts of one claim under way at once (slow receivers are waited for side by side).
pub const CONCURRENT_ATTEMPTS: usize = 8;

/// How long a claim of `limit` deliveries is hidden from other claims: every round of
/// [`CONCURRENT_ATTEMPTS`] attempts timing out one after another, and a margin.
fn hold(policy: &DeliveryPolicy, limit: usize) -> Duration {
    let rounds = limit.max(1).div_ceil(CONCURRENT_ATTEMPTS);
    policy.timeout * u32::try_from(rounds).unwrap_or(u32::MAX) + Duration::from_secs(30)
}

impl WebhookDeliverer {
    /// A deliverer of `outbox` through `sender`, signing with `secret`.
    pub fn new(
        outbox: Arc<dyn WebhookOutbox>,
        sender: Arc<dyn HttpSender>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        secret: WebhookSecret,
        policy: DeliveryPolicy,
    ) -> Self {
        WebhookDeliverer {
            outbox,
            sender,
            clock,
            entropy,
            secret,
            policy,
        }
    }

    /// Claims at most `limit` due deliveries and attempts each once, up to
    /// [`CONCURRENT_ATTEMPTS`] at a time (a claim holds at most one delivery per job, so each
    /// job's stay in order), then records every attempt in one step (one commit per claim, not
    /// per delivery); returns what each attempt came to. A process that dies before recording
    /// leaves the claim to be retried after its hold: at least once, the same `webhook-id`.
    pub async fn deliver_due(&self, limit: usize) -> DomainResult<Vec<(DueDelivery, AttemptOutcome)>> {
        let now = self.clock.now();
        let hold_until =
            now + chrono::Duration::from_std(hold(&self.policy, limit)).unwrap_or(chrono::Duration::MAX);
        let due = self.outbox.claim(now, hold_until, limit).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        // Collected first: a `map` closure held across the await would make the future not
        // `Send` (its borrow is not general over lifetimes).
        let pending: Vec<_> = due
            .iter()
            .map(|delivery| self.attempt(delivery, unit_interval(self.entropy.as_ref())))
            .collect();
        let attempts: Vec<(AttemptRecord, AttemptOutcome)> = stream::iter(pending)
            .buffered(CONCURRENT_ATTEMPTS)
            .collect()
            .await;
        let mut records = Vec::with_capacity(due.len());
        let mut outcomes = Vec::with_capacity(due.len());
        for (delivery, (record, outcome)) in due.into_iter().zip(attempts) {
            records.push((delivery.key(), record));
            outcomes.push((delivery, outcome));
        }
        self.outbox.finish(&records).await?;
        Ok(outcomes)
    }

    /// Attempts one claimed delivery: what to record and what it came to; `jitter` in [0, 1)
    /// scales the retry delay.
    async fn attempt(&self, delivery: &DueDelivery, jitter: f64) -> (AttemptRecord, AttemptOutcome) {
        let body = delivery.event.message().to_string();
        let timestamp = self.clock.now().and_utc().timestamp();
        let request = WebhookRequest {
            url: delivery.url.clone(),
            id: delivery.webhook_id.clone(),
            timestamp,
            signature: self.secret.sign(&delivery.webhook_id, timestamp, &body),
            body,
        };
        let result = self.sender.send(&request).await;
        let now = self.clock.now();
        let decision = self
            .policy
            .decide(&result, delivery.attempts, delivery.created_at, now, jitter);
        let (last_status, last_error) = match &result {
            AttemptResult::Response { status, .. } => (
                Some(i32::from(*status)),
                (!(200..300).contains(status)).then(|| format!("HTTP {status}")),
            ),
            AttemptResult::Network(e) => (None, Some(e.clone())),
            AttemptResult::Forbidden(e) => (None, Some(e.clone())),
        };
        let (record, outcome) = match decision {
            DeliveryDecision::Delivered => (
                AttemptRecord {
                    status: DeliveryStatus::Delivered,
                    last_status,
                    last_error: None,
                    next_attempt_at: None,
                    delivered_at: Some(now),
                },
                AttemptOutcome::Delivered,
            ),
            DeliveryDecision::Failed => (
                AttemptRecord {
                    status: DeliveryStatus::Failed,
                    last_status,
                    last_error,
                    next_attempt_at: None,
                    delivered_at: None,
                },
                AttemptOutcome::Failed,
            ),
            DeliveryDecision::Retry(at) => (
                AttemptRecord {
                    status: DeliveryStatus::Pending,
                    last_status,
                    last_error,
                    next_attempt_at: Some(at),
                    delivered_at: None,
                },
                AttemptOutcome::Retrying,
            ),
        };
        (record, outcome)
    }
}
