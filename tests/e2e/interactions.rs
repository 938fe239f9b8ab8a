use genonaut_tests::TestApp;
use serde_json::json;

#[actix_web::test]
async fn record_interactions_and_their_rules() {
    let app = TestApp::spawn().await;
    let u = app.user("actor").await;
    let c = app.content(u, "Thing", "text", &[]).await;
    let i = app
        .post(
            "/api/v1/interactions",
            json!({"user_id": u, "content_item_id": c, "interaction_type": "like", "rating": 5, "duration": 120, "metadata": {"device": "mobile"}}),
        )
        .await
        .expect(201);
    assert_eq!(
        (i["rating"].as_i64(), i["duration"].as_i64()),
        (Some(5), Some(120))
    );
    assert_eq!(i["interaction_metadata"], json!({"device": "mobile"}));
    let view = app
        .post(
            "/api/v1/interactions/",
            json!({"user_id": u, "content_item_id": c, "interaction_type": "view", "duration": 30}),
        )
        .await
        .expect(201);
    assert_eq!(view["rating"], json!(null));

    let problems = app
        .post("/api/v1/interactions", json!({"user_id": "x", "content_item_id": -1, "interaction_type": "poke", "rating": 6, "duration": -1}))
        .await
        .problems();
    let kinds: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "int_parsing",
            "greater_than",
            "enum",
            "less_than_equal",
            "greater_than_equal"
        ]
    );
    let body = |user: i64, content: i64| json!({"user_id": user, "content_item_id": content, "interaction_type": "view"});
    assert_eq!(
        app.post("/api/v1/interactions", body(999, c)).await.detail(422),
        "User not found"
    );
    assert_eq!(
        app.post("/api/v1/interactions", body(u, 999)).await.detail(422),
        "Content not found"
    );
    app.post_empty(&format!("/api/v1/users/{u}/deactivate"))
        .await
        .expect(200);
    assert_eq!(
        app.post("/api/v1/interactions", body(u, c)).await.detail(422),
        "Cannot record interactions for inactive users"
    );
}

#[actix_web::test]
async fn get_update_delete_and_lookups() {
    let app = TestApp::spawn().await;
    let u = app.user("looker").await;
    let c = app.content(u, "Thing", "video", &[]).await;
    let i = app.interact(u, c, "rate", Some(3)).await;
    let path = format!("/api/v1/interactions/{i}");
    assert_eq!(app.get(&path).await.expect(200)["rating"], json!(3));
    assert_eq!(
        app.get("/api/v1/interactions/999").await.detail(404),
        "UserInteraction with id 999 not found"
    );
    app.get("/api/v1/interactions/recent").await.expect(422);
    let updated = app
        .put(
            &path,
            json!({"rating": 4, "metadata": {"edited": true}, "interaction_type": "like"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (updated["rating"].as_i64(), updated["interaction_type"].as_str()),
        (Some(4), Some("rate"))
    );
    assert_eq!(updated["interaction_metadata"], json!({"edited": true}));
    app.put(&path, json!({"rating": 0})).await.expect(422);
    app.put("/api/v1/interactions/999", json!({"rating": 2}))
        .await
        .expect(404);

    app.interact(u, c, "rate", Some(5)).await;
    let between = app
        .get(&format!("/api/v1/interactions/user/{u}/content/{c}/rate"))
        .await
        .expect(200);
    assert_eq!(between["rating"], json!(5), "the most recent");
    assert_eq!(
        app.get(&format!("/api/v1/interactions/user/{u}/content/{c}/share"))
            .await
            .detail(404),
        format!("No share interaction found between user {u} and content {c}")
    );
    assert_eq!(
        app.get(&format!("/api/v1/interactions/user/999/content/{c}/rate"))
            .await
            .detail(404),
        "User with id 999 not found"
    );
    assert_eq!(
        app.get(&format!("/api/v1/interactions/user/{u}/content/999/rate"))
            .await
            .detail(404),
        "ContentItem with id 999 not found"
    );

    assert_eq!(
        app.delete(&path).await.expect(200),
        json!({"success": true, "message": format!("Interaction {i} deleted successfully")})
    );
    app.delete(&path).await.expect(404);
}

#[actix_web::test]
async fn listings_filters_and_aggregates() {
    let app = TestApp::spawn().await;
    let u = app.user("agg").await;
    let v = app.user("other").await;
    let text = app.content(u, "T", "text", &[]).await;
    let image = app.content(u, "I", "image", &[]).await;
    app.interact(u, text, "like", Some(3)).await;
    app.interact(u, text, "like", Some(4)).await;
    app.interact(u, image, "view", None).await;
    app.post(
        "/api/v1/interactions",
        json!({"user_id": u, "content_item_id": image, "interaction_type": "view", "duration": 0}),
    )
    .await
    .expect(201);
    app.interact(v, image, "share", None).await;

    let all = app.get("/api/v1/interactions?limit=2").await.expect(200);
    assert_eq!(
        (all["total"].as_i64(), all["items"].as_array().unwrap().len()),
        (Some(5), 2)
    );
    let anded = app
        .get(&format!(
            "/api/v1/interactions?user_id={u}&interaction_type=like&days=30"
        ))
        .await
        .expect(200);
    assert_eq!(anded["total"], json!(2));
    let skipped = app
        .get(&format!("/api/v1/interactions?user_id={u}&days=1&skip=3"))
        .await
        .expect(200);
    assert_eq!(
        (
            skipped["total"].as_i64(),
            skipped["items"].as_array().unwrap().len()
        ),
        (Some(4), 1)
    );
    assert_eq!(
        app.get("/api/v1/interactions?user_id=999").await.detail(404),
        "User with id 999 not found"
    );
    assert_eq!(
        app.get("/api/v1/interactions?content_item_id=999")
            .await
            .detail(404),
        "ContentItem with id 999 not found"
    );
    app.get("/api/v1/interactions?days=400").await.expect(422);

    assert_eq!(
        app.get(&format!("/api/v1/interactions/user/{u}/interactions"))
            .await
            .expect(200)["total"],
        json!(4)
    );
    app.get("/api/v1/interactions/user/999/interactions")
        .await
        .expect(404);
    let recent = app
        .get(&format!("/api/v1/interactions/user/{u}/recent?days=1&limit=3"))
        .await
        .expect(200);
    assert_eq!(
        (recent["total"].as_i64(), recent["limit"].as_i64()),
        (Some(3), Some(3))
    );
    app.get("/api/v1/interactions/user/999/recent").await.expect(404);

    let summary = app
        .get(&format!("/api/v1/interactions/user/{u}/summary"))
        .await
        .expect(200);
    assert_eq!(summary["summary"]["like"], json!({"count": 2, "avg_rating": 3.5}));
    assert_eq!(
        summary["summary"]["view"],
        json!({"count": 2, "avg_rating": null})
    );
    assert_eq!(summary["summary"]["total_interactions"], json!(4));
    let fresh = app.user("fresh").await;
    assert_eq!(
        app.get(&format!("/api/v1/interactions/user/{fresh}/summary"))
            .await
            .expect(200)["summary"],
        json!({"total_interactions": 0})
    );
    app.get("/api/v1/interactions/user/999/summary").await.expect(404);

    assert_eq!(
        app.get(&format!("/api/v1/interactions/content/{image}/interactions"))
            .await
            .expect(200)["total"],
        json!(3)
    );
    app.get("/api/v1/interactions/content/999/interactions")
        .await
        .expect(404);
    let stats = app
        .get(&format!("/api/v1/interactions/content/{image}/stats"))
        .await
        .expect(200);
    assert_eq!(
        stats["stats"]["view"],
        json!({"count": 2, "avg_rating": null, "avg_duration": 0.0})
    );
    assert_eq!(stats["content_item_id"], json!(image));
    app.get("/api/v1/interactions/content/999/stats")
        .await
        .expect(404);

    assert_eq!(
        app.get("/api/v1/interactions/type/like/interactions")
            .await
            .expect(200)["total"],
        json!(2)
    );
    assert_eq!(
        app.get("/api/v1/interactions/type/poke/interactions")
            .await
            .expect(200)["total"],
        json!(0)
    );

    let behavior = app
        .get(&format!("/api/v1/interactions/analytics/user-behavior/{u}"))
        .await
        .expect(200);
    assert_eq!(behavior["total_interactions"], json!(4));
    assert_eq!(behavior["favorite_content_types"], json!(["text", "image"]));
    assert_eq!(behavior["interaction_types"]["like"]["count"], json!(2));
    let empty = app
        .get(&format!("/api/v1/interactions/analytics/user-behavior/{fresh}"))
        .await
        .expect(200);
    assert_eq!(
        empty,
        json!({"total_interactions": 0, "interaction_types": {}, "favorite_content_types": []})
    );
    app.get("/api/v1/interactions/analytics/user-behavior/999")
        .await
        .expect(404);

    let overview = app.get("/api/v1/interactions/stats/overview").await.expect(200);
    assert_eq!(
        overview.to_string(),
        r#"{"total_interactions":5,"type_breakdown":{"view":2,"like":2,"share":1,"download":0,"bookmark":0,"comment":0,"rate":0}}"#
    );
}
