use actix_web::http::{Method, StatusCode};
use actix_web::test;
use serde_json::{Value, json};

use crate::call;

/// A page's status and text.
async fn text(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    uri: &str,
) -> (StatusCode, String) {
    let res = test::call_service(app, test::TestRequest::get().uri(uri).to_request()).await;
    let status = res.status();
    (
        status,
        String::from_utf8_lossy(&test::read_body(res).await).into_owned(),
    )
}

/// The OpenAPI document is complete, and snapshot-tested here — in the HTTP crate, without a
/// database — so every API change shows in review.
#[actix_web::test]
async fn the_document_covers_every_route_and_matches_the_snapshot() {
    let app = crate::app!();
    let (status, doc) = call(&app, Method::GET, "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            ["get", "post", "put", "delete", "patch"]
                .iter()
                .filter(|m| item.get(**m).is_some())
                .count()
        })
        .sum();
    assert!(
        operations >= 83 + 3,
        "contract routes plus additions: {operations}"
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has a summary"
            );
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has an operationId"
            );
        }
    }
    // A valid OpenAPI 3.1.0 document (scripts/openapi-check.sh validates it with
    // openapi-spec-validator and generates a client from it).
    assert_eq!(doc["openapi"], "3.1.0");
    // The schema header is the enumeration of the schemas this server serves.
    let names = &doc["components"]["schemas"]["SchemaName"];
    assert_eq!(names["enum"], json!(["app", "demo"]));
    assert_eq!(names["default"], "app");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("429") && responses.contains_key("500"),
                "{method} {path} documents 429 and 500"
            );
            let selects_schema = op["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "X-Genonaut-Schema"));
            if selects_schema {
                assert!(responses.contains_key("400"), "{method} {path} documents 400");
            }
            if path.starts_with("/api/v1/") && path != "/api/v1/health" {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{method} {path} documents 401 and 403"
                );
            }
        }
    }
    let names: Vec<&String> = doc["components"]["schemas"].as_object().unwrap().keys().collect();
    assert!(
        names.iter().all(|n| !n.ends_with("Doc")),
        "component names are clean: {names:?}"
    );
    // The documentation UIs come from this server alone (embedded assets, no CDN); headless
    // Chromium renders them offline in scripts/docs-ui-check.sh.
    for (page, script) in [
        ("/docs", "/docs/swagger-ui-bundle.js"),
        ("/redoc", "/redoc/redoc.standalone.js"),
    ] {
        let (status, html) = text(&app, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(html.contains(script), "{page} loads {script}");
        assert!(!html.contains("http"), "{page} names no other host");
        let (status, asset) = text(&app, script).await;
        assert_eq!(status, StatusCode::OK, "{script}");
        assert!(asset.len() > 100_000, "{script} is the bundle");
    }
    assert!(text(&app, "/docs/init.js").await.1.contains("\"/openapi.json\""));
    assert!(
        text(&app, "/redoc")
            .await
            .1
            .contains("spec-url=\"/openapi.json\"")
    );
    assert_eq!(text(&app, "/docs/swagger-ui.css").await.0, StatusCode::OK);
    insta::assert_json_snapshot!("openapi", doc);
}

#[actix_web::test]
async fn every_component_reference_resolves() {
    let app = crate::app!();
    let (_, doc) = call(&app, Method::GET, "/openapi.json", None).await;
    let components = doc["components"].as_object().unwrap();
    let mut refs = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let target = r
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(kind, name)| components.get(kind)?.get(name));
        assert!(target.is_some(), "dangling reference {r}");
    }
}

/// Access is declared once, in the route table, and everything else follows it: every
/// documented operation is a route of the table and every route is documented; the document
/// asks for a key exactly where the table does; the routes that differ from the default
/// (`read` for GET, `write` otherwise) are the ones the guard's documentation lists; and for a
/// request to each route the router picks that route and the guard asks for what it declares
/// (no declaration is shadowed by an earlier resource).
#[actix_web::test]
async fn the_route_table_declares_each_routes_access_and_the_document_agrees() {
    use genonaut_http::routes::Needs;
    use std::collections::BTreeSet;

    let app = crate::app!();
    let (_, doc) = call(&app, Method::GET, "/openapi.json", None).await;
    let access = genonaut_http::route_access();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let declared = access
                .routes()
                .iter()
                .find(|r| r.pattern == *path && r.method == method)
                .unwrap_or_else(|| panic!("{method} {path} is a route of the table"));
            assert_eq!(
                op.get("security").is_some(),
                declared.needs != Needs::Public,
                "{method} {path}: the document asks for a key where the table does"
            );
            documented.insert((method.to_string(), path.clone()));
        }
    }
    let declared: BTreeSet<(String, String)> = access
        .routes()
        .iter()
        .map(|r| (r.method.to_string(), r.pattern.clone()))
        .collect();
    assert_eq!(documented, declared, "the table's routes are the documented ones");
    assert_eq!(
        declared.len(),
        access.routes().len(),
        "each route is declared once"
    );

    let exceptions: BTreeSet<(String, &str, String)> = access
        .routes()
        .iter()
        .filter(|r| r.needs != Needs::default_for(&r.method))
        .map(|r| (r.method.to_string(), r.pattern.as_str(), format!("{:?}", r.needs)))
        .collect();
    let expected: BTreeSet<(String, &str, String)> = [
        ("GET", "/", "Public"),
        ("GET", "/health", "Public"),
        ("GET", "/api/v1/health", "Public"),
        ("POST", "/api/v1/ws-tickets", "Read"),
        ("POST", "/api/v1/generation-jobs/queue/process", "Admin"),
        ("PUT", "/api/v1/generation-jobs/{job_id}/status", "Admin"),
        ("PUT", "/api/v1/generation-jobs/{job_id}/result", "Admin"),
        ("GET", "/api/v1/admin/recommender", "Admin"),
        ("GET", "/api/v1/admin/keys", "Admin"),
        ("POST", "/api/v1/admin/recommender/rebuild", "Admin"),
        ("POST", "/api/v1/admin/keys", "Admin"),
        ("POST", "/api/v1/admin/keys/{prefix}/revoke", "Admin"),
    ]
    .into_iter()
    .map(|(m, p, n)| (m.to_owned(), p, n.to_owned()))
    .collect();
    assert_eq!(exceptions, expected);

    for route in access.routes() {
        let path = route.sample_path();
        let routed = access.route_of(&path).map(|r| r.pattern.as_str());
        assert_eq!(
            routed,
            Some(route.pattern.as_str()),
            "{path} is routed to its resource"
        );
        assert_eq!(
            access.needs(&route.method, &path),
            route.needs,
            "{} {path}: the guard asks for what the table declares",
            route.method
        );
        if route.method == Method::GET {
            assert_eq!(access.needs(&Method::HEAD, &path), route.needs, "HEAD {path}");
        }
    }
}
