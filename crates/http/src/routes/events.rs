//! `GET /api/v1/generation-jobs/{job_id}/events` — the job's live feed (`feed.rs`) as
//! server-sent events, for browsers (`EventSource`), proxies and `curl -N`: the same messages
//! as the WebSocket, each as `id: <seq>` + `data: <json>`, resumable with `Last-Event-ID`,
//! closed after the final event. A comment line every 15 s keeps idle connections open.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::paths::{MediaType, Response, Responses};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion, api_operation};
use genonaut_domain::ids::JobId;
use serde_json::json;
use tokio::sync::mpsc;

use super::feed::{self, Item};
use crate::dto::JobIdPath;
use crate::error::ApiError;
use crate::extract::{Header, HeaderField, Path};
use crate::media::MediaLinks;
use crate::state::Tenant;

const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The `Last-Event-ID` request header: the `seq` of the last message the client received.
#[derive(Debug, Clone, Copy)]
pub struct LastEventId(pub i64);

impl HeaderField for LastEventId {
    const NAME: &'static str = "Last-Event-ID";
    const DESCRIPTION: &'static str = "Resume after this event: the `seq` (`id:`) of the last message received. \
         Browsers' `EventSource` sends it by itself when it reconnects.";
    type Documented = u32;
    const ERROR_TYPE: &'static str = "int_parsing";

    fn parse(_: &HttpRequest, value: &HeaderValue) -> Result<Self, String> {
        match value.to_str().unwrap_or_default().trim().parse::<i64>() {
            Ok(seq) if seq >= 0 => Ok(LastEventId(seq)),
            _ => Err("Input should be a non-negative integer (an event's seq)".to_owned()),
        }
    }
}

/// A `text/event-stream` response fed by a job's live feed.
pub struct EventStream(mpsc::Receiver<Item>);

impl Responder for EventStream {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.reset();
        let state = (self.0, keep_alive);
        let body = futures_util::stream::unfold(state, |(mut items, mut keep_alive)| async move {
            let chunk = tokio::select! {
                item = items.recv() => match item {
                    Some(Item::Message { seq, text }) => format!("id: {seq}\ndata: {text}\n\n"),
                    Some(Item::End(_)) | None => return None,
                },
                _ = keep_alive.tick() => ": keep-alive\n\n".to_owned(),
            };
            Some((Ok::<_, actix_web::Error>(Bytes::from(chunk)), (items, keep_alive)))
        });
        let mut response = HttpResponse::Ok().streaming(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // Tells buffering reverse proxies (nginx) to pass each event on at once.
        headers.insert(
            actix_web::http::header::HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        );
        response
    }
}

impl ApiComponent for EventStream {
    fn child_schemas(_: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        vec![]
    }

    fn schema(_: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        None
    }

    fn responses(oas: OpenApiVersion, _: Option<String>, _: Option<String>) -> Option<Responses> {
        // Per event (what SSE-aware tools such as schemathesis validate): the fields of one
        // parsed event; `data` is the socket's JSON message.
        let event = json!({
            "type": "object",
            "description": "One event: `id` is the message's `seq`, `data` the message as JSON \
                            (the WebSocket's), `event` always `message`.",
            "required": ["data"],
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9]+$"},
                "event": {"type": "string", "enum": ["message"]},
                "data": {"type": "string", "contentMediaType": "application/json"},
                "retry": {"type": "integer"}
            }
        });
        let schema = ApistosSchema::new(schemars::Schema::try_from(event).ok()?, oas);
        let example = "id: 3\ndata: {\"type\":\"snapshot\",\"job_id\":42,\"seq\":3,...}\n\n\
                       id: 4\ndata: {\"type\":\"progress\",\"job_id\":42,\"seq\":4,\"progress\":50,...}\n\n";
        let media = MediaType {
            schema: Some(match oas {
                OpenApiVersion::OAS3_0 => apistos::VersionSpecificSchema::OAS3_0(ReferenceOr::Object(schema)),
                OpenApiVersion::OAS3_1 => apistos::VersionSpecificSchema::OAS3_1(schema),
            }),
            example: Some(apistos::paths::Examples::Example(json!(example))),
            ..Default::default()
        };
        Some(Responses {
            responses: BTreeMap::from([(
                "200".to_owned(),
                ReferenceOr::Object(Response {
                    description: "The job's messages as server-sent events, until its final event."
                        .to_owned(),
                    content: BTreeMap::from([("text/event-stream".to_owned(), media)]),
                    ..Default::default()
                }),
            )]),
            ..Default::default()
        })
    }
}

/// Live status as server-sent events
///
/// The same messages as `WS /ws/generation/{job_id}` — first a `snapshot` with the job, then
/// one per event (`queued`, `started`, `progress`, `retrying`, then `completed`, `failed` or
/// `cancelled`; a `progress` message may carry `preview`, the `/media/...` path of a small
/// image of the work so far, and `preview_url`, its signed URL for browsers) — as
/// `text/event-stream`: each event's `id:` is its `seq`, its `data:` the JSON
/// message. Reconnecting with `Last-Event-ID` replays what was missed; the stream ends after
/// the final event (at once when the job has already finished and nothing is to be replayed).
/// A browser's `EventSource`, which cannot send a key, adds `?ticket=<ticket>` from
/// `POST /api/v1/ws-tickets` instead (single use, this job only; it also selects the schema).
#[api_operation(
    operation_id = "jobs_events",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn events(
    tenant: Tenant,
    links: MediaLinks,
    p: Path<JobIdPath>,
    last: Header<LastEventId>,
) -> Result<EventStream, ApiError> {
    let id = JobId(p.0.job_id);
    // Unknown jobs are a 404 in the contract's shape before the stream starts.
    tenant.services.jobs.get(id).await?;
    Ok(EventStream(feed::open(tenant, links, id, last.0.map(|l| l.0))))
}
