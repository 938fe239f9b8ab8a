//! The in-memory fake of the webhook outbox.

use super::*;

pub(super) struct Webhooks(pub(super) InMemoryStore);

#[async_trait]
impl WebhookOutbox for Webhooks {
    async fn claim(
        &self,
        now: Timestamp,
        hold_until: Timestamp,
        limit: usize,
    ) -> DomainResult<Vec<DueDelivery>> {
        let mut s = self.0.lock();
        let mut heads: Vec<usize> = Vec::new();
        for (i, (d, _)) in s.webhooks.iter().enumerate() {
            if d.status != DeliveryStatus::Pending {
                continue;
            }
            // Only the earliest pending delivery of each job.
            let first = s
                .webhooks
                .iter()
                .all(|(e, _)| e.job_id != d.job_id || e.status != DeliveryStatus::Pending || e.seq >= d.seq);
            if first && d.next_attempt_at.is_some_and(|at| at <= now) {
                heads.push(i);
            }
        }
        heads.truncate(limit);
        let mut due = Vec::new();
        for i in heads {
            let (delivery, url) = {
                let (d, url) = &mut s.webhooks[i];
                d.attempts += 1;
                d.next_attempt_at = Some(hold_until);
                (d.clone(), url.clone())
            };
            let event = s
                .job_events
                .get(&delivery.job_id)
                .and_then(|events| events.iter().find(|e| e.seq == delivery.seq))
                .cloned()
                .ok_or_else(|| DomainError::unexpected("claiming a webhook delivery", "its event is gone"))?;
            due.push(DueDelivery {
                webhook_id: delivery.webhook_id,
                url,
                event,
                attempts: delivery.attempts,
                created_at: delivery.created_at,
            });
        }
        Ok(due)
    }

    async fn finish(&self, done: &[((JobId, i64), AttemptRecord)]) -> DomainResult<()> {
        let mut s = self.0.lock();
        for ((job, seq), record) in done {
            if let Some((d, _)) = s
                .webhooks
                .iter_mut()
                .find(|(d, _)| d.job_id == *job && d.seq == *seq)
            {
                d.status = record.status;
                d.last_status = record.last_status;
                d.last_error.clone_from(&record.last_error);
                d.next_attempt_at = record.next_attempt_at;
                d.delivered_at = record.delivered_at;
            }
        }
        Ok(())
    }

    async fn deliveries(&self, job: JobId) -> DomainResult<Vec<WebhookDelivery>> {
        let s = self.0.lock();
        let mut out: Vec<WebhookDelivery> = s
            .webhooks
            .iter()
            .filter(|(d, _)| d.job_id == job)
            .map(|(d, _)| d.clone())
            .collect();
        out.sort_by_key(|d| d.seq);
        Ok(out)
    }
}
