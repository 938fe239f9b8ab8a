//! API keys over HTTP (`/api/v1/admin/keys`): listing, creation (the secret shown once),
//! revocation (at once, even with a verdict cache), and the refusals.

use std::time::Duration;

use actix_web::http::Method;
use genonaut_domain::model::Scope;
use genonaut_domain::services::KeyService;
use genonaut_tests::{Reply, TestApp};
use serde_json::{Value, json};

async fn secured(cache: Duration) -> (TestApp, KeyService) {
    let app = TestApp::spawn_with(Box::new(move |c| {
        c.auth = true;
        c.key_cache = cache;
    }))
    .await;
    let keys = app.keys();
    (app, keys)
}

async fn key(keys: &KeyService, scope: Scope) -> String {
    keys.create("test", scope, None, None)
        .await
        .unwrap_or_else(|e| panic!("creating a key: {e}"))
        .secret
}

async fn call(app: &TestApp, key: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
    let auth = format!("Bearer {key}");
    app.send(method, path, body.as_ref(), &[("Authorization", auth.as_str())])
        .await
}

fn prefix(secret: &str) -> &str {
    &secret[4..12]
}

#[actix_web::test]
async fn an_admin_creates_lists_and_revokes_keys_and_a_revoked_key_is_refused_at_once() {
    // A long verdict cache: revocation through the API must still take effect at once.
    let (app, keys) = secured(Duration::from_secs(600)).await;
    let admin = key(&keys, Scope::Admin).await;

    let created = call(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/keys",
        Some(json!({"name": "gallery", "scope": "read", "expires_in_days": 30})),
    )
    .await
    .expect(201);
    let secret = created["secret"].as_str().expect("the secret").to_owned();
    assert!(secret.starts_with("gnt_"), "{created}");
    assert_eq!(created["key"]["prefix"], prefix(&secret));
    assert_eq!(created["key"]["scope"], "read");
    assert_eq!(created["key"]["name"], "gallery");
    assert!(created["key"]["expires_at"].is_string());
    assert!(created["key"]["revoked_at"].is_null());

    // The new key works (and is now cached as valid).
    call(&app, &secret, Method::GET, "/api/v1/users", None)
        .await
        .expect(200);
    // It may read, not write.
    call(
        &app,
        &secret,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "x", "email": "x@example.com"})),
    )
    .await
    .expect(403);

    // Listed, newest first, never with a secret.
    let list = call(&app, &admin, Method::GET, "/api/v1/admin/keys", None).await;
    assert!(!list.text.contains(&secret[13..]), "no secret in listings");
    let list = list.expect(200);
    // (the server made its own admin key at start, as there was none)
    assert_eq!(list["total"], 3);
    assert_eq!(list["items"][0]["prefix"], prefix(&secret));
    assert_eq!(list["items"][1]["prefix"], prefix(&admin));
    assert!(list["items"][0].get("secret").is_none());

    // Revoked by prefix: refused on the next request despite the cache.
    let revoked = call(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/admin/keys/{}/revoke", prefix(&secret)),
        None,
    )
    .await
    .expect(200);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let refused = call(&app, &secret, Method::GET, "/api/v1/users", None).await;
    assert_eq!(refused.detail(401), "API key has been revoked");

    // Idempotent: the first revocation time is kept.
    let again = call(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/admin/keys/{}/revoke", prefix(&secret)),
        None,
    )
    .await
    .expect(200);
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);
}

#[actix_web::test]
async fn keys_routes_refuse_what_they_must() {
    let (app, keys) = secured(Duration::ZERO).await;
    let admin = key(&keys, Scope::Admin).await;
    let write = key(&keys, Scope::Write).await;

    // Admin scope only; no key at all is a 401.
    assert_eq!(app.get("/api/v1/admin/keys").await.status, 401);
    call(&app, &write, Method::GET, "/api/v1/admin/keys", None)
        .await
        .expect(403);
    call(
        &app,
        &write,
        Method::POST,
        &format!("/api/v1/admin/keys/{}/revoke", prefix(&admin)),
        None,
    )
    .await
    .expect(403);

    // Not the key the request is made with (by prefix or by the whole key).
    for named in [prefix(&admin).to_owned(), admin.clone()] {
        let own = call(
            &app,
            &admin,
            Method::POST,
            &format!("/api/v1/admin/keys/{named}/revoke"),
            None,
        )
        .await;
        assert!(own.detail(422).contains("this request is made with"));
    }
    call(&app, &admin, Method::GET, "/api/v1/users", None)
        .await
        .expect(200);

    // Unknown prefix.
    let unknown = call(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/keys/00000000/revoke",
        None,
    )
    .await;
    assert_eq!(unknown.detail(404), "API key 00000000 not found");

    // Bad input: every problem at once; a schema not served here.
    let bad = call(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/keys",
        Some(json!({"name": "", "scope": "root", "expires_in_days": 0})),
    )
    .await;
    let problems = bad.problems();
    let fields: Vec<&str> = problems.iter().map(|(_, loc)| loc.as_str()).collect();
    assert!(fields.iter().any(|l| l.contains("name")), "{problems:?}");
    assert!(fields.iter().any(|l| l.contains("scope")), "{problems:?}");
    assert!(
        fields.iter().any(|l| l.contains("expires_in_days")),
        "{problems:?}"
    );
    let schema = call(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/keys",
        Some(json!({"name": "x", "scope": "read", "schema": "nowhere"})),
    )
    .await;
    let problems = schema.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].1, "body.schema");

    // A key limited to the served schema.
    let limited = call(
        &app,
        &admin,
        Method::POST,
        "/api/v1/admin/keys",
        Some(json!({"name": "x", "scope": "write", "schema": app.schema().to_string()})),
    )
    .await
    .expect(201);
    assert_eq!(limited["key"]["schema"], app.schema().to_string());
    assert!(limited["key"]["expires_at"].is_null());
}

#[actix_web::test]
async fn with_authentication_off_there_are_no_keys_to_manage() {
    let app = TestApp::spawn().await;
    let list = app.get("/api/v1/admin/keys").await;
    assert!(list.detail(404).contains("API_AUTH=off"));
    let create = app
        .post("/api/v1/admin/keys", json!({"name": "x", "scope": "read"}))
        .await;
    assert_eq!(create.status.as_u16(), 404);
    assert_eq!(
        app.post_empty("/api/v1/admin/keys/abcdef12/revoke")
            .await
            .status
            .as_u16(),
        404
    );
}
