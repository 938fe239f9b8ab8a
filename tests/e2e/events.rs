//! Live status as server-sent events: the socket's messages over plain HTTP.

use genonaut_tests::{TestApp, with_workers};
use serde_json::{Value, json};

/// Parses a finished `text/event-stream` body into `(id, data)` pairs (comments skipped).
fn events(body: &str) -> Vec<(i64, Value)> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty() && !block.starts_with(':'))
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_else(|| panic!("{name} in {block:?}"))
            };
            let id: i64 = field("id: ")
                .parse()
                .unwrap_or_else(|e| panic!("numeric id: {e}"));
            let data = serde_json::from_str(field("data: ")).unwrap_or_else(|e| panic!("JSON data: {e}"));
            (id, data)
        })
        .collect()
}

#[actix_web::test]
async fn the_stream_carries_the_sockets_messages_with_seq_ids_and_resumes_from_last_event_id() {
    let app = TestApp::spawn_with(with_workers(1)).await;
    let user = app.user("listener").await;
    let job = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": user, "job_type": "text", "prompt": "a story about tides",
                   "parameters": {"paragraphs": 3, "step_delay_ms": 50}}),
        )
        .await
        .expect(201);
    let id = job["id"].as_i64().unwrap();
    let path = format!("/api/v1/generation-jobs/{id}/events");

    // The response ends by itself after the final event, so reading the whole body returns.
    let reply = app.get(&path).await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.headers.get("content-type").unwrap(), "text/event-stream");
    assert_eq!(reply.headers.get("cache-control").unwrap(), "no-cache");
    let all = events(&reply.text);
    assert_eq!(all[0].1["type"], json!("snapshot"));
    assert_eq!(all[0].1["job"]["id"], json!(id));
    let (last_id, last) = all.last().unwrap();
    assert_eq!(last["type"], json!("completed"));
    assert!(last["result_content_id"].is_i64());
    for (event_id, data) in &all[1..] {
        assert_eq!(data["seq"], json!(event_id), "id: is the seq");
        assert_eq!(data["job_id"], json!(id));
    }
    let seqs: Vec<i64> = all[1..].iter().map(|(i, _)| *i).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");

    // Reconnecting with Last-Event-ID replays exactly what came after.
    let resumed = app
        .send(
            actix_web::http::Method::GET,
            &path,
            None,
            &[("Last-Event-ID", "2")],
        )
        .await;
    let replay = events(&resumed.text);
    assert_eq!(replay[0].1["type"], json!("snapshot"));
    assert_eq!(replay[1].0, 3);
    assert_eq!(replay.last().unwrap().0, *last_id);

    // A finished job without Last-Event-ID: the snapshot alone, then the end.
    let done = events(&app.get(&path).await.text);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1["job"]["status"], json!("completed"));
}

#[actix_web::test]
async fn unknown_jobs_and_bad_last_event_ids_are_answered_before_any_stream() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get("/api/v1/generation-jobs/987654/events").await.detail(404),
        "GenerationJob with id 987654 not found"
    );
    let user = app.user("early").await;
    let job = app.job(user, "text").await;
    let reply = app
        .send(
            actix_web::http::Method::GET,
            &format!("/api/v1/generation-jobs/{job}/events"),
            None,
            &[("Last-Event-ID", "yesterday")],
        )
        .await;
    assert_eq!(reply.status.as_u16(), 422);
    assert_eq!(reply.body["detail"][0]["loc"], json!(["header", "Last-Event-ID"]));
}
