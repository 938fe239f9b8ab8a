//! `WS /ws/generation/{job_id}` — live status of one generation job (contract §7.4).
//!
//! On connect: a `snapshot` with the job; then one message per event (`queued`, `started`,
//! `progress`, `retrying`, and finally `completed`, `failed` or `cancelled`), each with `type`,
//! `job_id`, `seq` (increasing per job) and `timestamp`; after the final event the server closes
//! the socket normally. `?since=<seq>` replays what a reconnecting client missed. Unknown job:
//! close code 4404. Pings every 15 s keep idle sockets alive.
//!
//! Delivery: the socket subscribes *before* reading the job, forwards live events in `seq`
//! order and skips duplicates; when it falls behind (slow client, listener reconnect, a gap in
//! `seq`) it re-reads the job's event log from the database, so it never misses the final state
//! and never slows other clients down.

use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Message, Session};
use genonaut_domain::DomainError;
use genonaut_domain::ids::JobId;
use genonaut_domain::model::{JobEvent, JobEventKind};
use genonaut_domain::ports::SubscriptionItem;
use serde_json::{Value, json};

use crate::dto::jobs::JobOut;
use crate::state::{ApiState, SCHEMA_HEADER, Tenant};

const HEARTBEAT: Duration = Duration::from_secs(15);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Without a live feed (no listener), how often the log is polled.
const POLL: Duration = Duration::from_millis(500);

fn now_text() -> String {
    chrono::Utc::now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

fn message(event: &JobEvent) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("type".into(), json!(event.kind.as_str()));
    out.insert("job_id".into(), json!(event.job_id.0));
    out.insert("seq".into(), json!(event.seq));
    let ts = event.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    out.insert(
        "timestamp".into(),
        json!(ts.strip_suffix(".000000").unwrap_or(&ts)),
    );
    for (k, v) in &event.data {
        out.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Value::Object(out)
}

/// Query of the socket URL.
#[derive(Debug, serde::Deserialize)]
pub struct SocketQuery {
    /// Resume after this event.
    since: Option<i64>,
    /// Schema (browsers cannot set headers on WebSockets).
    schema: Option<String>,
}

/// Upgrades to a WebSocket and streams the job's status.
pub async fn generation(
    req: HttpRequest,
    body: web::Payload,
    path: web::Path<String>,
    query: web::Query<SocketQuery>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let requested = req
        .headers()
        .get(SCHEMA_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(query.schema.clone());
    let tenant = state.select(requested.as_deref())?.clone();
    let job = path.trim().parse::<i64>().ok();
    let since = query.since;
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let metrics = req.app_data::<web::Data<crate::Metrics>>().cloned();
    actix_web::rt::spawn(async move {
        let _open = metrics.map(|m| {
            m.ws_connections.inc();
            OpenSocket(m)
        });
        let reason = match job {
            Some(job) => follow(tenant, JobId(job), since, session.clone(), stream).await,
            None => Some(close_reason(
                4404,
                format!("Generation job '{}' not found", path.as_str()),
            )),
        };
        let _ = session.close(reason).await;
    });
    Ok(response)
}

fn close_reason(code: u16, description: String) -> CloseReason {
    CloseReason {
        code: CloseCode::Other(code),
        description: Some(description),
    }
}

struct Stream {
    session: Session,
    last: i64,
    done: bool,
}

impl Stream {
    /// Sends `event` unless already sent; `false` if the client is gone.
    async fn send(&mut self, tenant: &Tenant, event: &JobEvent) -> bool {
        if event.seq <= self.last {
            return true;
        }
        let mut body = message(event);
        if event.kind == JobEventKind::Queued
            && let Ok(job) = tenant.services.jobs.get(event.job_id).await
        {
            body["queue_position"] = json!(job.queue_position);
        }
        self.last = event.seq;
        self.done = event.kind.is_terminal();
        self.session.text(body.to_string()).await.is_ok()
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

/// Streams until the terminal event or the client leaves; returns the close reason.
async fn follow(
    tenant: Tenant,
    id: JobId,
    since: Option<i64>,
    session: Session,
    mut incoming: actix_ws::MessageStream,
) -> Option<CloseReason> {
    let mut live = tenant.services.jobs.subscribe(id);
    let job = match tenant.services.jobs.get(id).await {
        Ok(job) => job,
        Err(DomainError::NotFound(message)) => return Some(close_reason(4404, message)),
        Err(e) => {
            tracing::warn!(job = %id, error = %e, "cannot read job for a socket");
            return Some(CloseReason {
                code: CloseCode::Error,
                description: Some("temporarily unavailable".into()),
            });
        }
    };
    let mut out = Stream {
        session,
        last: since.unwrap_or(job.event_seq).max(0),
        done: false,
    };
    let snapshot = json!({"type": "snapshot", "job_id": id.0, "seq": job.event_seq, "timestamp": now_text(), "job": JobOut::from(job)});
    if out.session.text(snapshot.to_string()).await.is_err() {
        return None;
    }
    if !matches!(out.catch_up(&tenant, id).await, Ok(true)) {
        return None;
    }
    if out.done || (since.is_none() && terminal(&tenant, id).await) {
        return Some(CloseReason {
            code: CloseCode::Normal,
            description: Some("job finished".into()),
        });
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut last_seen = Instant::now();
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
        tokio::select! {
            item = item => {
                let ok = match item {
                    Some(SubscriptionItem::Event(event)) if event.seq > out.last + 1 => out.catch_up(&tenant, id).await,
                    Some(SubscriptionItem::Event(event)) => Ok(out.send(&tenant, &event).await),
                    Some(SubscriptionItem::Resync) => out.catch_up(&tenant, id).await,
                    None => return Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".into()) }),
                };
                match ok {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => tracing::warn!(job = %id, error = %e, "reading job events failed"),
                }
                if out.done {
                    return Some(CloseReason { code: CloseCode::Normal, description: Some("job finished".into()) });
                }
            }
            message = incoming.recv() => match message {
                Some(Ok(Message::Ping(bytes))) => {
                    last_seen = Instant::now();
                    if out.session.pong(&bytes).await.is_err() {
                        return None;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => last_seen = Instant::now(),
            },
            _ = heartbeat.tick() => {
                if last_seen.elapsed() > CLIENT_TIMEOUT {
                    return Some(CloseReason { code: CloseCode::Away, description: Some("no pong".into()) });
                }
                if out.session.ping(b"").await.is_err() {
                    return None;
                }
            }
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

/// Counts an open socket until dropped.
struct OpenSocket(web::Data<crate::Metrics>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.ws_connections.dec();
    }
}
