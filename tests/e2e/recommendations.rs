use genonaut_tests::TestApp;
use serde_json::{Value, json};

#[actix_web::test]
async fn create_get_update_delete() {
    let app = TestApp::spawn().await;
    let u = app.user("recu").await;
    let c = app.content(u, "Rec", "text", &[]).await;
    let body = |user: i64, content: i64, label: &str| json!({"user_id": user, "content_item_id": content, "recommendation_score": 0.85, "algorithm_version": label, "metadata": {"why": "tags"}});
    let r = app
        .post("/api/v1/recommendations", body(u, c, " test_v1.0 "))
        .await
        .expect(201);
    assert_eq!(
        (
            r["recommendation_score"].as_f64(),
            r["algorithm_version"].as_str()
        ),
        (Some(0.85), Some("test_v1.0"))
    );
    assert_eq!(
        (r["is_served"].as_bool(), r["rec_metadata"].clone()),
        (Some(false), json!({"why": "tags"}))
    );
    let id = r["id"].as_i64().unwrap();
    assert_eq!(
        app.post("/api/v1/recommendations", body(999, c, "v"))
            .await
            .detail(404),
        "User with id 999 not found"
    );
    assert_eq!(
        app.post("/api/v1/recommendations", body(u, 999, "v"))
            .await
            .detail(404),
        "ContentItem with id 999 not found"
    );
    assert_eq!(
        app.post("/api/v1/recommendations", body(u, c, "   "))
            .await
            .detail(422),
        "Algorithm version cannot be empty"
    );
    let problems = app
        .post(
            "/api/v1/recommendations",
            json!({"user_id": u, "content_item_id": c, "recommendation_score": 1.5, "algorithm_version": ""}),
        )
        .await
        .problems();
    assert_eq!(
        problems,
        [
            ("less_than_equal".into(), "body.recommendation_score".into()),
            ("string_too_short".into(), "body.algorithm_version".into())
        ]
    );

    let path = format!("/api/v1/recommendations/{id}");
    assert_eq!(app.get(&path).await.expect(200)["id"], json!(id));
    assert_eq!(
        app.get("/api/v1/recommendations/999").await.detail(404),
        "Recommendation with id 999 not found"
    );
    let updated = app
        .put(
            &path,
            json!({"recommendation_score": 0.3, "metadata": {"v": 2}, "is_served": true}),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            updated["recommendation_score"].as_f64(),
            updated["is_served"].as_bool()
        ),
        (Some(0.3), Some(false))
    );
    app.put(
        "/api/v1/recommendations/999",
        json!({"recommendation_score": 0.1}),
    )
    .await
    .expect(404);
    app.put(&path, json!({"recommendation_score": -0.1}))
        .await
        .expect(422);

    app.post_empty(&format!("/api/v1/users/{u}/deactivate"))
        .await
        .expect(200);
    assert_eq!(
        app.post("/api/v1/recommendations", body(u, c, "v"))
            .await
            .detail(422),
        "Cannot create recommendations for inactive users"
    );
    assert_eq!(
        app.delete(&path).await.expect(200)["message"],
        json!(format!("Recommendation {id} deleted successfully"))
    );
    app.delete(&path).await.expect(404);
}

#[actix_web::test]
async fn bulk_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let u = app.user("bulk").await;
    let c = app.content(u, "B", "text", &[]).await;
    let item = |user: i64, content: i64| json!({"user_id": user, "content_item_id": content, "recommendation_score": 0.5, "algorithm_version": "bulk_v1"});
    let bad = app
        .post(
            "/api/v1/recommendations/bulk",
            json!({"recommendations": [item(u, c), item(u, 999)]}),
        )
        .await;
    assert_eq!(
        bad.detail(422),
        "Validation failed for recommendation 1: Content 999 not found"
    );
    assert_eq!(
        app.get("/api/v1/recommendations/stats/overview")
            .await
            .expect(200)["total_recommendations"],
        json!(0)
    );
    let ok = app
        .post(
            "/api/v1/recommendations/bulk",
            json!({"recommendations": [item(u, c), item(u, c)]}),
        )
        .await
        .expect(201);
    assert_eq!(
        (ok["total"].as_i64(), ok["limit"].as_i64(), ok["skip"].as_i64()),
        (Some(2), Some(2), Some(0))
    );
    let empty = app
        .post("/api/v1/recommendations/bulk", json!({"recommendations": []}))
        .await
        .expect(422);
    assert_eq!(empty["detail"][0]["type"], json!("too_short"));
    let nested = app
        .post(
            "/api/v1/recommendations/bulk",
            json!({"recommendations": [item(u, c), {"user_id": u}]}),
        )
        .await
        .problems();
    assert!(
        nested.contains(&("missing".into(), "body.recommendations.1.content_item_id".into())),
        "{nested:?}"
    );
    let too_many: Vec<Value> = (0..1001).map(|_| item(u, c)).collect();
    app.post(
        "/api/v1/recommendations/bulk",
        json!({"recommendations": too_many}),
    )
    .await
    .expect(422);
}

#[actix_web::test]
async fn listings_served_stats_and_feedback() {
    let app = TestApp::spawn().await;
    let u = app.user("reader").await;
    let c1 = app.content(u, "A", "text", &[]).await;
    let c2 = app.content(u, "B", "image", &[]).await;
    let low = app.recommend(u, c1, 0.2).await;
    let high = app.recommend(u, c2, 0.9).await;

    let list = app
        .get(&format!("/api/v1/recommendations?user_id={u}&min_score=0.5"))
        .await
        .expect(200);
    assert_eq!(
        (list["total"].as_i64(), list["items"][0]["id"].as_i64()),
        (Some(1), Some(high))
    );
    assert_eq!(
        app.get(&format!("/api/v1/recommendations?content_item_id={c1}"))
            .await
            .expect(200)["total"],
        json!(1)
    );
    assert_eq!(
        app.get("/api/v1/recommendations?algorithm_version=v1")
            .await
            .expect(200)["total"],
        json!(2)
    );
    app.get("/api/v1/recommendations?user_id=999").await.expect(404);
    app.get("/api/v1/recommendations?min_score=2").await.expect(422);

    let served = app
        .post(
            "/api/v1/recommendations/served",
            json!({"recommendation_ids": [high, high]}),
        )
        .await
        .expect(200);
    assert_eq!(served, json!({"marked_as_served": 1}));
    let missing = app
        .post(
            "/api/v1/recommendations/served",
            json!({"recommendation_ids": [low, 999]}),
        )
        .await;
    assert_eq!(missing.detail(404), "Recommendation with id 999 not found");
    app.post(
        "/api/v1/recommendations/served",
        json!({"recommendation_ids": []}),
    )
    .await
    .expect(422);

    let user_recs = app
        .get(&format!(
            "/api/v1/recommendations/user/{u}/recommendations?unserved_only=true"
        ))
        .await
        .expect(200);
    assert_eq!(
        (user_recs["total"].as_i64(), user_recs["items"][0]["id"].as_i64()),
        (Some(1), Some(low))
    );
    app.get("/api/v1/recommendations/user/999/recommendations")
        .await
        .expect(404);
    let top = app
        .get(&format!("/api/v1/recommendations/user/{u}/top"))
        .await
        .expect(200);
    assert_eq!(
        (top["total"].as_i64(), top["limit"].as_i64()),
        (Some(1), Some(10))
    );
    app.get("/api/v1/recommendations/user/999/top").await.expect(404);
    let unserved = app
        .get(&format!("/api/v1/recommendations/user/{u}/unserved"))
        .await
        .expect(200);
    assert_eq!(
        (unserved["items"][0]["id"].as_i64(), unserved["limit"].as_i64()),
        (Some(low), Some(20))
    );
    app.get("/api/v1/recommendations/user/999/unserved")
        .await
        .expect(404);
    let recent = app
        .get(&format!("/api/v1/recommendations/user/{u}/recent"))
        .await
        .expect(200);
    assert_eq!(recent["items"][0]["id"], json!(high), "by score");
    app.get("/api/v1/recommendations/user/999/recent")
        .await
        .expect(404);

    let stats = app
        .get(&format!("/api/v1/recommendations/user/{u}/stats"))
        .await
        .expect(200);
    assert_eq!(stats["total_recommendations"], json!(2));
    assert_eq!(stats["served_recommendations"], json!(1));
    assert_eq!(stats["algorithm_breakdown"]["v1"]["count"], json!(2));
    assert!((stats["average_score"].as_f64().unwrap() - 0.55).abs() < 1e-9);
    assert_eq!(
        app.get(&format!("/api/v1/recommendations/analytics/user/{u}"))
            .await
            .expect(200),
        stats
    );
    app.get("/api/v1/recommendations/user/999/stats")
        .await
        .expect(404);
    app.get("/api/v1/recommendations/analytics/user/999")
        .await
        .expect(404);

    assert_eq!(
        app.get(&format!("/api/v1/recommendations/content/{c2}/recommendations"))
            .await
            .expect(200)["total"],
        json!(1)
    );
    app.get("/api/v1/recommendations/content/999/recommendations")
        .await
        .expect(404);
    assert_eq!(
        app.get("/api/v1/recommendations/algorithm/v1/recommendations")
            .await
            .expect(200)["total"],
        json!(2)
    );
    assert_eq!(
        app.get("/api/v1/recommendations/algorithm/nope/recommendations")
            .await
            .expect(200)["total"],
        json!(0)
    );
    let overview = app
        .get("/api/v1/recommendations/stats/overview")
        .await
        .expect(200);
    assert_eq!(
        overview,
        json!({"total_recommendations": 2, "served_recommendations": 1, "unserved_recommendations": 1})
    );

    let liked = app
        .put(
            &format!("/api/v1/recommendations/{low}/feedback"),
            json!({"feedback": "liked", "metadata": {"ui": "card"}}),
        )
        .await
        .expect(200);
    assert_eq!(liked["rec_metadata"]["feedback"]["type"], json!("liked"));
    assert_eq!(
        app.get(&format!("/api/v1/users/{u}/interactions"))
            .await
            .expect(200)["items"][0]["interaction_type"],
        json!("like")
    );
    app.put(
        &format!("/api/v1/recommendations/{low}/feedback"),
        json!({"feedback": "meh"}),
    )
    .await
    .expect(422);
    app.put(
        "/api/v1/recommendations/999/feedback",
        json!({"feedback": "liked"}),
    )
    .await
    .expect(404);
}

#[actix_web::test]
async fn generate_creates_and_persists_fresh_recommendations() {
    let app = TestApp::spawn().await;
    let u = app.user("gen").await;
    let other = app.user("creator").await;
    for i in 0..5 {
        app.content(other, &format!("Item {i}"), "image", &["space"])
            .await;
    }
    let seen = app.content(other, "Seen", "image", &[]).await;
    app.interact(u, seen, "like", Some(5)).await;
    let out = app
        .post(
            "/api/v1/recommendations/generate",
            json!({"user_id": u, "algorithm_version": "test_v1.0", "limit": 3}),
        )
        .await
        .expect(200);
    assert_eq!(out["algorithm_version"], json!("test_v1.0"));
    let recs = out["recommendations"].as_array().unwrap();
    assert_eq!(recs.len(), 3);
    assert!(
        recs.iter()
            .all(|r| r["content_item_id"] != json!(seen) && r["algorithm_version"] == json!("test_v1.0"))
    );
    let scores: Vec<f64> = recs
        .iter()
        .map(|r| r["recommendation_score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");
    assert_eq!(
        app.get(&format!("/api/v1/users/{u}/recommendations"))
            .await
            .expect(200)["total"],
        json!(3),
        "persisted"
    );

    let newcomer = app.user("newcomer").await;
    let empty_catalogue = TestApp::spawn().await;
    let lonely = empty_catalogue.user("lonely").await;
    let none = empty_catalogue
        .post(
            "/api/v1/recommendations/generate",
            json!({"user_id": lonely, "algorithm_version": "x", "limit": 5}),
        )
        .await
        .expect(200);
    assert_eq!(none["recommendations"], json!([]));
    app.post(
        "/api/v1/recommendations/generate",
        json!({"user_id": newcomer, "algorithm_version": "workflow_test_v1.0", "limit": 5}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.post(
            "/api/v1/recommendations/generate",
            json!({"user_id": 999, "algorithm_version": "x"})
        )
        .await
        .detail(404),
        "User with id 999 not found"
    );
    app.post(
        "/api/v1/recommendations/generate",
        json!({"user_id": u, "algorithm_version": "x", "limit": 101}),
    )
    .await
    .expect(422);
    app.post_empty(&format!("/api/v1/users/{u}/deactivate"))
        .await
        .expect(200);
    assert_eq!(
        app.post(
            "/api/v1/recommendations/generate",
            json!({"user_id": u, "algorithm_version": "x"})
        )
        .await
        .detail(422),
        "Cannot get recommendations for inactive users"
    );
}
