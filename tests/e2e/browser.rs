//! Browser access with keys on: signed media URLs and live-status tickets.

use std::time::Duration;

use actix_web::http::Method;
use genonaut_domain::model::Scope;
use genonaut_domain::services::KeyService;
use genonaut_http::media::MediaSigner;
use genonaut_tests::TestApp;
use serde_json::json;

async fn secured(workers: usize) -> (TestApp, KeyService) {
    let app = TestApp::spawn_with(Box::new(move |c| {
        c.auth = true;
        c.key_cache = Duration::ZERO;
        c.jobs.workers = workers;
        c.jobs.step_delay = Duration::from_millis(5);
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

fn auth(key: &str) -> [(&'static str, String); 1] {
    [("Authorization", format!("Bearer {key}"))]
}

async fn as_key(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> genonaut_tests::Reply {
    let headers = auth(key);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.send(method, path, body.as_ref(), &headers).await
}

#[actix_web::test]
async fn signed_media_urls_open_media_without_a_key_and_expire() {
    let (app, keys) = secured(0).await;
    let write = key(&keys, Scope::Write).await;
    let media_dir = std::env::temp_dir().join("genonaut-tests-media");
    std::fs::create_dir_all(&media_dir).unwrap();
    let name = format!("signed-{}.png", app.schema());
    std::fs::write(media_dir.join(&name), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let path = format!("/media/{name}");

    let user = as_key(
        &app,
        &write,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "pic", "email": "pic@example.com"})),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap();
    let item = as_key(
        &app,
        &write,
        Method::POST,
        "/api/v1/content",
        Some(json!({"title": "a picture",
        "content_type": "image", "content_data": path, "creator_id": user})),
    )
    .await
    .expect(201);
    let url = item["media_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{path}?expires=")), "{url}");
    assert!(url.contains("&sig="), "{url}");
    let text = as_key(
        &app,
        &write,
        Method::POST,
        "/api/v1/content",
        Some(json!({"title": "a story",
        "content_type": "text", "content_data": "Once upon a time", "creator_id": user})),
    )
    .await
    .expect(201);
    assert_eq!(text["media_url"], json!(null));
    // Every representation carries it: the item, listings.
    let got = as_key(
        &app,
        &write,
        Method::GET,
        &format!("/api/v1/content/{}", item["id"]),
        None,
    )
    .await
    .expect(200);
    assert!(got["media_url"].as_str().unwrap().starts_with(&path));
    let listed = as_key(
        &app,
        &write,
        Method::GET,
        "/api/v1/content/?content_type=image",
        None,
    )
    .await
    .expect(200);
    assert!(
        listed["items"][0]["media_url"]
            .as_str()
            .unwrap()
            .starts_with(&path)
    );

    // The signed URL works without a key; the plain path does not.
    let served = app.get(&url).await;
    assert_eq!(served.status.as_u16(), 200, "{}", served.text);
    assert_eq!(served.headers.get("content-type").unwrap(), "image/png");
    assert_eq!(app.get(&path).await.detail(401), "Not authenticated");
    // Altered, moved to another file, or expired: 403 in the contract's shape.
    let tampered = format!("{}0", &url[..url.len() - 1]);
    let tampered = if tampered == url {
        format!("{}1", &url[..url.len() - 1])
    } else {
        tampered
    };
    assert_eq!(
        app.get(&tampered).await.detail(403),
        "Invalid media URL signature"
    );
    let other = url.replace(&name, "other.png");
    assert_eq!(app.get(&other).await.detail(403), "Invalid media URL signature");
    let signer = MediaSigner::new(b"test media key", Duration::from_secs(60));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = signer.sign_at(&path, now - 600);
    let detail = app.get(&expired).await.detail(403);
    assert!(detail.contains("expired"), "{detail}");
    let fresh = signer.sign_at(&path, now);
    assert_eq!(app.get(&fresh).await.status.as_u16(), 200);
    let _ = std::fs::remove_file(media_dir.join(&name));
}

#[actix_web::test]
async fn a_ticket_opens_one_jobs_socket_and_event_stream_once() {
    let (app, keys) = secured(1).await;
    let write = key(&keys, Scope::Write).await;
    let read = key(&keys, Scope::Read).await;
    let user = as_key(
        &app,
        &write,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "fan", "email": "fan@example.com"})),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap();
    let job = as_key(
        &app,
        &write,
        Method::POST,
        "/api/v1/generation-jobs",
        Some(json!({"user_id": user,
        "job_type": "text", "prompt": "a short tale", "parameters": {"paragraphs": 3, "step_delay_ms": 50}})),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap();
    let other_job = as_key(
        &app,
        &write,
        Method::POST,
        "/api/v1/generation-jobs",
        Some(json!({"user_id": user,
        "job_type": "text", "prompt": "another tale"})),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap();

    // Asking for a ticket needs a key (read scope is enough), an existing job, a valid body.
    assert_eq!(
        app.post("/api/v1/ws-tickets", json!({"job_id": job}))
            .await
            .status
            .as_u16(),
        401
    );
    as_key(
        &app,
        &read,
        Method::POST,
        "/api/v1/ws-tickets",
        Some(json!({"job_id": 987_654})),
    )
    .await
    .expect(404);
    as_key(
        &app,
        &read,
        Method::POST,
        "/api/v1/ws-tickets",
        Some(json!({"job_id": "x"})),
    )
    .await
    .expect(422);
    let ticket = || async {
        let body = as_key(
            &app,
            &read,
            Method::POST,
            "/api/v1/ws-tickets",
            Some(json!({"job_id": job})),
        )
        .await
        .expect(201);
        assert!(body["expires_at"].is_string());
        body["ticket"].as_str().unwrap().to_owned()
    };

    // The socket without key or ticket: 401. With a ticket: the job to completion.
    assert_eq!(
        app.get(&format!("/ws/generation/{job}")).await.status.as_u16(),
        401
    );
    let first = ticket().await;
    let (messages, close) = app.watch(job, &format!("?ticket={first}")).await;
    assert_eq!(close, Some(1000));
    assert_eq!(messages.last().unwrap()["type"], json!("completed"));
    // Single use.
    let again = app.get(&format!("/ws/generation/{job}?ticket={first}")).await;
    assert_eq!(again.detail(401), "Invalid, expired or already used ticket");
    // Scoped to its job (and used up by the attempt).
    let second = ticket().await;
    let elsewhere = app
        .get(&format!("/ws/generation/{other_job}?ticket={second}"))
        .await;
    assert_eq!(elsewhere.detail(403), "This ticket is for another job");
    assert_eq!(
        app.get(&format!("/ws/generation/{job}?ticket={second}"))
            .await
            .status
            .as_u16(),
        401
    );
    assert_eq!(
        app.get(&format!("/ws/generation/{job}?ticket=gwt_forged"))
            .await
            .status
            .as_u16(),
        401
    );

    // The server-sent events of the job accept a ticket too.
    let third = ticket().await;
    let stream = app
        .get(&format!("/api/v1/generation-jobs/{job}/events?ticket={third}"))
        .await;
    assert_eq!(stream.status.as_u16(), 200, "{}", stream.text);
    assert!(
        stream.text.contains("\"completed\"") || stream.text.contains("completed"),
        "{}",
        stream.text
    );
    assert_eq!(
        app.get(&format!("/api/v1/generation-jobs/{job}/events"))
            .await
            .status
            .as_u16(),
        401
    );
    // A ticket is not a key for anything else.
    let fourth = ticket().await;
    assert_eq!(
        app.get(&format!("/api/v1/generation-jobs/{job}?ticket={fourth}"))
            .await
            .status
            .as_u16(),
        401
    );
}

#[actix_web::test]
async fn a_gallery_of_signed_urls_is_not_held_to_the_per_ip_limit() {
    let one = std::num::NonZeroU32::MIN;
    let app = TestApp::spawn_with(Box::new(move |c| {
        c.auth = true;
        c.key_cache = Duration::ZERO;
        c.per_ip = Some(genonaut_http::Rate {
            per_second: one,
            burst: one,
        });
    }))
    .await;
    let keys = app.keys();
    let write = key(&keys, Scope::Write).await;
    let media_dir = std::env::temp_dir().join("genonaut-tests-media");
    std::fs::create_dir_all(&media_dir).unwrap();
    let name = format!("gallery-{}.png", app.schema());
    std::fs::write(media_dir.join(&name), b"\x89PNG\r\n\x1a\nthumbnail").unwrap();
    let user = as_key(
        &app,
        &write,
        Method::POST,
        "/api/v1/users",
        Some(json!({"username": "gal", "email": "gal@example.com"})),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap();
    let item = as_key(
        &app,
        &write,
        Method::POST,
        "/api/v1/content",
        Some(json!({"title": "thumb",
        "content_type": "image", "content_data": format!("/media/{name}"), "creator_id": user})),
    )
    .await
    .expect(201);
    let url = item["media_url"].as_str().unwrap().to_owned();
    for _ in 0..6 {
        assert_eq!(app.get(&url).await.status.as_u16(), 200);
    }
    // Requests without a key or signature are still limited per IP.
    let statuses: Vec<u16> = futures_util::future::join_all((0..4).map(|_| app.get("/api/v1/health")))
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    let _ = std::fs::remove_file(media_dir.join(&name));
}
