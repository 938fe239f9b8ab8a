//! What every request leaves behind: a request id (`X-Request-Id`, also in 5xx bodies), one
//! log line, Prometheus metrics, and the security headers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::uri::PathAndQuery;
use actix_web::http::{Method, Uri};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::guard::Caller;

/// The request id header.
pub const REQUEST_ID: &str = "X-Request-Id";

/// A request's id (in its extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// Labels of the per-schema job gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// Schema.
    pub schema: String,
    /// Job status.
    pub status: String,
}

/// Labels of the per-experiment-variant counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExperimentLabels {
    /// Schema.
    pub schema: String,
    /// Experiment name.
    pub experiment: String,
    /// Variant name.
    pub variant: String,
    /// `served` (recommendations generated under the variant) or a feedback kind (`liked`,
    /// `clicked`, `converted`, `disliked`, `dismissed`).
    pub event: String,
}

/// What a request's metric handles are cached under.
#[derive(Hash, PartialEq, Eq)]
struct RouteKey {
    method: Method,
    route: String,
    status: u16,
}

/// The metric label of non-standard methods.
static OTHER_METHOD: std::sync::LazyLock<Method> =
    std::sync::LazyLock::new(|| Method::from_bytes(b"OTHER").unwrap_or_default());

/// Refreshes gauges owned elsewhere (pools) right before a scrape.
pub type Sampler = Arc<dyn Fn() + Send + Sync>;

/// The service's metrics registry and the HTTP-side metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// Handles of `requests` and `latency` already looked up (shared with the families).
    routes: RwLock<HashMap<RouteKey, (Counter, Histogram)>>,
    /// Open WebSocket connections.
    pub ws_connections: Gauge,
    /// Generation jobs per schema and status (refreshed on scrape).
    pub jobs: Family<JobLabels, Gauge>,
    /// Recommendations served and feedback received per experiment variant.
    pub experiments: Family<ExperimentLabels, Counter>,
    sampler: Option<Sampler>,
}

impl Metrics {
    /// A registry with the HTTP metrics; `extra` registers other components' metrics and may
    /// return a sampler run before every scrape.
    pub fn new(extra: impl FnOnce(&mut Registry) -> Option<Sampler>) -> Self {
        let mut registry = Registry::with_prefix("genonaut");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let ws_connections = Gauge::default();
        registry.register(
            "ws_connections",
            "Open WebSocket connections",
            ws_connections.clone(),
        );
        let jobs = Family::<JobLabels, Gauge>::default();
        registry.register("jobs", "Generation jobs by schema and status", jobs.clone());
        let experiments = Family::<ExperimentLabels, Counter>::default();
        registry.register(
            "experiment_events",
            "Recommendations served and feedback received per experiment variant",
            experiments.clone(),
        );
        let sampler = extra(&mut registry);
        Metrics {
            registry,
            requests,
            latency,
            routes: RwLock::default(),
            ws_connections,
            jobs,
            experiments,
            sampler,
        }
    }

    /// Counts a request and observes its latency. The two label sets are looked up in the
    /// families once per (method, route, status); after that the handles come from `routes`.
    /// Gives `route` back.
    fn record(&self, method: &Method, route: String, status: u16, seconds: f64) -> String {
        // Clients can send any token as a method; only the standard ones get their own label.
        let method = match *method {
            Method::GET
            | Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::DELETE
            | Method::HEAD
            | Method::OPTIONS
            | Method::CONNECT
            | Method::TRACE => method.clone(),
            _ => OTHER_METHOD.clone(),
        };
        let key = RouteKey {
            method,
            route,
            status,
        };
        let cached = self.routes.read().ok().and_then(|routes| {
            routes.get(&key).map(|(count, latency)| {
                count.inc();
                latency.observe(seconds);
            })
        });
        if cached.is_some() {
            return key.route;
        }
        let count = self
            .requests
            .get_or_create(&RequestLabels {
                method: key.method.as_str().to_owned(),
                route: key.route.clone(),
                status,
            })
            .clone();
        let latency = self
            .latency
            .get_or_create(&RouteLabels {
                method: key.method.as_str().to_owned(),
                route: key.route.clone(),
            })
            .clone();
        count.inc();
        latency.observe(seconds);
        let route = key.route.clone();
        if let Ok(mut routes) = self.routes.write() {
            routes.insert(key, (count, latency));
        }
        route
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        if let Some(sampler) = &self.sampler {
            sampler();
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(|_| None)
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn new_request_id() -> String {
    static BOOT: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let boot = *BOOT.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        nanos ^ std::process::id().rotate_left(16)
    });
    // `{boot:08x}-{n:010x}`, written digit by digit.
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut id = [b'-'; 19];
    for (i, slot) in id[..8].iter_mut().enumerate() {
        *slot = HEX[(boot >> (28 - 4 * i) & 0xf) as usize];
    }
    for (i, slot) in id[9..].iter_mut().enumerate() {
        *slot = HEX[(n >> (36 - 4 * i) & 0xf) as usize];
    }
    String::from_utf8_lossy(&id).into_owned()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A client's id is kept if it is short and printable; otherwise a new one is made.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned)
}

/// The documentation pages load their scripts and styles from this server only (embedded
/// assets); Redoc styles with inline `<style>` and runs its search in a blob worker.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     font-src 'self' data:; img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
     frame-ancestors 'none'";
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

fn security_headers(path: &str, headers: &mut actix_web::http::header::HeaderMap) {
    // Built once: `HeaderValue::from_static` checks every byte when it runs.
    const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
    const DENY: HeaderValue = HeaderValue::from_static("DENY");
    const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
    const API: HeaderValue = HeaderValue::from_static(API_CSP);
    const DOCS: HeaderValue = HeaderValue::from_static(DOCS_CSP);
    let docs = path.starts_with("/docs") || path.starts_with("/redoc");
    let set = [
        (header::X_CONTENT_TYPE_OPTIONS, NOSNIFF),
        (header::X_FRAME_OPTIONS, DENY),
        (header::REFERRER_POLICY, NO_REFERRER),
        (header::CONTENT_SECURITY_POLICY, if docs { DOCS } else { API }),
    ];
    for (name, value) in set {
        // The documentation pages may bring their own; API responses never do.
        if !docs || !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
}

/// The middleware (outermost), one layer for what every request needs: its id, `HEAD` routed
/// as `GET`, the path normalised, then (after the inner layers) security headers, the id in
/// 5xx bodies, metrics and one log line.
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
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let mut res = next.call(req).await?.map_into_boxed_body();

    let status = res.status();
    if status.is_server_error() {
        res = with_request_id(res, &id).await;
    }
    let request = res.request().clone();
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    let path = request.path();
    security_headers(path, headers);

    let mut route = request.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = started.elapsed();
    if let Some(metrics) = &metrics {
        route = metrics.record(&method, route, status.as_u16(), elapsed.as_secs_f64());
    }
    let route = route.as_str();
    let extensions = request.extensions();
    let caller = extensions.get::<Caller>().map(|c| c.prefix.as_str());
    let method = method.as_str();
    let ms = elapsed.as_micros() as f64 / 1000.0;
    if status.is_server_error() {
        tracing::warn!(target: "genonaut::access", request_id = %id, %method, %path, route, status = status.as_u16(), ms, key = caller, "request");
    } else {
        tracing::info!(target: "genonaut::access", request_id = %id, %method, %path, route, status = status.as_u16(), ms, key = caller, "request");
    }
    drop(extensions);
    Ok(res)
}

/// Both trailing-slash spellings are one route (`/api/v1/users/` is `/api/v1/users`) and
/// repeated slashes are one: the path is rewritten before routing (as actix-web's
/// `NormalizePath::trim`, without its per-request regex pass over paths that are already
/// normal).
fn normalize_path(req: &mut ServiceRequest) {
    let path = req.path();
    if path.len() <= 1 || !(path.ends_with('/') || path.contains("//")) {
        return;
    }
    let mut normal = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        normal.push('/');
        normal.push_str(segment);
    }
    if normal.is_empty() {
        normal.push('/');
    }
    let uri = req.uri();
    let path_and_query = match uri.query() {
        Some(query) => format!("{normal}?{query}"),
        None => normal,
    };
    let mut parts = uri.clone().into_parts();
    let Ok(path_and_query) = PathAndQuery::from_maybe_shared(web::Bytes::from(path_and_query)) else {
        return;
    };
    parts.path_and_query = Some(path_and_query);
    let Ok(uri) = Uri::from_parts(parts) else {
        return;
    };
    req.match_info_mut().get_mut().update(&uri);
    req.head_mut().uri = uri;
}

/// Adds `"request_id"` to a JSON object body, so a client can quote it.
async fn with_request_id(res: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let (req, response) = res.into_parts();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return ServiceResponse::new(req, response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let Ok(bytes) = actix_web::body::to_bytes(response.into_body()).await else {
        return ServiceResponse::new(req, HttpResponse::build(status).finish());
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.insert("request_id".into(), serde_json::Value::from(id));
            serde_json::to_vec(&object).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut rebuilt = HttpResponse::build(status).body(body);
    for (name, value) in &headers {
        if name != header::CONTENT_LENGTH {
            rebuilt.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, rebuilt)
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(metrics: web::Data<Metrics>, state: web::Data<crate::ApiState>) -> HttpResponse {
    for tenant in state.tenants() {
        if let Ok(stats) = tenant.services.jobs.stats(None).await {
            for status in genonaut_domain::model::JobStatus::ALL {
                let n = stats
                    .by_status
                    .iter()
                    .find(|(s, _)| s == status)
                    .map_or(0, |(_, n)| *n);
                metrics
                    .jobs
                    .get_or_create(&JobLabels {
                        schema: tenant.name.to_string(),
                        status: status.as_str().to_owned(),
                    })
                    .set(n);
            }
        }
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.encode())
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Whether the job-event listener (LISTEN/NOTIFY) is connected; supplied by the binary.
#[derive(Clone)]
pub struct ListenerProbe(pub Arc<dyn Fn() -> bool + Send + Sync>);

impl std::fmt::Debug for ListenerProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListenerProbe")
    }
}

/// `GET /ready`: 200 when the default schema's database answers and the event listener
/// is connected, 503 otherwise; with the queue's pending and running jobs per schema, and
/// whether item embeddings are in use (`embeddings.status`: `available`, or `unavailable`
/// with the reason — the recommender then falls back to tags; readiness does not depend on it).
pub async fn ready(
    state: web::Data<crate::ApiState>,
    probe: Option<web::Data<ListenerProbe>>,
) -> HttpResponse {
    let tenant = state.default_tenant();
    let database = crate::routes::system::tokio_timeout(tenant.services.system.ping())
        .await
        .is_ok();
    let listener = probe.is_none_or(|p| (p.get_ref().0)());
    let mut queue = serde_json::Map::new();
    for tenant in state.tenants() {
        if let Ok((pending, running)) = tenant.services.jobs.queue_counts().await {
            queue.insert(
                tenant.name.to_string(),
                serde_json::json!({"pending": pending, "running": running}),
            );
        }
    }
    let semantic = tenant.services.semantic.status();
    let mut indexed = serde_json::Map::new();
    for tenant in state.tenants() {
        indexed.insert(
            tenant.name.to_string(),
            serde_json::json!(tenant.services.semantic.status().indexed),
        );
    }
    let embeddings = if semantic.available {
        serde_json::json!({"status": "available", "model": semantic.model, "indexed": indexed})
    } else {
        serde_json::json!({"status": "unavailable", "reason": semantic.reason,
                           "fallback": "content scoring and similar items use tags"})
    };
    let ok = database && listener;
    let status = |up: bool| if up { "connected" } else { "disconnected" };
    let body = serde_json::json!({
        "status": if ok { "ready" } else { "not_ready" },
        "database": {"status": status(database)},
        "listener": {"status": status(listener)},
        "queue": queue,
        "embeddings": embeddings,
    });
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

impl Metrics {
    /// Counts `n` events of an experiment variant, for recommendations whose `rec_metadata`
    /// carries `experiment = {name, variant}` (others are ignored).
    pub fn count_experiment(
        &self,
        schema: &str,
        metadata: &serde_json::Map<String, serde_json::Value>,
        event: &str,
        n: u64,
    ) {
        let Some(tag) = metadata.get("experiment") else {
            return;
        };
        let (Some(experiment), Some(variant)) = (
            tag.get("name").and_then(serde_json::Value::as_str),
            tag.get("variant").and_then(serde_json::Value::as_str),
        ) else {
            return;
        };
        self.experiments
            .get_or_create(&ExperimentLabels {
                schema: schema.to_owned(),
                experiment: experiment.to_owned(),
                variant: variant.to_owned(),
                event: event.to_owned(),
            })
            .inc_by(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_handles_count_into_the_registered_families() {
        let metrics = Metrics::default();
        let get = Method::GET;
        let route = "/api/v1/content/{content_id}";
        assert_eq!(metrics.record(&get, route.into(), 200, 0.002), route);
        metrics.record(&get, route.into(), 200, 0.2);
        metrics.record(&get, route.into(), 404, 0.001);
        metrics.record(&Method::HEAD, route.into(), 200, 0.001);
        for token in ["BREW", "PROPFIND"] {
            metrics.record(
                &Method::from_bytes(token.as_bytes()).unwrap(),
                "unmatched".into(),
                404,
                0.001,
            );
        }
        let text = metrics.encode();
        let line = |needle: &str| text.lines().find(|l| l.starts_with(needle)).map(str::to_owned);
        assert_eq!(
            line(r#"genonaut_http_requests_total{method="GET",route="/api/v1/content/{content_id}",status="200"}"#)
                .as_deref()
                .and_then(|l| l.rsplit(' ').next()),
            Some("2")
        );
        assert!(line(r#"genonaut_http_requests_total{method="GET",route="/api/v1/content/{content_id}",status="404"} 1"#).is_some());
        assert!(line(r#"genonaut_http_requests_total{method="HEAD",route="/api/v1/content/{content_id}",status="200"} 1"#).is_some());
        assert!(
            line(r#"genonaut_http_requests_total{method="OTHER",route="unmatched",status="404"} 2"#)
                .is_some(),
            "any other method shares one label: {text}"
        );
        assert!(
            line(r#"genonaut_http_request_duration_seconds_count{method="GET",route="/api/v1/content/{content_id}"} 3"#)
                .is_some(),
            "{text}"
        );
    }

    #[test]
    fn new_request_ids_are_boot_and_counter_in_fixed_width_hex() {
        let (a, b) = (new_request_id(), new_request_id());
        for id in [&a, &b] {
            assert_eq!(id.len(), 19, "{id}");
            assert_eq!(&id[8..9], "-");
            assert!(
                id.bytes()
                    .enumerate()
                    .all(|(i, c)| i == 8 || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
        }
        assert_eq!(a[..8], b[..8], "same boot part");
        let n = |id: &str| u64::from_str_radix(&id[9..], 16).unwrap();
        assert!(n(&b) > n(&a), "{a} then {b}");
    }
}
