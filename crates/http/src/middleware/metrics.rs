//! The service's Prometheus registry and the HTTP-side metrics (requests by route and status,
//! latency, open sockets, jobs, experiment events).

use std::collections::HashMap;
use std::sync::RwLock;

use actix_web::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

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
pub type Sampler = std::sync::Arc<dyn Fn() + Send + Sync>;

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
    pub(crate) fn record(&self, method: &Method, route: String, status: u16, seconds: f64) -> String {
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

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
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
}
