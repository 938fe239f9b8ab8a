//! Jobs that run for real: workers, live status over WebSocket, cancellation, dispatch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use genonaut_domain::model::{JsonObject, Timestamp};
use genonaut_domain::ports::{
    Artifact, Clock, GenerationControl, GenerationError, GenerationRequest, Generator, Output, RetryPolicy,
    SystemClock,
};
use genonaut_jobs::media::FsMediaStore;
use genonaut_jobs::runner::{Polling, Runner, RunnerConfig, SchemaQueue};
use genonaut_tests::{TestApp, with_workers};
use serde_json::{Value, json};

async fn wait_status(app: &TestApp, job: i64, status: &str) -> Value {
    for _ in 0..600 {
        let j = app
            .get(&format!("/api/v1/generation-jobs/{job}"))
            .await
            .expect(200);
        if j["status"] == json!(status) {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job} never became {status}");
}

#[actix_web::test]
async fn a_socket_sees_snapshot_then_ordered_events_then_a_normal_close() {
    let app = TestApp::spawn_with(with_workers(1)).await;
    let user = app.user("watcher").await;
    let job = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": user, "job_type": "text", "prompt": "a story about tides",
                                                 "parameters": {"paragraphs": 4, "step_delay_ms": 100}}),
        )
        .await
        .expect(201);
    let id = job["id"].as_i64().unwrap();
    let (messages, close) = app.watch(id, "").await;
    assert_eq!(close, Some(1000), "normal close after the final event");
    assert_eq!(messages[0]["type"], json!("snapshot"));
    assert_eq!(messages[0]["job"]["id"], json!(id));
    let last = messages.last().unwrap();
    assert_eq!(last["type"], json!("completed"));
    assert!(last["result_content_id"].is_i64());
    let seqs: Vec<i64> = messages[1..].iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "strictly increasing by one: {seqs:?}"
    );
    assert!(
        messages
            .iter()
            .all(|m| m["job_id"] == json!(id) && m["timestamp"].is_string())
    );
    let progress: Vec<&Value> = messages
        .iter()
        .filter(|m| m["type"] == json!("progress"))
        .collect();
    assert!(!progress.is_empty());
    assert!(
        progress
            .iter()
            .all(|m| m["step"].is_u64() && m["total"] == json!(4) && m["progress"].is_number())
    );

    // Reconnecting with ?since= replays exactly what came after.
    let (replay, close) = app.watch(id, "?since=2").await;
    assert_eq!(close, Some(1000));
    assert_eq!(replay[0]["type"], json!("snapshot"));
    assert_eq!(replay[1]["seq"], json!(3));
    assert_eq!(replay.last().unwrap()["type"], json!("completed"));
    // A finished job without since: the snapshot, then a normal close.
    let (done, close) = app.watch(id, "").await;
    assert_eq!(
        (done.len(), done[0]["job"]["status"].clone(), close),
        (1, json!("completed"), Some(1000))
    );
}

#[actix_web::test]
async fn unknown_jobs_close_with_4404() {
    let app = TestApp::spawn().await;
    let (messages, close) = app.watch(987_654, "").await;
    assert!(messages.is_empty());
    assert_eq!(close, Some(4404));
    let (_, close) = app.watch(1, &format!("?schema={}", app.schema())).await;
    assert_eq!(close, Some(4404));
}

#[actix_web::test]
async fn a_queued_job_reports_its_position_and_cancel_stops_it() {
    let app = TestApp::spawn().await;
    let user = app.user("canceller").await;
    let first = app.job(user, "text").await;
    let second = app.job(user, "image").await;
    let job = app
        .get(&format!("/api/v1/generation-jobs/{second}"))
        .await
        .expect(200);
    assert_eq!(
        (
            job["queue_position"].as_i64(),
            job["attempts"].as_i64(),
            job["progress"].as_f64()
        ),
        (Some(2), Some(0), Some(0.0))
    );
    let cancelled = app
        .post_empty(&format!("/api/v1/generation-jobs/{first}/cancel"))
        .await
        .expect(200);
    assert_eq!(cancelled["status"], json!("cancelled"));
    assert!(cancelled["completed_at"].is_string());
    assert_eq!(
        app.get(&format!("/api/v1/generation-jobs/{second}"))
            .await
            .expect(200)["queue_position"],
        json!(1)
    );
    let again = app
        .post_empty(&format!("/api/v1/generation-jobs/{first}/cancel"))
        .await;
    assert_eq!(
        again.detail(422),
        "Cannot cancel a finished job (status: cancelled)"
    );
    assert_eq!(
        app.post_empty("/api/v1/generation-jobs/999/cancel")
            .await
            .detail(404),
        "GenerationJob with id 999 not found"
    );
    let (messages, close) = app.watch(first, "?since=0").await;
    let kinds: Vec<&str> = messages.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(
        (kinds, close),
        (vec!["snapshot", "queued", "cancelled"], Some(1000))
    );
}

#[actix_web::test]
async fn cancelling_a_running_job_ends_it_cancelled_without_content() {
    let app = TestApp::spawn_with(with_workers(1)).await;
    let user = app.user("stopper").await;
    let job = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": user, "job_type": "text", "prompt": "slow",
                                                 "parameters": {"paragraphs": 20, "step_delay_ms": 200}}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    wait_status(&app, job, "running").await;
    let running = app
        .get(&format!("/api/v1/generation-jobs/{job}"))
        .await
        .expect(200);
    assert!(
        running["worker_id"].as_str().is_some_and(|w| !w.is_empty()),
        "a running job names its worker: {running}"
    );
    app.post_empty(&format!("/api/v1/generation-jobs/{job}/cancel"))
        .await
        .expect(200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after = app
        .get(&format!("/api/v1/generation-jobs/{job}"))
        .await
        .expect(200);
    assert_eq!(
        (
            after["status"].clone(),
            after["result_content_id"].clone(),
            after["worker_id"].clone()
        ),
        (json!("cancelled"), Value::Null, Value::Null)
    );
    assert_eq!(
        app.get("/api/v1/content").await.expect(200)["total"],
        json!(0),
        "no content from a cancelled job"
    );
    let events = app.watch(job, "?since=0").await.0;
    let progress_after_cancel = events
        .iter()
        .skip_while(|m| m["type"] != json!("cancelled"))
        .skip(1)
        .count();
    assert_eq!(progress_after_cancel, 0, "nothing after the cancellation");
}

#[actix_web::test]
async fn queue_process_hands_jobs_to_this_process_and_queue_stats_reflect_it() {
    let app = TestApp::spawn_with(with_workers(0)).await;
    let user = app.user("processor").await;
    let jobs = [
        app.job(user, "text").await,
        app.job(user, "audio").await,
        app.job(user, "text").await,
    ];
    assert_eq!(
        app.get("/api/v1/generation-jobs/queue/stats").await.expect(200),
        json!({"pending_jobs": 3, "running_jobs": 0})
    );
    let processed = app
        .post_empty("/api/v1/generation-jobs/queue/process?max_jobs=2")
        .await
        .expect(200);
    assert_eq!(processed["total"], json!(2));
    assert!(
        processed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["status"] == json!("running") && j["attempts"] == json!(1))
    );
    wait_status(&app, jobs[0], "completed").await;
    wait_status(&app, jobs[1], "completed").await;
    assert_eq!(
        app.get("/api/v1/generation-jobs/queue/stats").await.expect(200),
        json!({"pending_jobs": 1, "running_jobs": 0})
    );
    let audio = app
        .get(&format!("/api/v1/generation-jobs/{}", jobs[1]))
        .await
        .expect(200);
    let item = app
        .get(&format!("/api/v1/content/{}", audio["result_content_id"]))
        .await
        .expect(200);
    assert_eq!(item["content_type"], json!("audio"));
    let media = app.get(item["content_data"].as_str().unwrap()).await;
    assert_eq!(media.status.as_u16(), 200);
    assert_eq!(media.headers.get("content-type").unwrap(), "audio/wav");
}

/// Counts how often each job ran.
struct Counting(Mutex<HashMap<i64, u32>>);

#[async_trait]
impl Generator for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    async fn generate(
        &self,
        r: &GenerationRequest,
        _: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(r.job_id)
            .or_default() += 1;
        Ok(Artifact {
            content_type: r.job_type.content_type(),
            output: Output::Text("x".into()),
            metadata: JsonObject::new(),
        })
    }
}

#[actix_web::test]
async fn four_workers_run_a_thousand_jobs_each_exactly_once() {
    let app = TestApp::spawn().await;
    let user = app.user("bulk").await;
    let repos = app.db.repositories();
    let now: Timestamp = SystemClock.now();
    for i in 0..1000 {
        let new = genonaut_domain::model::NewJob {
            user_id: user.into(),
            job_type: genonaut_domain::model::JobType::Text,
            prompt: format!("job {i}"),
            parameters: JsonObject::new(),
            priority: i % 3,
            start_deadline_seconds: None,
            timeout_seconds: None,
            webhook: None,
        };
        repos.jobs.insert(new, now).await.unwrap();
    }
    let counting = Arc::new(Counting(Mutex::new(HashMap::new())));
    let tenant = SchemaQueue {
        name: app.schema().to_string(),
        queue: repos.queue.clone(),
        events: None,
        recommender: None,
        interactions: None,
    };
    let runner = Runner::new(
        vec![tenant],
        counting.clone(),
        Arc::new(FsMediaStore::new(std::env::temp_dir())),
        Arc::new(SystemClock),
        Arc::new(|| Arc::new(Polling) as Arc<_>),
        RunnerConfig {
            workers: 4,
            batch: 4,
            poll: Duration::from_millis(20),
            retry: RetryPolicy::default(),
            ..RunnerConfig::default()
        },
    );
    runner.start();
    for _ in 0..600 {
        let stats = app.get("/api/v1/generation-jobs/queue/stats").await.expect(200);
        if stats == json!({"pending_jobs": 0, "running_jobs": 0}) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    runner.shutdown().await;
    let runs = counting.0.lock().unwrap().clone();
    assert_eq!(runs.len(), 1000, "every job ran");
    assert!(runs.values().all(|n| *n == 1), "no job ran twice");
    let stats = app
        .get("/api/v1/generation-jobs/stats/overview")
        .await
        .expect(200);
    assert_eq!(stats["status_breakdown"], json!({"completed": 1000}));
    assert_eq!(
        app.get("/api/v1/content").await.expect(200)["total"],
        json!(1000),
        "one content item per job"
    );
}

#[actix_web::test]
async fn deadlines_are_validated_and_end_jobs_without_a_new_status() {
    let app = TestApp::spawn_with(with_workers(1)).await;
    let user = app.user("deadlines").await;
    let body = |extra: Value| {
        let mut b = json!({"user_id": user, "job_type": "text", "prompt": "a story about tides",
                           "parameters": {"paragraphs": 40, "step_delay_ms": 200}});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    // Bad deadlines: a 422 naming the field, and nothing stored.
    for (field, value) in [
        ("start_deadline_seconds", json!(0)),
        ("start_deadline_seconds", json!(-5)),
        ("timeout_seconds", json!(604_801)),
        ("timeout_seconds", json!("soon")),
    ] {
        let reply = app
            .post("/api/v1/generation-jobs", body(json!({ field: value })))
            .await;
        let problems = reply.problems();
        assert!(
            problems.iter().any(|(_, loc)| loc.ends_with(field)),
            "{field}={value}: {problems:?}"
        );
    }
    let stats = app.get("/api/v1/stats/global").await.expect(200);
    assert_eq!(stats["total_generation_jobs"], json!(0));

    // A slow job with a 1 s limit per attempt: stopped, `failed`, not retried.
    let job = app
        .post(
            "/api/v1/generation-jobs",
            body(json!({"timeout_seconds": 1, "start_deadline_seconds": 600})),
        )
        .await
        .expect(201);
    assert_eq!(job["timeout_seconds"], json!(1));
    assert!(job["start_deadline_at"].as_str().unwrap() > job["created_at"].as_str().unwrap());
    let failed = wait_status(&app, job["id"].as_i64().unwrap(), "failed").await;
    assert_eq!(failed["attempts"], json!(1));
    assert!(
        failed["error_message"]
            .as_str()
            .unwrap()
            .contains("timeout_seconds"),
        "{failed}"
    );
    // Without deadlines the fields are null (existing clients see only additions).
    let plain = app
        .post("/api/v1/generation-jobs", body(json!({})))
        .await
        .expect(201);
    assert_eq!(
        (
            plain["timeout_seconds"].clone(),
            plain["start_deadline_at"].clone()
        ),
        (Value::Null, Value::Null)
    );
}

#[actix_web::test]
async fn a_job_not_started_by_its_deadline_ends_cancelled_and_never_runs() {
    // One worker, busy with a long job, so the second job's 1 s start deadline passes.
    let app = TestApp::spawn_with(with_workers(1)).await;
    let user = app.user("late").await;
    let busy = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": user, "job_type": "text", "prompt": "a long story",
                   "parameters": {"paragraphs": 20, "step_delay_ms": 200}}),
        )
        .await
        .expect(201);
    wait_status(&app, busy["id"].as_i64().unwrap(), "running").await;
    let late = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": user, "job_type": "text", "prompt": "too late",
                   "start_deadline_seconds": 1}),
        )
        .await
        .expect(201);
    let id = late["id"].as_i64().unwrap();
    let cancelled = wait_status(&app, id, "cancelled").await;
    assert_eq!(cancelled["attempts"], json!(0));
    assert_eq!(cancelled["started_at"], Value::Null);
    assert!(
        cancelled["error_message"]
            .as_str()
            .unwrap()
            .contains("start deadline passed"),
        "{cancelled}"
    );
    // The socket tells the same story: snapshot of the cancelled job, stream closed.
    let (messages, close) = app.watch(id, "").await;
    assert_eq!(close, Some(1000));
    assert_eq!(messages[0]["job"]["status"], json!("cancelled"));
}
