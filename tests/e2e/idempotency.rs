//! Idempotent submission: `Idempotency-Key` on `POST /api/v1/generation-jobs`.

use std::time::Duration;

use actix_web::http::Method;
use genonaut_domain::model::Scope;
use genonaut_tests::{Reply, TestApp};
use serde_json::{Value, json};

const JOBS: &str = "/api/v1/generation-jobs";

async fn submit(app: &TestApp, body: &Value, headers: &[(&str, &str)]) -> Reply {
    app.send(Method::POST, JOBS, Some(body), headers).await
}

fn replayed(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get("Idempotent-Replayed")
        .and_then(|v| v.to_str().ok())
}

async fn total(app: &TestApp, headers: &[(&str, &str)]) -> i64 {
    // -1 (never a count) if the listing has no total.
    app.send(Method::GET, JOBS, None, headers).await.expect(200)["total"]
        .as_i64()
        .unwrap_or(-1)
}

#[actix_web::test]
async fn the_same_key_and_body_replay_the_original_201_without_creating_another() {
    let app = TestApp::spawn().await;
    let u = app.user("idem").await;
    let body =
        json!({"user_id": u, "job_type": "image", "prompt": "a fox", "parameters": {"steps": 8, "seed": 1}});
    let key = [("Idempotency-Key", "order-42")];
    let first = submit(&app, &body, &key).await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.text);
    assert_eq!(replayed(&first), None);
    // The job moves on meanwhile; the replay is the response as first sent.
    let id = first.body["id"].as_i64().unwrap();
    app.put(&format!("{JOBS}/{id}"), json!({"parameters": {"steps": 99}}))
        .await
        .expect(200);
    // Same content with keys in another order and the collection's other spelling.
    let reordered =
        json!({"parameters": {"seed": 1, "steps": 8}, "prompt": "a fox", "job_type": "image", "user_id": u});
    let again = app
        .send(Method::POST, &format!("{JOBS}/"), Some(&reordered), &key)
        .await;
    assert_eq!(again.status.as_u16(), 201, "{}", again.text);
    assert_eq!(replayed(&again), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(again.body["queue_position"], json!(1));
    assert_eq!(total(&app, &[]).await, 1);

    // Same key, different body: 422 in the rule-error shape, nothing created.
    let changed = json!({"user_id": u, "job_type": "image", "prompt": "a wolf"});
    let refused = submit(&app, &changed, &key).await;
    assert_eq!(
        refused.detail(422),
        "This Idempotency-Key was already used with a different request; send the same request to get \
         the original response, or use a new key for a new request"
    );
    assert_eq!(total(&app, &[]).await, 1);

    // A new key creates a new job.
    let other = submit(&app, &body, &[("Idempotency-Key", "order-43")])
        .await
        .expect(201);
    assert_ne!(other["id"], first.body["id"]);
    assert_eq!(total(&app, &[]).await, 2);
}

#[actix_web::test]
async fn without_the_header_every_post_creates_and_nothing_is_marked_replayed() {
    let app = TestApp::spawn().await;
    let u = app.user("plain").await;
    let body = json!({"user_id": u, "job_type": "text", "prompt": "a poem"});
    let a = submit(&app, &body, &[]).await;
    let b = submit(&app, &body, &[]).await;
    assert_eq!((replayed(&a), replayed(&b)), (None, None));
    assert_ne!(a.expect(201)["id"], b.expect(201)["id"]);
    assert_eq!(total(&app, &[]).await, 2);
}

#[actix_web::test]
async fn invalid_keys_are_422_at_the_header() {
    let app = TestApp::spawn().await;
    let u = app.user("bad").await;
    let body = json!({"user_id": u, "job_type": "text", "prompt": "x"});
    let long = "k".repeat(256);
    for bad in ["", long.as_str(), "tab\there"] {
        let reply = submit(&app, &body, &[("Idempotency-Key", bad)]).await;
        let problem = reply.expect(422);
        assert_eq!(
            problem["detail"][0]["loc"],
            json!(["header", "Idempotency-Key"]),
            "{bad:?}: {problem}"
        );
    }
    assert_eq!(total(&app, &[]).await, 0);
    // 255 characters are fine.
    submit(&app, &body, &[("Idempotency-Key", &"k".repeat(255))])
        .await
        .expect(201);
}

#[actix_web::test]
async fn concurrent_retries_with_one_key_create_one_job() {
    let app = TestApp::spawn().await;
    let u = app.user("racer").await;
    let body = json!({"user_id": u, "job_type": "image", "prompt": "a race"});
    let key = [("Idempotency-Key", "race-1")];
    let replies = futures_util::future::join_all((0..6).map(|_| submit(&app, &body, &key))).await;
    let fresh = replies.iter().filter(|r| replayed(r).is_none()).count();
    assert_eq!(fresh, 1);
    let bodies: Vec<Value> = replies.into_iter().map(|r| r.expect(201)).collect();
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    assert_eq!(total(&app, &[]).await, 1);
}

#[actix_web::test]
async fn keys_are_per_api_key() {
    let app = TestApp::spawn_with(Box::new(|c| {
        c.auth = true;
        c.key_cache = Duration::ZERO;
    }))
    .await;
    let keys = app.keys();
    let alice = keys
        .create("alice", Scope::Write, None, None)
        .await
        .unwrap()
        .secret;
    let bob = keys.create("bob", Scope::Write, None, None).await.unwrap().secret;
    let admin = keys
        .create("admin", Scope::Admin, None, None)
        .await
        .unwrap()
        .secret;
    let auth = |k: &str| format!("Bearer {k}");
    let (alice, bob, admin) = (auth(&alice), auth(&bob), auth(&admin));
    let u = app
        .send(
            Method::POST,
            "/api/v1/users/",
            Some(&json!({"username": "owner", "email": "owner@example.com"})),
            &[("Authorization", &admin)],
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    let body = json!({"user_id": u, "job_type": "text", "prompt": "shared key"});
    let a = submit(
        &app,
        &body,
        &[("Authorization", &alice), ("Idempotency-Key", "same")],
    )
    .await
    .expect(201);
    let b = submit(
        &app,
        &body,
        &[("Authorization", &bob), ("Idempotency-Key", "same")],
    )
    .await;
    assert_eq!(replayed(&b), None);
    assert_ne!(b.expect(201)["id"], a["id"]);
    let a2 = submit(
        &app,
        &body,
        &[("Authorization", &alice), ("Idempotency-Key", "same")],
    )
    .await;
    assert_eq!(replayed(&a2), Some("true"));
    assert_eq!(a2.expect(201), a);
    assert_eq!(total(&app, &[("Authorization", &admin)]).await, 2);
}
