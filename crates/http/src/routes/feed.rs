//! The live feed of one generation job, shared by the WebSocket (`ws.rs`) and server-sent
//! events (`events` in `jobs.rs`): a `snapshot` with the job, then one message per event
//! (`queued`, `started`, `progress`, `retrying`, and finally `completed`, `failed` or
//! `cancelled`), each with `type`, `job_id`, `seq` (increasing per job) and `timestamp`; the
//! feed ends after the final event. `since` replays what a reconnecting client missed. A
//! `progress` message with a `preview` (a `/media/...` path) also carries `preview_url`, its
//! signed URL for browsers (like a content item's `media_url`), when media signing is on.
//!
//! Delivery: the feed subscribes *before* reading the job, forwards live events in `seq` order
//! and skips duplicates; when it falls behind (slow client, listener reconnect, a gap in `seq`)
//! it re-reads the job's event log from the database, so it never misses the final state and
//! never slows other clients down. Transports only carry its messages.

use std::time::Duration;

use genonaut_domain::DomainError;
use genonaut_domain::ids::JobId;
use genonaut_domain::model::{JobEvent, JobEventKind, TimestampText};
use genonaut_domain::ports::SubscriptionItem;
use serde_json::json;
use tokio::sync::mpsc;

use crate::dto::jobs::JobOut;
use crate::error::not_found_message;
use crate::media::MediaLinks;
use crate::state::Tenant;

/// Without a live feed (no listener), how often the log is polled.
const POLL: Duration = Duration::from_millis(500);
/// Messages a slow client may fall behind before the feed waits for it.
const BUFFER: usize = 64;

/// What the feed hands its transport.
#[derive(Debug)]
pub enum Item {
    /// One message: its `seq` and its JSON text.
    Message {
        /// The job's event sequence number the message carries.
        seq: i64,
        /// The serialized message.
        text: String,
    },
    /// The feed is over; nothing follows.
    End(End),
}

/// Why a feed ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The job reached its final state (or was already final when opened without `since`).
    Finished,
    /// No such job (the message says which).
    NotFound(String),
    /// The job could not be read.
    Unavailable,
    /// The server is shutting down.
    ShuttingDown,
}

/// Opens the feed of job `id`; the receiver yields messages until an [`Item::End`]. Dropping
/// the receiver stops the feed.
pub fn open(tenant: Tenant, links: MediaLinks, id: JobId, since: Option<i64>) -> mpsc::Receiver<Item> {
    let (tx, rx) = mpsc::channel(BUFFER);
    actix_web::rt::spawn(async move {
        if let Some(end) = run(&tenant, links, id, since, &tx).await {
            let _ = tx.send(Item::End(end)).await;
        }
    });
    rx
}

struct Sender<'a> {
    tx: &'a mpsc::Sender<Item>,
    links: MediaLinks,
    last: i64,
    done: bool,
}

impl Sender<'_> {
    /// Sends `event` unless already sent; `false` if the client is gone.
    async fn send(&mut self, tenant: &Tenant, event: &JobEvent) -> bool {
        if event.seq <= self.last {
            return true;
        }
        let mut body = event.message();
        if let Some(url) = event
            .data
            .get("preview")
            .and_then(serde_json::Value::as_str)
            .and_then(|path| self.links.url(path))
        {
            body["preview_url"] = json!(url);
        }
        if event.kind == JobEventKind::Queued
            && let Ok(job) = tenant.services.jobs.get(event.job_id).await
        {
            body["queue_position"] = json!(job.queue_position);
        }
        self.last = event.seq;
        self.done = event.kind.is_terminal();
        let item = Item::Message {
            seq: event.seq,
            text: body.to_string(),
        };
        self.tx.send(item).await.is_ok()
    }

    /// Sends everything in the log after the last event sent.
    async fn catch_up(&mut self, tenant: &Tenant, job: JobId) -> Result<bool, DomainError> {
        for event in tenant.services.jobs.events_since(job, self.last).await? {
            if !self.send(tenant, &event).await {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Feeds until the final event or the client leaves (`None`).
async fn run(
    tenant: &Tenant,
    links: MediaLinks,
    id: JobId,
    since: Option<i64>,
    tx: &mpsc::Sender<Item>,
) -> Option<End> {
    let mut live = tenant.services.jobs.subscribe(id);
    let job = match tenant.services.jobs.get(id).await {
        Ok(job) => job,
        Err(DomainError::NotFound(missing)) => return Some(End::NotFound(not_found_message(&missing))),
        Err(e) => {
            tracing::warn!(job = %id, error = %e, "cannot read job for a live feed");
            return Some(End::Unavailable);
        }
    };
    let mut out = Sender {
        tx,
        links,
        last: since.unwrap_or(job.event_seq).max(0),
        done: false,
    };
    let timestamp = TimestampText::micros(&chrono::Utc::now().naive_utc()).to_string();
    let seq = job.event_seq;
    let snapshot = json!({"type": "snapshot", "job_id": id.0, "seq": seq, "timestamp": timestamp, "job": JobOut::from(job)});
    // On a resumed feed the snapshot carries the resume point, so a client cut off right after
    // it resumes with the replay rather than past it.
    let item = Item::Message {
        seq: out.last.min(seq),
        text: snapshot.to_string(),
    };
    if tx.send(item).await.is_err() || !matches!(out.catch_up(tenant, id).await, Ok(true)) {
        return None;
    }
    if out.done || (since.is_none() && terminal(tenant, id).await) {
        return Some(End::Finished);
    }
    loop {
        let item = async {
            match live.as_mut() {
                Some(feed) => feed.next().await,
                None => {
                    tokio::time::sleep(POLL).await;
                    Some(SubscriptionItem::Resync)
                }
            }
        };
        let ok = tokio::select! {
            item = item => match item {
                Some(SubscriptionItem::Event(event)) if event.seq > out.last + 1 => out.catch_up(tenant, id).await,
                Some(SubscriptionItem::Event(event)) => Ok(out.send(tenant, &event).await),
                Some(SubscriptionItem::Resync) => out.catch_up(tenant, id).await,
                None => return Some(End::ShuttingDown),
            },
            () = tx.closed() => return None,
        };
        match ok {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => tracing::warn!(job = %id, error = %e, "reading job events failed"),
        }
        if out.done {
            return Some(End::Finished);
        }
    }
}

async fn terminal(tenant: &Tenant, id: JobId) -> bool {
    tenant
        .services
        .jobs
        .get(id)
        .await
        .is_ok_and(|j| j.status.is_terminal())
}
