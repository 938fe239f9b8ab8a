//! The client workflows of contract §5, end to end.

use genonaut_tests::TestApp;
use serde_json::json;

#[actix_web::test]
async fn user_content_interactions_recommendations_serve_feedback() {
    let app = TestApp::spawn().await;
    let user = app
        .post(
            "/api/v1/users",
            json!({"username": "workflow", "email": "workflow@example.com"}),
        )
        .await
        .expect(201);
    let uid = user["id"].as_i64().unwrap();
    let creator = app.user("workflow_creator").await;
    let mut items = Vec::new();
    for (title, kind) in [
        ("Dawn", "image"),
        ("Dusk", "image"),
        ("Tide", "audio"),
        ("Saga", "text"),
    ] {
        items.push(app.content(creator, title, kind, &["calm"]).await);
    }
    app.interact(uid, items[0], "like", Some(5)).await;
    app.interact(uid, items[0], "view", None).await;
    let stats = app.get(&format!("/api/v1/users/{uid}/stats")).await.expect(200);
    assert_eq!(stats["total_interactions"], json!(2));

    let generated = app
        .post(
            "/api/v1/recommendations/generate",
            json!({"user_id": uid, "algorithm_version": "workflow_test_v1.0", "limit": 5}),
        )
        .await
        .expect(200);
    let recs: Vec<i64> = generated["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(recs.len(), 3, "every unseen item");
    let unserved = app
        .get(&format!("/api/v1/users/{uid}/recommendations/unserved"))
        .await
        .expect(200);
    assert_eq!(unserved["total"], json!(3));
    app.post(
        "/api/v1/recommendations/served",
        json!({"recommendation_ids": recs}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.get(&format!("/api/v1/users/{uid}/recommendations/unserved"))
            .await
            .expect(200)["total"],
        json!(0)
    );

    let clicked = app
        .put(
            &format!("/api/v1/recommendations/{}/feedback", recs[0]),
            json!({"feedback": "clicked"}),
        )
        .await
        .expect(200);
    assert_eq!(clicked["rec_metadata"]["feedback"]["type"], json!("clicked"));
    let behavior = app
        .get(&format!("/api/v1/interactions/analytics/user-behavior/{uid}"))
        .await
        .expect(200);
    assert_eq!(
        behavior["total_interactions"],
        json!(3),
        "positive feedback recorded an interaction"
    );
    let analytics = app
        .get(&format!("/api/v1/recommendations/analytics/user/{uid}"))
        .await
        .expect(200);
    assert_eq!(
        (
            analytics["total_recommendations"].as_i64(),
            analytics["served_recommendations"].as_i64()
        ),
        (Some(3), Some(3))
    );
}

#[actix_web::test]
async fn job_lifecycle_as_clients_drive_it() {
    let app = TestApp::spawn().await;
    let uid = app.user("maker").await;
    let job = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": uid, "job_type": "text_generation", "prompt": "haiku"}),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/generation-jobs/{}", job["id"]);
    assert_eq!(
        app.get("/api/v1/generation-jobs?status=pending&limit=10")
            .await
            .expect(200)["total"],
        json!(1)
    );
    app.put(&format!("{path}/status"), json!({"status": "running"}))
        .await
        .expect(200);
    assert!(
        app.get("/api/v1/generation-jobs/queue/stats").await.expect(200)["running_jobs"]
            .as_i64()
            .unwrap()
            >= 1
    );
    let content = app.content(uid, "Haiku", "text", &[]).await;
    app.put(&format!("{path}/result"), json!({"content_id": content}))
        .await
        .expect(200);
    let done = app
        .put(&format!("{path}/status"), json!({"status": "completed"}))
        .await
        .expect(200);
    assert_eq!(
        (done["status"].as_str(), done["result_content_id"].as_i64()),
        (Some("completed"), Some(content))
    );
    let mine = app
        .get(&format!("/api/v1/users/{uid}/generation-jobs"))
        .await
        .expect(200);
    assert_eq!(mine["items"][0]["status"], json!("completed"));
}
