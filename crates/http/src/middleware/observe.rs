//! The outermost layer: what every request needs before and after the others — its id and its
//! span, `HEAD` routed as `GET`, the path normalised; then security headers, the id in 5xx
//! bodies, metrics and one access-log line.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument as _;
use tracing::field::Empty;

use super::metrics::Metrics;
use super::normalize::normalize_path;
use super::request_id::{RequestId, request_id, with_request_id};
use super::security::security_headers;
use crate::state::SCHEMA_HEADER;

/// The middleware. Everything logged while the request is handled — by the guard, the handler,
/// the domain or an adapter, the 500 cause chain included — happens inside the request's
/// `request` span, which carries its id, schema and (once the guard has authenticated it) the
/// key's prefix, so an operator can join a failure to its request and its access line (which
/// adds the method, path, route, status and time).
pub async fn observe(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    // As the client sent it: a HEAD request is logged and counted as HEAD.
    let method = req.method().clone();
    if method == Method::HEAD {
        // Routed as GET; the HTTP/1 codec, which remembers the request was HEAD, sends the
        // GET's headers (with its Content-Length) and no body.
        req.head_mut().method = Method::GET;
    }
    normalize_path(&mut req);
    let id: Arc<str> = request_id(&req).into();
    req.extensions_mut().insert(RequestId(id.clone()));
    let schema = req.headers().get(SCHEMA_HEADER).and_then(|v| v.to_str().ok());
    // Only what joins a line to its request (the id) and what the guard learns (the schema
    // asked for, the key): the span's fields are formatted when it opens and copied into every
    // line logged inside it, so the method and the path, which only the access line needs,
    // are that line's own fields. Display (`%`), not Debug, which escapes strings character by
    // character.
    let span = tracing::info_span!(
        "request",
        id = %id,
        schema = schema.map(tracing::field::display),
        key = Empty,
    );
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let mut res = match crate::console::browser_redirect(&req) {
        Some(redirect) => req.into_response(redirect),
        None => next
            .call(req)
            .instrument(span.clone())
            .await?
            .map_into_boxed_body(),
    };

    let status = res.status();
    if status.is_server_error() {
        res = with_request_id(res, &id).await;
    }
    let request = res.request().clone();
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    security_headers(request.path(), headers);

    let mut route = request.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = started.elapsed();
    if let Some(metrics) = &metrics {
        route = metrics.record(&method, route, status.as_u16(), elapsed.as_secs_f64());
    }
    let route = route.as_str();
    let ms = elapsed.as_micros() as f64 / 1000.0;
    let status = status.as_u16();
    let path = request.path();
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(target: "genonaut::access", %method, %path, route, status, ms, "request");
        } else {
            tracing::info!(target: "genonaut::access", %method, %path, route, status, ms, "request");
        }
    });
    Ok(res)
}

/// Records the authenticated key's prefix on the current request's span.
pub(crate) fn record_key(prefix: &str) {
    tracing::Span::current().record("key", tracing::field::display(prefix));
}
