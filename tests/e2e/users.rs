use actix_web::http::Method;
use genonaut_tests::TestApp;
use serde_json::{Value, json};

#[actix_web::test]
async fn create_user_returns_201_and_normalises_the_email_domain() {
    let app = TestApp::spawn().await;
    let u = app
        .post(
            "/api/v1/users",
            json!({"username": "dave_x", "email": "Dave.X@EXAMPLE.COM", "preferences": {"theme": "dark"}}),
        )
        .await
        .expect(201);
    assert_eq!(u["username"], json!("dave_x"));
    assert_eq!(u["email"], json!("Dave.X@example.com"));
    assert_eq!(u["is_active"], json!(true));
    assert_eq!(u["preferences"], json!({"theme": "dark"}));
    assert_eq!(u["created_at"], u["updated_at"], "one clock reading");
    let keys: Vec<&String> = u.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "username",
            "email",
            "created_at",
            "updated_at",
            "preferences",
            "is_active"
        ]
    );
}

#[actix_web::test]
async fn create_user_validation_reports_every_problem() {
    let app = TestApp::spawn().await;
    let problems = app
        .post("/api/v1/users", json!({"username": "ab", "preferences": [1]}))
        .await
        .problems();
    assert_eq!(
        problems,
        [
            ("string_too_short".into(), "body.username".into()),
            ("missing".into(), "body.email".into()),
            ("dict_type".into(), "body.preferences".into())
        ]
    );
    let body = app
        .post(
            "/api/v1/users",
            json!({"username": "a.b", "email": "x@mail.test"}),
        )
        .await
        .expect(422);
    assert_eq!(
        body["detail"][0]["msg"],
        json!("Value error, Username can only contain letters, numbers, hyphens, and underscores")
    );
    assert_eq!(body["detail"][1]["type"], json!("value_error"));
    assert!(
        body["detail"][1]["msg"]
            .as_str()
            .unwrap()
            .starts_with("value is not a valid email address: ")
    );
    let raw = app
        .send_raw(
            Method::POST,
            "/api/v1/users",
            "application/json",
            b"invalid json".to_vec(),
        )
        .await;
    assert_eq!(raw.problems(), [("json_invalid".into(), "body.0".into())]);
}

#[actix_web::test]
async fn duplicates_are_422_username_first() {
    let app = TestApp::spawn().await;
    app.user("taken").await;
    let dup = app
        .post(
            "/api/v1/users",
            json!({"username": "taken", "email": "taken@example.com"}),
        )
        .await;
    assert_eq!(dup.detail(422), "Username already exists");
    let dup = app
        .post(
            "/api/v1/users",
            json!({"username": "other", "email": "taken@EXAMPLE.com"}),
        )
        .await;
    assert_eq!(dup.detail(422), "Email already exists");
    // Uniqueness is case-sensitive.
    app.post(
        "/api/v1/users",
        json!({"username": "Taken", "email": "Taken@example.com"}),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn get_update_and_lookups() {
    let app = TestApp::spawn().await;
    let id = app.user("erin").await;
    app.user("frank").await;
    assert_eq!(
        app.get(&format!("/api/v1/users/{id}")).await.expect(200)["username"],
        json!("erin")
    );
    assert_eq!(
        app.get("/api/v1/users/99999").await.detail(404),
        "User with id 99999 not found"
    );
    assert_eq!(
        app.get("/api/v1/users/abc").await.problems(),
        [("int_parsing".into(), "path.user_id".into())]
    );
    app.get("/api/v1/users/0").await.expect(404);
    app.get("/api/v1/users/99999999999").await.expect(404);
    app.get("/api/v1/users/+01").await.expect(200);

    let same = app
        .put(&format!("/api/v1/users/{id}"), json!({}))
        .await
        .expect(200);
    let renamed = app
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"username": "erin2", "email": "erin2@example.com"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (renamed["username"].as_str(), renamed["email"].as_str()),
        (Some("erin2"), Some("erin2@example.com"))
    );
    assert!(renamed["updated_at"].as_str() > same["updated_at"].as_str());
    let taken = app
        .put(&format!("/api/v1/users/{id}"), json!({"username": "frank"}))
        .await;
    assert_eq!(taken.detail(422), "Username 'frank' already exists");
    let taken = app
        .put(
            &format!("/api/v1/users/{id}"),
            json!({"email": "frank@EXAMPLE.com"}),
        )
        .await;
    assert_eq!(
        taken.detail(422),
        "Email 'frank@example.com' already exists",
        "compared after normalising the domain"
    );
    // The local part is kept as sent and compared case-sensitively: a different address.
    app.put(
        &format!("/api/v1/users/{id}"),
        json!({"email": "FRANK@example.com"}),
    )
    .await
    .expect(200);
    app.put(
        &format!("/api/v1/users/{id}"),
        json!({"email": "erin2@example.com"}),
    )
    .await
    .expect(200);
    app.put("/api/v1/users/424242", json!({"is_active": false}))
        .await
        .expect(404);
    app.put(&format!("/api/v1/users/{id}"), json!({"is_active": "maybe"}))
        .await
        .expect(422);

    assert_eq!(
        app.get("/api/v1/users/username/erin2").await.expect(200)["id"],
        json!(id)
    );
    assert_eq!(
        app.get("/api/v1/users/username/ERIN2").await.detail(404),
        "User with username 'ERIN2' not found"
    );
    assert_eq!(
        app.get("/api/v1/users/email/erin2@example.com").await.expect(200)["id"],
        json!(id)
    );
    assert_eq!(
        app.get("/api/v1/users/email/none@example.com").await.detail(404),
        "User with email 'none@example.com' not found"
    );
    // Literal segments win: a user literally named "stats" is found by username.
    app.user("stats").await;
    assert_eq!(
        app.get("/api/v1/users/username/stats").await.expect(200)["username"],
        json!("stats")
    );
}

#[actix_web::test]
async fn preferences_merge_shallowly() {
    let app = TestApp::spawn().await;
    let id = app.user("prefs").await;
    app.put(
        &format!("/api/v1/users/{id}/preferences"),
        json!({"preferences": {"theme": "dark", "notifications": true}}),
    )
    .await
    .expect(200);
    let merged = app
        .put(&format!("/api/v1/users/{id}/preferences"), json!({"preferences": {"theme": "light", "lang": "es", "since": "2025-01-01T00:00:00", "n": null}}))
        .await
        .expect(200);
    assert_eq!(
        merged["preferences"],
        json!({"n": null, "lang": "es", "since": "2025-01-01T00:00:00", "theme": "light", "notifications": true})
    );
    let missing = app
        .put(&format!("/api/v1/users/{id}/preferences"), json!({}))
        .await
        .problems();
    assert_eq!(missing, [("missing".into(), "body.preferences".into())]);
    app.put("/api/v1/users/999/preferences", json!({"preferences": {}}))
        .await
        .expect(404);
}

#[actix_web::test]
async fn delete_is_a_soft_delete_and_activation_toggles() {
    let app = TestApp::spawn().await;
    let id = app.user("gone").await;
    app.content(id, "Kept", "text", &[]).await;
    let deleted = app.delete(&format!("/api/v1/users/{id}")).await.expect(200);
    assert_eq!(
        deleted,
        json!({"success": true, "message": format!("User {id} deleted successfully")})
    );
    assert_eq!(
        app.get(&format!("/api/v1/users/{id}")).await.expect(200)["is_active"],
        json!(false)
    );
    app.delete(&format!("/api/v1/users/{id}")).await.expect(200);
    assert_eq!(
        app.delete("/api/v1/users/9999").await.detail(404),
        "User with id 9999 not found"
    );
    assert_eq!(
        app.post_empty(&format!("/api/v1/users/{id}/activate"))
            .await
            .expect(200)["is_active"],
        json!(true)
    );
    assert_eq!(
        app.post_empty(&format!("/api/v1/users/{id}/deactivate"))
            .await
            .expect(200)["is_active"],
        json!(false)
    );
    app.post_empty("/api/v1/users/9999/activate").await.expect(404);
    app.post_empty("/api/v1/users/9999/deactivate").await.expect(404);
}

#[actix_web::test]
async fn listings_search_and_overview() {
    let app = TestApp::spawn().await;
    let a = app.user("list_a").await;
    let b = app.user("list_b").await;
    app.put(
        &format!("/api/v1/users/{a}/preferences"),
        json!({"preferences": {"theme": "dark", "beta": true}}),
    )
    .await
    .expect(200);
    app.post_empty(&format!("/api/v1/users/{b}/deactivate"))
        .await
        .expect(200);

    let all = app.get("/api/v1/users?skip=0&limit=10").await.expect(200);
    assert_eq!(
        (all["total"].as_i64(), all["skip"].as_i64(), all["limit"].as_i64()),
        (Some(2), Some(0), Some(10))
    );
    assert_eq!(all["items"][0]["id"], json!(a), "ordered by id");
    let active = app
        .get("/api/v1/users/search?active_only=true&limit=10")
        .await
        .expect(200);
    assert_eq!(active["total"], json!(1));
    let paged = app.get("/api/v1/users?skip=1&limit=1").await.expect(200);
    assert_eq!(
        (paged["items"].as_array().unwrap().len(), paged["total"].as_i64()),
        (1, Some(2))
    );
    app.get("/api/v1/users?limit=0").await.expect(422);
    app.get("/api/v1/users?active_only=").await.expect(422);

    let found = app
        .post(
            "/api/v1/users/search",
            json!({"preferences_filter": {"beta": true}}),
        )
        .await
        .expect(200);
    assert_eq!(
        (found["total"].as_i64(), found["items"][0]["id"].as_i64()),
        (Some(1), Some(a))
    );
    let typed = app
        .post(
            "/api/v1/users/search",
            json!({"preferences_filter": {"beta": "true"}}),
        )
        .await
        .expect(200);
    assert_eq!(typed["total"], json!(0), "type-sensitive");
    let combined = app
        .post("/api/v1/users/search", json!({"active_only": true, "limit": 1}))
        .await
        .expect(200);
    assert_eq!(combined["items"].as_array().unwrap().len(), 1);
    app.post("/api/v1/users/search", json!({"limit": 1001}))
        .await
        .expect(422);
    app.post_empty("/api/v1/users/search").await.expect(200);

    let overview = app.get("/api/v1/users/stats/overview").await.expect(200);
    assert_eq!(
        overview,
        json!({"total_users": 2, "active_users": 1, "inactive_users": 1})
    );
}

#[actix_web::test]
async fn per_user_views() {
    let app = TestApp::spawn().await;
    let u = app.user("viewer").await;
    let c = app.content(u, "Mine", "image", &[]).await;
    app.interact(u, c, "like", Some(4)).await;
    app.interact(u, c, "rate", Some(2)).await;
    let r = app.recommend(u, c, 0.9).await;
    app.recommend(u, c, 0.4).await;

    let stats = app.get(&format!("/api/v1/users/{u}/stats")).await.expect(200);
    assert_eq!(
        stats,
        json!({"total_interactions": 2, "content_created": 1, "avg_rating_given": 3.0})
    );
    app.get("/api/v1/users/999/stats").await.expect(404);

    let interactions = app
        .get(&format!("/api/v1/users/{u}/interactions"))
        .await
        .expect(200);
    assert_eq!(interactions["total"], json!(2));
    assert_eq!(
        interactions["items"][0]["interaction_type"],
        json!("rate"),
        "newest first"
    );
    assert_eq!(
        app.get("/api/v1/users/999/interactions").await.detail(404),
        "User with id 999 not found"
    );

    let recs = app
        .get(&format!("/api/v1/users/{u}/recommendations"))
        .await
        .expect(200);
    assert_eq!(recs["items"][0]["id"], json!(r), "best first");
    assert_eq!(recs["total"], json!(2));
    let unserved = app
        .get(&format!("/api/v1/users/{u}/recommendations/unserved?limit=1"))
        .await
        .expect(200);
    assert_eq!(
        (unserved["total"].as_i64(), unserved["skip"].as_i64()),
        (Some(1), Some(0))
    );
    app.get("/api/v1/users/999/recommendations").await.expect(404);

    app.post_empty(&format!("/api/v1/users/{u}/deactivate"))
        .await
        .expect(200);
    let inactive = app.get(&format!("/api/v1/users/{u}/recommendations")).await;
    assert_eq!(
        inactive.detail(422),
        "Cannot get recommendations for inactive users"
    );
    app.get(&format!("/api/v1/users/{u}/recommendations/unserved"))
        .await
        .expect(422);
    app.get(&format!("/api/v1/users/{u}/interactions"))
        .await
        .expect(200);

    let jobs = app
        .get(&format!("/api/v1/users/{u}/generation-jobs"))
        .await
        .expect(200);
    assert_eq!(jobs["items"], Value::Array(vec![]));
    app.get("/api/v1/users/999/generation-jobs").await.expect(404);
}
