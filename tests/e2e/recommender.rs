//! The recommender over HTTP: algorithms by label, explanations, builds on request by a
//! worker, similar items.

use std::time::Duration;

use genonaut_tests::TestApp;
use serde_json::{Value, json};

async fn generate(app: &TestApp, user: i64, label: &str) -> Value {
    let out = app
        .post(
            "/api/v1/recommendations/generate",
            json!({"user_id": user, "algorithm_version": label, "limit": 5}),
        )
        .await
        .expect(200);
    assert_eq!(out["algorithm_version"], json!(label));
    out["recommendations"].clone()
}

#[actix_web::test]
async fn builds_on_request_then_recommends_and_finds_similar_items() {
    let app = TestApp::spawn_with(Box::new(|c| c.jobs.workers = 1)).await;
    let maker = app.user("maker").await;
    let a = app.content(maker, "Nebula", "image", &["space", "sci-fi"]).await;
    let b = app
        .content(maker, "Starship", "image", &["space", "sci-fi"])
        .await;
    let cake = app.content(maker, "Cake", "text", &["baking"]).await;
    for fan in ["fan1", "fan2", "fan3"] {
        let fan = app.user(fan).await;
        app.interact(fan, a, "like", None).await;
        app.interact(fan, b, "bookmark", None).await;
    }
    let cook = app.user("cook").await;
    app.interact(cook, cake, "like", None).await;
    let alice = app.user("alice").await;
    app.interact(alice, a, "like", None).await;

    let before = generate(&app, alice, "item-knn").await;
    assert!(!before.as_array().unwrap().is_empty());
    assert!(
        before[0]["rec_metadata"]["notes"]
            .to_string()
            .contains("not built yet"),
        "{before:?}"
    );
    let status = app.get("/api/v1/admin/recommender").await.expect(200);
    assert_eq!(
        (status["last_build"].clone(), status["stale"].clone()),
        (Value::Null, json!(true))
    );

    let requested = app
        .post("/api/v1/admin/recommender/rebuild", json!({"full": true}))
        .await
        .expect(202);
    assert!(requested["requested_at"].is_string() && requested["requested_full"] == json!(true));
    let mut status = Value::Null;
    for _ in 0..200 {
        status = app.get("/api/v1/admin/recommender").await.expect(200);
        if status["last_build"].is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let build = &status["last_build"];
    assert_eq!(
        (build["full"].clone(), build["interactions"].clone()),
        (json!(true), json!(8))
    );
    assert!(build["neighbour_pairs"].as_i64().unwrap() > 0);
    assert_eq!(
        (status["stale"].clone(), status["requested_at"].clone()),
        (json!(false), Value::Null)
    );

    let knn = generate(&app, alice, "item_knn_v2").await;
    assert_eq!(knn[0]["content_item_id"], json!(b), "{knn:?}");
    assert_eq!(knn[0]["algorithm_version"], json!("item_knn_v2"));
    let why = &knn[0]["rec_metadata"];
    assert_eq!(
        (why["algorithm"].clone(), why["because_items"].clone()),
        (json!("item-knn"), json!([a]))
    );
    assert!(why["components"]["item_knn"].as_f64().unwrap() > 0.0);
    let default = generate(&app, alice, "test_v1.0").await;
    assert_eq!(default[0]["rec_metadata"]["algorithm"], json!("hybrid"));
    assert!(
        default
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["content_item_id"] != json!(a)),
        "already liked"
    );

    let similar = app
        .get(&format!("/api/v1/content/{a}/similar?limit=3"))
        .await
        .expect(200);
    assert_eq!(
        (similar["source"].clone(), similar["limit"].clone()),
        (json!("item-knn"), json!(3))
    );
    assert_eq!(similar["items"][0]["id"], json!(b));
    assert_eq!(
        similar["items"][0]["title"],
        json!("Starship"),
        "a full content item"
    );
    assert!(similar["items"][0]["score"].as_f64().unwrap() > 0.0);
    assert_eq!(
        app.get("/api/v1/content/999/similar").await.detail(404),
        "ContentItem with id 999 not found"
    );
    assert_eq!(
        app.get(&format!("/api/v1/content/{a}/similar?limit=0"))
            .await
            .problems(),
        [("greater_than_equal".into(), "query.limit".into())]
    );
    assert_eq!(
        app.post("/api/v1/admin/recommender/rebuild", json!({"full": "maybe"}))
            .await
            .problems(),
        [("bool_parsing".into(), "body.full".into())]
    );
}

#[actix_web::test]
async fn the_learned_model_serves_ease_and_folds_in_a_new_like_without_a_rebuild() {
    let app = TestApp::spawn_with(Box::new(|c| c.jobs.workers = 1)).await;
    let maker = app.user("maker").await;
    let a = app.content(maker, "Nebula", "image", &["space"]).await;
    let b = app.content(maker, "Starship", "image", &["space"]).await;
    let cake = app.content(maker, "Cake", "text", &["baking"]).await;
    let pie = app.content(maker, "Pie", "text", &["baking"]).await;
    for fan in ["fan1", "fan2", "fan3"] {
        let fan = app.user(fan).await;
        app.interact(fan, a, "like", None).await;
        app.interact(fan, b, "bookmark", None).await;
    }
    let cook = app.user("cook").await;
    app.interact(cook, cake, "like", None).await;
    app.interact(cook, pie, "like", None).await;
    let alice = app.user("alice").await;
    app.interact(alice, a, "like", None).await;

    app.post("/api/v1/admin/recommender/rebuild", json!({"full": true}))
        .await
        .expect(202);
    let mut status = Value::Null;
    for _ in 0..200 {
        status = app.get("/api/v1/admin/recommender").await.expect(200);
        if status["last_build"].is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let build = status["last_build"].clone();
    assert_eq!(build["model_items"], json!(4), "{status}");
    assert!(build["model_lambda"].as_f64().unwrap() > 0.0);

    let ease = generate(&app, alice, "ease").await;
    assert_eq!(ease[0]["content_item_id"], json!(b), "{ease:?}");
    let why = &ease[0]["rec_metadata"];
    assert_eq!(
        (why["algorithm"].clone(), why["because_items"].clone()),
        (json!("ease"), json!([a]))
    );
    assert!(why["components"]["ease"].as_f64().unwrap() > 0.0);
    assert!(
        ease.as_array()
            .unwrap()
            .iter()
            .all(|r| r["content_item_id"] != json!(pie)),
        "nothing she has points to Pie yet: {ease:?}"
    );

    // A like, then the very next generate: Pie, because of Cake — no build in between.
    app.interact(alice, cake, "like", None).await;
    let next = generate(&app, alice, "ease-v2").await;
    let found = next
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["content_item_id"] == json!(pie))
        .unwrap_or_else(|| panic!("Pie after liking Cake: {next:?}"));
    assert_eq!(found["rec_metadata"]["because_items"], json!([cake]));
    assert!(
        next.as_array()
            .unwrap()
            .iter()
            .all(|r| r["content_item_id"] != json!(cake))
    );
    let after = app.get("/api/v1/admin/recommender").await.expect(200);
    assert_eq!(
        after["last_build"]["built_at"], build["built_at"],
        "no rebuild ran"
    );
}
