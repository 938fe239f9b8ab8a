//! API keys, scopes, rate limits, security headers, request ids and metrics against a running
//! server with authentication on.

use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::http::Method;
use genonaut_domain::model::Scope;
use genonaut_domain::services::KeyService;
use genonaut_http::Rate;
use genonaut_tests::TestApp;
use serde_json::json;

async fn secured(per_key: Option<Rate>) -> (TestApp, KeyService) {
    let app = TestApp::spawn_with(Box::new(move |c| {
        c.auth = true;
        c.key_cache = Duration::ZERO;
        c.per_key = per_key;
    }))
    .await;
    let keys = app.keys();
    (app, keys)
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

#[actix_web::test]
async fn every_mutating_route_refuses_missing_wrong_revoked_expired_and_underscoped_keys() {
    let (app, keys) = secured(None).await;
    // Start-up created the first admin key (printed once, not logged).
    assert!(keys.has_admin().await.unwrap());
    let read = keys
        .create("reader", Scope::Read, None, None)
        .await
        .unwrap()
        .secret;
    let write = keys
        .create("writer", Scope::Write, None, None)
        .await
        .unwrap()
        .secret;
    let admin = keys
        .create("admin", Scope::Admin, None, None)
        .await
        .unwrap()
        .secret;
    let revoked = keys.create("gone", Scope::Admin, None, None).await.unwrap();
    keys.revoke(&revoked.key.prefix).await.unwrap();
    let soon = chrono::Utc::now().naive_utc() + chrono::Duration::milliseconds(300);
    let expiring = keys
        .create("brief", Scope::Admin, None, Some(soon))
        .await
        .unwrap()
        .secret;
    let other_schema = keys
        .create("elsewhere", Scope::Admin, Some("some_other".into()), None)
        .await
        .unwrap()
        .secret;
    tokio::time::sleep(Duration::from_millis(400)).await;

    let user = json!({"username": "kim", "email": "kim@example.com"});
    let routes: Vec<(Method, &str, Option<serde_json::Value>)> = vec![
        (Method::POST, "/api/v1/users/", Some(user.clone())),
        (Method::PUT, "/api/v1/users/1", Some(json!({"username": "k2"}))),
        (Method::DELETE, "/api/v1/users/1", None),
        (
            Method::POST,
            "/api/v1/content/",
            Some(json!({"title": "t", "content_type": "text", "content_data": "x", "creator_id": 1})),
        ),
        (
            Method::POST,
            "/api/v1/interactions/",
            Some(json!({"user_id": 1, "content_item_id": 1, "interaction_type": "view"})),
        ),
        (
            Method::POST,
            "/api/v1/recommendations/generate",
            Some(json!({"user_id": 1})),
        ),
        (
            Method::POST,
            "/api/v1/generation-jobs/",
            Some(json!({"user_id": 1, "job_type": "text", "prompt": "p"})),
        ),
    ];
    let wrong = "gnt_00000000_0000000000000000000000000000000000000000";
    for (method, path, body) in &routes {
        let no_key = app.send(method.clone(), path, body.as_ref(), &[]).await;
        assert_eq!(no_key.status.as_u16(), 401, "{method} {path} without a key");
        assert_eq!(
            no_key.headers.get("www-authenticate").map(|v| v.as_bytes()),
            Some(&b"Bearer"[..])
        );
        assert_eq!(no_key.body["detail"], "Not authenticated");
        for (key, status, detail) in [
            (wrong, 401, "Invalid API key"),
            ("not-a-key", 401, "Invalid API key"),
            (revoked.secret.as_str(), 401, "API key has been revoked"),
            (expiring.as_str(), 401, "API key has expired"),
            (read.as_str(), 403, "This API key lacks the 'write' scope"),
            (
                other_schema.as_str(),
                403,
                "This API key may only use schema 'some_other'",
            ),
        ] {
            let auth = bearer(key);
            let reply = app
                .send(method.clone(), path, body.as_ref(), &[("Authorization", &auth)])
                .await;
            assert_eq!(reply.status.as_u16(), status, "{method} {path} with {detail}");
            assert_eq!(reply.body["detail"], detail);
        }
    }
    // Reads need a key too; health and the documentation do not.
    app.get("/api/v1/users/").await.expect(401);
    app.send(Method::GET, "/api/v1/users/", None, &[("X-API-Key", &read)])
        .await
        .expect(200);
    app.get("/api/v1/health").await.expect(200);
    app.get("/openapi.json").await.expect(200);
    app.get("/").await.expect(200);

    // The right scope passes: write creates, admin administers, write may not administer.
    app.send(
        Method::POST,
        "/api/v1/users/",
        Some(&user),
        &[("Authorization", &bearer(&write))],
    )
    .await
    .expect(201);
    app.send(
        Method::GET,
        "/api/v1/admin/recommender",
        None,
        &[("Authorization", &bearer(&write))],
    )
    .await
    .expect(403);
    app.send(
        Method::GET,
        "/api/v1/admin/recommender",
        None,
        &[("Authorization", &bearer(&admin))],
    )
    .await
    .expect(200);
    app.send(
        Method::POST,
        "/api/v1/generation-jobs/queue/process",
        None,
        &[("X-API-Key", &write)],
    )
    .await
    .expect(403);
    // Nothing was written by the refused requests: one user, the one created above.
    let users = app
        .send(Method::GET, "/api/v1/users/", None, &[("X-API-Key", &read)])
        .await
        .expect(200);
    assert_eq!(users["total"], 1);
}

/// What the route table declares is what the server enforces: every route declared `admin`
/// refuses a write key with 403 (before any input is read) and lets an admin key through, and a
/// route declared `read` for a method that would otherwise need `write` lets a read key through.
#[actix_web::test]
async fn the_access_each_route_declares_in_the_table_is_enforced() {
    use genonaut_http::routes::Needs;

    let (app, keys) = secured(None).await;
    let write = keys
        .create("writer", Scope::Write, None, None)
        .await
        .unwrap()
        .secret;
    let admin = keys
        .create("admin", Scope::Admin, None, None)
        .await
        .unwrap()
        .secret;
    let read = keys
        .create("reader", Scope::Read, None, None)
        .await
        .unwrap()
        .secret;
    let access = genonaut_http::route_access();
    let declared_admin: Vec<_> = access
        .routes()
        .iter()
        .filter(|r| r.needs == Needs::Admin)
        .collect();
    assert!(declared_admin.len() >= 8, "the admin routes: {declared_admin:?}");
    for route in declared_admin {
        let path = route.sample_path();
        let refused = app
            .send(route.method.clone(), &path, None, &[("X-API-Key", &write)])
            .await;
        assert_eq!(
            refused.detail(403),
            "This API key lacks the 'admin' scope",
            "{} {path} with a write key",
            route.method
        );
        let allowed = app
            .send(route.method.clone(), &path, None, &[("X-API-Key", &admin)])
            .await;
        assert!(
            ![401, 403].contains(&allowed.status.as_u16()),
            "{} {path} with an admin key: {}",
            route.method,
            allowed.status
        );
    }
    let lowered: Vec<_> = access
        .routes()
        .iter()
        .filter(|r| r.needs == Needs::Read && r.method != Method::GET)
        .collect();
    assert!(!lowered.is_empty());
    for route in lowered {
        let path = route.sample_path();
        let reply = app
            .send(
                route.method.clone(),
                &path,
                Some(&json!({"job_id": 1})),
                &[("X-API-Key", &read)],
            )
            .await;
        assert!(
            ![401, 403].contains(&reply.status.as_u16()),
            "{} {path} with a read key: {}",
            route.method,
            reply.status
        );
    }
}

#[actix_web::test]
async fn over_the_limit_is_429_with_retry_after_per_key() {
    let rate = Rate {
        per_second: NonZeroU32::MIN,
        burst: NonZeroU32::new(3).unwrap(),
    };
    let (app, keys) = secured(Some(rate)).await;
    let a = keys.create("a", Scope::Read, None, None).await.unwrap().secret;
    let b = keys.create("b", Scope::Read, None, None).await.unwrap().secret;
    for _ in 0..3 {
        app.send(Method::GET, "/api/v1/users/", None, &[("X-API-Key", &a)])
            .await
            .expect(200);
    }
    let limited = app
        .send(Method::GET, "/api/v1/users/", None, &[("X-API-Key", &a)])
        .await;
    assert_eq!(limited.status.as_u16(), 429);
    let retry: u64 = limited
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    assert!(
        limited.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Rate limit exceeded")
    );
    // Another key has its own budget.
    app.send(Method::GET, "/api/v1/users/", None, &[("X-API-Key", &b)])
        .await
        .expect(200);
}

/// The limits `genonaut serve` starts with for these flags (defaults for everything else).
fn limits_of(flags: &[&str]) -> (Option<Rate>, Option<Rate>) {
    use clap::Parser;
    let mut args = vec!["genonaut"];
    args.extend_from_slice(flags);
    let config = genonaut::cli::Cli::try_parse_from(args)
        .map_err(|e| e.to_string())
        .and_then(|cli| genonaut::config::Config::try_from(cli.serve).map_err(|e| e.to_string()));
    match config {
        Ok(config) => (config.per_key, config.per_ip),
        Err(e) => panic!("flags {flags:?}: {e}"),
    }
}

#[actix_web::test]
async fn with_auth_off_the_default_limits_let_a_rapid_client_through() {
    let (per_key, per_ip) = limits_of(&["--auth", "off"]);
    let app = TestApp::spawn_with(Box::new(move |c| {
        c.auth = false;
        c.per_key = per_key;
        c.per_ip = per_ip;
    }))
    .await;
    // Well over the per-IP burst that applies with keys on (40).
    for i in 0..100 {
        let reply = app.get("/api/v1/users/").await;
        assert!(reply.status.is_success(), "request {i}: {}", reply.status);
    }
}

#[actix_web::test]
async fn with_auth_off_a_configured_ip_limit_answers_429_with_ratelimit_fields() {
    let (per_key, per_ip) = limits_of(&["--auth", "off", "--rate-per-ip", "1", "--burst-per-ip", "3"]);
    let app = TestApp::spawn_with(Box::new(move |c| {
        c.auth = false;
        c.per_key = per_key;
        c.per_ip = per_ip;
    }))
    .await;
    let mut limited = None;
    for _ in 0..10 {
        let reply = app.get("/api/v1/users/").await;
        if reply.status.as_u16() == 429 {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.status.as_u16(), 200);
    }
    let limited = limited.expect("a 429 within 10 requests at 1/s, burst 3");
    let field = |name: &str| -> u64 {
        limited
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} is present"))
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let retry = field("retry-after");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    assert_eq!(field("ratelimit-limit"), 3);
    assert_eq!(field("ratelimit-remaining"), 0);
    assert_eq!(field("ratelimit-reset"), retry);
    assert_eq!(
        limited.headers.get("ratelimit-policy").unwrap().to_str().unwrap(),
        "3;w=3"
    );
    assert!(
        limited.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Rate limit exceeded")
    );
}

#[actix_web::test]
async fn responses_carry_request_ids_and_security_headers_and_metrics_count_requests() {
    let app = TestApp::spawn().await;
    let reply = app.get("/api/v1/users/").await;
    let id = reply
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(id.len() >= 8, "{id}");
    assert_eq!(reply.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(reply.headers.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(reply.headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(
        reply
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    // The docs pages load scripts from this server only (embedded assets).
    let docs = app.get("/docs").await;
    let csp = docs
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("https:"), "{csp}");
    // A client's own id is echoed.
    let mine = app
        .send(
            Method::GET,
            "/api/v1/health",
            None,
            &[("X-Request-Id", "trace-42")],
        )
        .await;
    assert_eq!(mine.headers.get("x-request-id").unwrap(), "trace-42");

    app.get("/api/v1/users/999").await.expect(404);
    // Readiness: database, event listener and the queue of every schema.
    let ready = app.ready().await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["listener"]["status"], "connected");
    assert_eq!(ready["queue"][app.schema().as_str()]["pending"], 0);
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status.as_u16(), 200);
    let text = metrics.text;
    assert!(
        text.contains(
            r#"genonaut_http_requests_total{method="GET",route="/api/v1/users/{user_id}",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("genonaut_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("genonaut_db_pool_connections{schema="), "{text}");
    assert!(text.contains(r#"status="pending"} 0"#), "{text}");
    assert!(text.contains("genonaut_ws_connections 0"), "{text}");
}

#[actix_web::test]
async fn nul_characters_anywhere_in_input_are_422_not_500() {
    let app = TestApp::spawn().await;
    let id = app.user("nul").await;
    let prefs = json!({"preferences": {"a\u{0}b": 1}});
    let body = app
        .put(&format!("/api/v1/users/{id}/preferences"), prefs)
        .await
        .expect(422);
    assert_eq!(
        body["detail"][0]["loc"],
        json!(["body", "preferences", "a\u{0}b"])
    );
    let content = json!({"title": "t", "content_type": "text", "content_data": "x", "creator_id": id,
                         "item_metadata": {"k": ["fine", "bad\u{0}"]}});
    let body = app.post("/api/v1/content/", content).await.expect(422);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "item_metadata", "k", 1]));
    app.get("/api/v1/content/?search_term=a%00b").await.expect(422);
    // Any value of a repeated parameter, not only the last one.
    let body = app.get("/api/v1/content/?tags=a%00b&tags=c").await.expect(422);
    assert_eq!(body["detail"][0]["loc"], json!(["query", "tags", 0]));
    let body = app.get("/api/v1/content/?tags=ok&tags=x%00").await.expect(422);
    assert_eq!(body["detail"][0]["loc"], json!(["query", "tags", 1]));
    // Nothing was written.
    let listed = app.get("/api/v1/content/").await.expect(200);
    assert_eq!(listed["total"], 0);
}

#[actix_web::test]
async fn numbers_too_large_to_read_back_are_422() {
    let app = TestApp::spawn().await;
    let id = app.user("big").await;
    let preferences = format!("/api/v1/users/{id}/preferences");
    let prefs = json!({"preferences": {"a": 1.797_693_134_862_315_7e308}});
    let body = app.put(&preferences, prefs).await.expect(422);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "preferences", "a"]));
    let fine = json!({"preferences": {"a": -7.092_866_123_166_797e16, "b": 1e300}});
    app.put(&preferences, fine).await.expect(200);
    let read = app.get(&format!("/api/v1/users/{id}")).await.expect(200);
    assert_eq!(read["preferences"]["a"], json!(-70_928_661_231_667_970_i64));
}
