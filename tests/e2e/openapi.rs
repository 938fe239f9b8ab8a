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
    let docs = app.get("/docs").await;
    assert_eq!(docs.status.as_u16(), 200);
    assert!(docs.text.contains("/openapi.json"));
    insta::assert_json_snapshot!("openapi", doc);
}
