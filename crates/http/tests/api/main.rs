//! HTTP handlers against the in-memory adapters: wire shapes, validation, statuses — fast, no
//! database. (The same routes run against PostgreSQL in the end-to-end tests.)
#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::sync::Arc;

use actix_web::dev::ServiceResponse;
use actix_web::http::{Method, StatusCode};
use actix_web::{test, web};
use genonaut_domain::services::Services;
use genonaut_domain::testing::{FixedClock, InMemoryStore};
use genonaut_http::{ApiState, HttpSettings, Tenant};
use serde_json::{Value, json};

mod openapi;
mod validation;
mod wire;

/// The app over two in-memory schemas, `app` (default) and `demo`.
pub fn state() -> web::Data<ApiState> {
    let tenant = |name: &str| Tenant {
        name: name.into(),
        services: Arc::new(Services::new(
            InMemoryStore::new().repositories(),
            Arc::new(FixedClock::default()),
        )),
    };
    web::Data::new(ApiState::new(vec![tenant("app"), tenant("demo")], "app").unwrap())
}

/// Sends one request; returns status, headers and the JSON body (`Null` if not JSON).
pub async fn call(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = test::TestRequest::default().method(method).uri(uri);
    if let Some(body) = body {
        req = req.set_json(body);
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let bytes = test::read_body(res).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[macro_export]
macro_rules! app {
    () => {
        actix_web::test::init_service(genonaut_http::app(
            $crate::state(),
            genonaut_http::HttpSettings::default(),
        ))
        .await
    };
}

#[actix_web::test]
async fn smoke_root_and_unknown_paths() {
    let app = app!();
    let (status, body) = call(&app, Method::GET, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["message"].as_str().unwrap().contains("Genonaut API"));
    let (status, body) = call(&app, Method::GET, "/api/v1/nonexistent", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    );
    let _ = HttpSettings::default();
}
