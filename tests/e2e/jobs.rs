use genonaut_tests::TestApp;
use serde_json::{Value, json};

#[actix_web::test]
async fn create_jobs_with_canonical_types() {
    let app = TestApp::spawn().await;
    let u = app.user("jobber").await;
    let job = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": u, "job_type": "text_generation", "prompt": "  a poem  "}),
        )
        .await
        .expect(201);
    assert_eq!(
        (
            job["status"].as_str(),
            job["job_type"].as_str(),
            job["prompt"].as_str()
        ),
        (Some("pending"), Some("text_generation"), Some("a poem"))
    );
    assert_eq!(
        (job["result_content_id"].clone(), job["started_at"].clone()),
        (Value::Null, Value::Null)
    );
    for (alias, canonical) in [
        ("IMAGE", "image_generation"),
        ("Video", "video_generation"),
        ("Audio_Generation", "audio_generation"),
    ] {
        let j = app
            .post(
                "/api/v1/generation-jobs",
                json!({"user_id": u, "job_type": alias, "prompt": "x"}),
            )
            .await
            .expect(201);
        assert_eq!(j["job_type"], json!(canonical));
    }
    let bad = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": u, "job_type": "hologram", "prompt": "x"}),
        )
        .await
        .expect(422);
    assert_eq!(
        bad["detail"][0]["msg"],
        json!("Value error, Unsupported job type: hologram")
    );
    let not_string = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": u, "job_type": 5, "prompt": "x"}),
        )
        .await
        .expect(422);
    assert_eq!(not_string["detail"][0]["type"], json!("enum"));
    app.post(
        "/api/v1/generation-jobs",
        json!({"user_id": u, "job_type": "text", "prompt": "x", "parameters": [1]}),
    )
    .await
    .expect(422);
    let body = |user: i64, prompt: &str| json!({"user_id": user, "job_type": "text", "prompt": prompt});
    assert_eq!(
        app.post("/api/v1/generation-jobs", body(999, "x"))
            .await
            .detail(404),
        "User with id 999 not found"
    );
    assert_eq!(
        app.post("/api/v1/generation-jobs", body(u, "   "))
            .await
            .detail(422),
        "Prompt cannot be empty"
    );
    app.post_empty(&format!("/api/v1/users/{u}/deactivate"))
        .await
        .expect(200);
    assert_eq!(
        app.post("/api/v1/generation-jobs", body(u, "x"))
            .await
            .detail(422),
        "Cannot create generation jobs for inactive users"
    );
}

#[actix_web::test]
async fn lifecycle_through_the_status_routes() {
    let app = TestApp::spawn().await;
    let u = app.user("lifecycle").await;
    let id = app.job(u, "image").await;
    let path = format!("/api/v1/generation-jobs/{id}");
    assert_eq!(app.get(&path).await.expect(200)["id"], json!(id));
    assert_eq!(
        app.get("/api/v1/generation-jobs/999").await.detail(404),
        "GenerationJob with id 999 not found"
    );

    let params = app
        .put(&path, json!({"parameters": {"width": 512}, "prompt": "ignored"}))
        .await
        .expect(200);
    assert_eq!(
        (params["parameters"].clone(), params["prompt"].as_str()),
        (json!({"width": 512}), Some("a quiet lake"))
    );
    app.put("/api/v1/generation-jobs/999", json!({"parameters": {}}))
        .await
        .expect(404);
    assert_eq!(
        app.delete(&path).await.detail(422),
        "Cannot delete pending or running jobs"
    );

    let running = app
        .put(&format!("{path}/status"), json!({"status": "running"}))
        .await
        .expect(200);
    assert_eq!(running["status"], json!("running"));
    assert!(running["started_at"].is_string() && running["updated_at"].is_string());
    let queue = app.get("/api/v1/generation-jobs/queue/stats").await.expect(200);
    assert!(queue["running_jobs"].as_i64().unwrap() >= 1);
    assert_eq!(
        app.put(&path, json!({"parameters": {}})).await.detail(422),
        "Can only update pending jobs"
    );
    assert_eq!(
        app.put(&format!("{path}/status"), json!({"status": "failed"}))
            .await
            .detail(422),
        "Error message is required for failed jobs"
    );
    let invalid = app
        .put(&format!("{path}/status"), json!({"status": "PENDING"}))
        .await
        .expect(422);
    assert_eq!(invalid["detail"][0]["type"], json!("string_pattern_mismatch"));
    app.put("/api/v1/generation-jobs/999/status", json!({"status": "running"}))
        .await
        .expect(404);

    let c = app.content(u, "Result", "image", &[]).await;
    let with_result = app
        .put(&format!("{path}/result"), json!({"content_id": c}))
        .await
        .expect(200);
    assert_eq!(
        (
            with_result["result_content_id"].as_i64(),
            with_result["status"].as_str()
        ),
        (Some(c), Some("running"))
    );
    assert_eq!(
        app.put(&format!("{path}/result"), json!({"content_id": 999}))
            .await
            .detail(404),
        "ContentItem with id 999 not found"
    );
    assert_eq!(
        app.put("/api/v1/generation-jobs/999/result", json!({"content_id": c}))
            .await
            .detail(404),
        "GenerationJob with id 999 not found"
    );

    let done = app
        .put(&format!("{path}/status"), json!({"status": "completed"}))
        .await
        .expect(200);
    assert!(done["completed_at"].is_string());
    let reopened = app
        .put(&format!("{path}/status"), json!({"status": "pending"}))
        .await
        .expect(200);
    assert_eq!(
        (reopened["completed_at"].clone(), reopened["started_at"].clone()),
        (Value::Null, running["started_at"].clone())
    );
    let failed = app
        .put(
            &format!("{path}/status"),
            json!({"status": "failed", "error_message": "boom"}),
        )
        .await
        .expect(200);
    assert_eq!(failed["error_message"], json!("boom"));
    assert_eq!(
        app.delete(&path).await.expect(200)["message"],
        json!(format!("Generation job {id} deleted successfully"))
    );
    app.delete(&path).await.expect(404);
}

#[actix_web::test]
async fn listings_queue_and_stats() {
    let app = TestApp::spawn().await;
    let u = app.user("lister").await;
    let v = app.user("second").await;
    let first = app.job(u, "text").await;
    let second = app.job(u, "image").await;
    let third = app.job(v, "image").await;

    let all = app.get("/api/v1/generation-jobs?limit=2").await.expect(200);
    assert_eq!(
        (all["total"].as_i64(), all["items"].as_array().unwrap().len()),
        (Some(3), 2)
    );
    let anded = app
        .get(&format!(
            "/api/v1/generation-jobs?user_id={u}&job_type=image&status=pending&days=1"
        ))
        .await
        .expect(200);
    assert_eq!(
        (anded["total"].as_i64(), anded["items"][0]["id"].as_i64()),
        (Some(1), Some(second))
    );
    app.get("/api/v1/generation-jobs?status=pending&limit=10")
        .await
        .expect(200);
    app.get("/api/v1/generation-jobs?status=PENDING")
        .await
        .expect(422);
    app.get("/api/v1/generation-jobs?job_type=hologram")
        .await
        .expect(422);
    app.get("/api/v1/generation-jobs?user_id=999").await.expect(404);

    assert_eq!(
        app.get(&format!("/api/v1/generation-jobs/user/{u}/jobs"))
            .await
            .expect(200)["total"],
        json!(2)
    );
    assert_eq!(
        app.get(&format!("/api/v1/generation-jobs/user/{u}/jobs?status=nope"))
            .await
            .expect(200)["total"],
        json!(0)
    );
    assert_eq!(
        app.get("/api/v1/generation-jobs/user/999/jobs").await.detail(404),
        "User with id 999 not found"
    );
    assert_eq!(
        app.get("/api/v1/generation-jobs/status/pending/jobs")
            .await
            .expect(200)["total"],
        json!(3)
    );
    assert_eq!(
        app.get("/api/v1/generation-jobs/status/nope/jobs")
            .await
            .expect(200)["total"],
        json!(0)
    );
    assert_eq!(
        app.get("/api/v1/generation-jobs/type/image/jobs")
            .await
            .expect(200)["total"],
        json!(2),
        "aliases accepted"
    );
    assert_eq!(
        app.get("/api/v1/generation-jobs/type/nope/jobs")
            .await
            .expect(200)["total"],
        json!(0)
    );

    let pending = app.get("/api/v1/generation-jobs/pending/all").await.expect(200);
    assert_eq!(
        (pending["items"][0]["id"].as_i64(), pending["limit"].as_i64()),
        (Some(first), Some(50)),
        "FIFO"
    );
    let empty_running = app.get("/api/v1/generation-jobs/running/all").await.expect(200);
    assert_eq!(
        empty_running,
        json!({"items": [], "total": 0, "skip": 0, "limit": 0})
    );

    let processed = app
        .post_empty("/api/v1/generation-jobs/queue/process?max_jobs=2")
        .await
        .expect(200);
    let started: Vec<i64> = processed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    // Fair scheduling: the second user's job takes its turn before the first user's second.
    assert_eq!(started, [first, third]);
    assert!(
        processed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["status"] == json!("running"))
    );
    app.post_empty("/api/v1/generation-jobs/queue/process?max_jobs=101")
        .await
        .expect(422);
    // queue/process handed both to this process's runner, which runs them to completion.
    for _ in 0..200 {
        let stats = app.get("/api/v1/generation-jobs/queue/stats").await.expect(200);
        if stats == json!({"pending_jobs": 1, "running_jobs": 0}) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        app.get("/api/v1/generation-jobs/queue/stats").await.expect(200),
        json!({"pending_jobs": 1, "running_jobs": 0})
    );
    assert_eq!(
        app.get("/api/v1/generation-jobs/running/all").await.expect(200)["total"],
        json!(0)
    );

    app.put(
        &format!("/api/v1/generation-jobs/{first}/status"),
        json!({"status": "completed"}),
    )
    .await
    .expect(200);
    app.put(
        &format!("/api/v1/generation-jobs/{third}/status"),
        json!({"status": "failed", "error_message": "x"}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get("/api/v1/generation-jobs/completed/all").await.expect(200)["total"],
        json!(1)
    );
    assert_eq!(
        app.get(&format!("/api/v1/generation-jobs/completed/all?user_id={v}"))
            .await
            .expect(200)["total"],
        json!(0)
    );
    app.get("/api/v1/generation-jobs/completed/all?user_id=999")
        .await
        .expect(404);
    assert_eq!(
        app.get("/api/v1/generation-jobs/failed/all?user_id=0")
            .await
            .expect(200)["total"],
        json!(1)
    );
    app.get("/api/v1/generation-jobs/failed/all?days=0")
        .await
        .expect(422);

    let stats = app
        .get("/api/v1/generation-jobs/stats/overview")
        .await
        .expect(200);
    assert_eq!(stats["user_id"], Value::Null);
    assert_eq!(stats["total_jobs"], json!(3));
    assert_eq!(
        stats["status_breakdown"],
        json!({"pending": 1, "completed": 1, "failed": 1})
    );
    assert_eq!(
        stats["type_breakdown"],
        json!({"text_generation": 1, "image_generation": 2})
    );
    assert!(stats["average_processing_time_seconds"].as_f64().unwrap() >= 0.0);
    let mine = app
        .get(&format!("/api/v1/generation-jobs/user/{u}/stats"))
        .await
        .expect(200);
    assert_eq!(
        (mine["user_id"].as_i64(), mine["total_jobs"].as_i64()),
        (Some(u), Some(2))
    );
    assert_eq!(
        app.get(&format!("/api/v1/generation-jobs/stats/overview?user_id={v}"))
            .await
            .expect(200)["total_jobs"],
        json!(1)
    );
    app.get("/api/v1/generation-jobs/user/999/stats")
        .await
        .expect(404);
    app.get("/api/v1/generation-jobs/stats/overview?user_id=999")
        .await
        .expect(404);
}
