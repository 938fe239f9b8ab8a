//! `WS /ws/generation/{job_id}` — live status of one generation job (contract §7.4).
//!
//! The messages are the job's live feed (`feed.rs`), one text frame each; after the final
//! event the server closes the socket normally. `?since=<seq>` replays what a reconnecting
//! client missed. Unknown job: close code 4404. Pings every 15 s keep idle sockets alive.
//! Browsers, which cannot send a key on a WebSocket, add `?ticket=` (a single-use ticket from
//! `POST /api/v1/ws-tickets`, checked by the guard, which also selects the ticket's schema).

use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{CloseCode, CloseReason, Message, Session};
use genonaut_domain::ids::JobId;

use super::feed::{self, End, Item};
use crate::media::MediaLinks;
use crate::state::{ApiState, SCHEMA_HEADER, Tenant};

const HEARTBEAT: Duration = Duration::from_secs(15);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);

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
    let links = MediaLinks::of(&req);
    actix_web::rt::spawn(async move {
        let _open = metrics.map(|m| {
            m.ws_connections.inc();
            OpenSocket(m)
        });
        let reason = match job {
            Some(job) => follow(tenant, links, JobId(job), since, session.clone(), stream).await,
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

fn close_for(end: End) -> CloseReason {
    let (code, description) = match end {
        End::Finished => (CloseCode::Normal, "job finished".to_owned()),
        End::NotFound(message) => return close_reason(4404, message),
        End::Unavailable => (CloseCode::Error, "temporarily unavailable".to_owned()),
        End::ShuttingDown => (CloseCode::Away, "server shutting down".to_owned()),
    };
    CloseReason {
        code,
        description: Some(description),
    }
}

/// Streams until the feed ends or the client leaves; returns the close reason.
async fn follow(
    tenant: Tenant,
    links: MediaLinks,
    id: JobId,
    since: Option<i64>,
    mut session: Session,
    mut incoming: actix_ws::MessageStream,
) -> Option<CloseReason> {
    let mut items = feed::open(tenant, links, id, since);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut last_seen = Instant::now();
    loop {
        tokio::select! {
            item = items.recv() => match item {
                Some(Item::Message { text, .. }) => {
                    if session.text(text).await.is_err() {
                        return None;
                    }
                }
                Some(Item::End(end)) => return Some(close_for(end)),
                None => return Some(close_for(End::ShuttingDown)),
            },
            message = incoming.recv() => match message {
                Some(Ok(Message::Ping(bytes))) => {
                    last_seen = Instant::now();
                    if session.pong(&bytes).await.is_err() {
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
                if session.ping(b"").await.is_err() {
                    return None;
                }
            }
        }
    }
}

/// Counts an open socket until dropped.
struct OpenSocket(web::Data<crate::Metrics>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.ws_connections.dec();
    }
}
