//! Response shapes: key order, timestamps, floats, envelopes, health, schema selection.

use std::sync::Arc;

use actix_web::http::{Method, StatusCode};
use actix_web::web;
use async_trait::async_trait;
use genonaut_domain::ports::{GlobalStats, StoreInfo, SystemRepository};
use genonaut_domain::services::Services;
use genonaut_domain::testing::{FixedClock, InMemoryStore};
use genonaut_domain::{DomainError, DomainResult};
use genonaut_http::{ApiState, HttpSettings, Tenant};
use serde_json::json;

use crate::call;

#[actix_web::test]
async fn timestamps_have_no_zone_and_six_digits_or_none() {
    let app = crate::app!();
    let (_, user) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "clock", "email": "c@example.com"})),
    )
    .await;
    // The fixed test clock starts at a whole second.
    assert_eq!(user["created_at"], json!("2025-06-01T12:00:00"));
    let (_, later) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "clock2", "email": "c2@example.com"})),
    )
    .await;
    assert_eq!(later["created_at"], json!("2025-06-01T12:00:00.001000"));
}

#[actix_web::test]
async fn listings_use_the_envelope_and_echo_the_window() {
    let app = crate::app!();
    let (status, page) = call(&app, Method::GET, "/api/v1/users?skip=5&limit=7", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page, json!({"items": [], "total": 0, "skip": 5, "limit": 7}));
    let keys: Vec<String> = page.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["items", "total", "skip", "limit"]);
    // The content listing adds `next_cursor` after the contract's fields (null: no next page).
    let (status, page) = call(&app, Method::GET, "/api/v1/content?skip=5&limit=7", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        page,
        json!({"items": [], "total": 0, "skip": 5, "limit": 7, "next_cursor": null})
    );
    let keys: Vec<String> = page.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["items", "total", "skip", "limit", "next_cursor"]);
}

#[actix_web::test]
async fn schemas_are_selected_by_header() {
    let app = crate::app!();
    let post = |schema: &'static str, name: &'static str| {
        actix_web::test::TestRequest::post()
            .uri("/api/v1/users")
            .insert_header(("X-Genonaut-Schema", schema))
            .set_json(json!({"username": name, "email": format!("{name}@example.com")}))
            .to_request()
    };
    assert_eq!(
        actix_web::test::call_service(&app, post("demo", "in_demo"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let (_, app_users) = call(&app, Method::GET, "/api/v1/users", None).await;
    assert_eq!(app_users["total"], json!(0), "the default schema is untouched");
    let req = actix_web::test::TestRequest::get()
        .uri("/api/v1/databases")
        .insert_header(("X-Genonaut-Schema", "demo"))
        .to_request();
    let dbs: serde_json::Value = actix_web::test::call_and_read_body_json(&app, req).await;
    assert_eq!(
        dbs,
        json!({"available_databases": ["app", "demo"], "current_database": "demo"})
    );
}

struct DownSystem;

#[async_trait]
impl SystemRepository for DownSystem {
    async fn ping(&self) -> DomainResult<()> {
        Err(DomainError::Unavailable("database unavailable".into()))
    }
    async fn global_stats(&self) -> DomainResult<GlobalStats> {
        Err(DomainError::Unavailable("database unavailable".into()))
    }
    async fn info(&self) -> DomainResult<StoreInfo> {
        Err(DomainError::unexpected(
            "reading info",
            "connection reset by peer at 10.0.0.7:5432",
        ))
    }
}

fn down_app_state() -> web::Data<ApiState> {
    let mut repos = InMemoryStore::new().repositories();
    repos.system = Arc::new(DownSystem);
    let tenant = Tenant {
        name: "app".into(),
        services: Arc::new(Services::new(repos, Arc::new(FixedClock::default()))),
    };
    web::Data::new(ApiState::new(vec![tenant], "app").unwrap())
}

#[actix_web::test]
async fn health_is_503_with_the_same_body_when_the_database_is_down() {
    let app =
        actix_web::test::init_service(genonaut_http::app(down_app_state(), HttpSettings::default())).await;
    let (status, body) = call(&app, Method::GET, "/api/v1/health", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], json!("unhealthy"));
    assert_eq!(body["database"], json!({"status": "disconnected"}));
    assert!(body["timestamp"].is_string());
    let (status, body) = call(&app, Method::GET, "/api/v1/stats/global", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Service temporarily unavailable")
    );
    // An unexpected failure is an opaque 500 — no driver text.
    let (_, schemas) = call(&app, Method::GET, "/api/v1/schemas", None).await;
    assert_eq!(schemas["schemas"][0]["migration_version"], json!(null));
    assert!(!schemas.to_string().contains("10.0.0.7"));
}

/// A buffer the test's subscriber writes its lines to.
#[derive(Clone, Default)]
struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every line logged while a request is handled carries its id (the request span): here the
/// adapter's 503 reason and the access line, joined by the client's `X-Request-Id`.
#[actix_web::test]
async fn lines_logged_while_handling_a_request_carry_its_id() {
    let lines = Lines::default();
    let out = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || out.clone())
        .finish();
    let _installed = tracing::subscriber::set_default(subscriber);
    let app =
        actix_web::test::init_service(genonaut_http::app(down_app_state(), HttpSettings::default())).await;
    let req = actix_web::test::TestRequest::get()
        .uri("/api/v1/stats/global")
        .insert_header(("X-Request-Id", "trace-me-42"))
        .to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    tracing::info!("after the request");
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let of_request: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("request{id=trace-me-42"))
        .collect();
    assert!(
        of_request
            .iter()
            .any(|l| l.contains("answering 503") && l.contains("database unavailable")),
        "{text}"
    );
    assert!(
        of_request
            .iter()
            .any(|l| l.contains("method=GET path=/api/v1/stats/global") && l.contains("status=503")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("after the request") && !l.contains("request{")),
        "{text}"
    );
}

#[actix_web::test]
async fn oversized_bodies_are_413() {
    let settings = HttpSettings {
        body_limit: 2048,
        ..HttpSettings::default()
    };
    let app = actix_web::test::init_service(genonaut_http::app(crate::state(), settings)).await;
    let req = actix_web::test::TestRequest::post()
        .uri("/api/v1/users")
        .insert_header(("Content-Type", "application/json"))
        .set_payload(vec![b' '; 4096])
        .to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = actix_web::test::read_body_json(res).await;
    assert_eq!(
        body,
        json!({"detail": "Request body is too large (limit: 2048 bytes)"})
    );
}

#[actix_web::test]
async fn ready_is_503_while_the_event_listener_is_disconnected() {
    let connected = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = connected.clone();
    let settings = HttpSettings {
        listener: Some(genonaut_http::ListenerProbe(Arc::new(move || {
            flag.load(std::sync::atomic::Ordering::SeqCst)
        }))),
        ..HttpSettings::default()
    };
    let app = actix_web::test::init_service(genonaut_http::app(crate::state(), settings)).await;
    let (status, body) = call(&app, Method::GET, "/ready", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["listener"]["status"], json!("disconnected"));
    connected.store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = call(&app, Method::GET, "/ready", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["listener"]["status"], json!("connected"));
}
