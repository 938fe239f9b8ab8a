//! The OpenAPI document: complete, and snapshot-tested so every API change shows in review.

use genonaut_tests::TestApp;

#[actix_web::test]
async fn the_document_covers_every_route_and_matches_the_snapshot() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json").await.expect(200);
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
    let mut doc = doc;
    let names = &mut doc["components"]["schemas"]["SchemaName"];
    assert_eq!(names["enum"], serde_json::json!([app.schema().as_str()]));
    assert_eq!(names["default"], app.schema().as_str());
    names["enum"] = serde_json::json!(["<test schema>"]);
    names["default"] = serde_json::json!("<test schema>");
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
        let html = app.get(page).await;
        assert_eq!(html.status.as_u16(), 200, "{page}");
        assert!(html.text.contains(script), "{page} loads {script}");
        assert!(!html.text.contains("http"), "{page} names no other host");
        let asset = app.get(script).await;
        assert_eq!(asset.status.as_u16(), 200, "{script}");
        assert!(asset.text.len() > 100_000, "{script} is the bundle");
    }
    let init = app.get("/docs/init.js").await;
    assert!(init.text.contains("\"/openapi.json\""));
    assert!(
        app.get("/redoc")
            .await
            .text
            .contains("spec-url=\"/openapi.json\"")
    );
    assert_eq!(app.get("/docs/swagger-ui.css").await.status.as_u16(), 200);
    insta::assert_json_snapshot!("openapi", doc);
}
