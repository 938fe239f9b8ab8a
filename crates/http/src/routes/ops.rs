//! `/metrics` and `/ready`: what operators and orchestrators poll.

use std::sync::Arc;

use actix_web::{HttpResponse, web};

use crate::middleware::metrics::{JobLabels, Metrics};

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
    let database = super::system::tokio_timeout(tenant.services.system.ping())
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
