//! Semantic content: sentence embeddings of items (the real all-MiniLM-L6-v2 model, fetched by
//! scripts/fetch-model.sh) in semantic search, similar items, `content` scoring and for
//! freshly generated items — and the tag fallback without a model.

use std::time::{Duration, Instant};

use genonaut_tests::TestApp;
use serde_json::{Value, json};

/// An app with the embedding model loaded (and `workers` job workers).
async fn with_model(workers: usize) -> TestApp {
    let dir = genonaut_embed::test_model_dir();
    assert!(
        dir.join("model.safetensors").is_file(),
        "the embedding model is missing at {}: run scripts/fetch-model.sh",
        dir.display()
    );
    TestApp::spawn_with(Box::new(move |c| {
        c.embed.model_dir = Some(dir);
        c.jobs.workers = workers;
    }))
    .await
}

/// Waits (at most `limit`) until `/ready` reports at least `n` indexed vectors.
async fn indexed(app: &TestApp, n: u64, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let ready = app.get("/ready").await.body;
        let count = ready["embeddings"]["indexed"][app.schema().as_str()]
            .as_u64()
            .unwrap_or(0);
        if count >= n {
            return ready;
        }
        assert!(
            started.elapsed() < limit,
            "only {count} of {n} items embedded after {limit:?}: {ready}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn item(app: &TestApp, creator: i64, title: &str, prompt: &str, tags: &[&str]) -> i64 {
    app.post(
        "/api/v1/content",
        json!({"title": title, "content_type": "image", "content_data": "/media/x.png", "creator_id": creator,
               "tags": tags, "item_metadata": {"prompt": prompt}}),
    )
    .await
    .expect(201)["id"]
        .as_i64()
        .unwrap_or_default()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_i64())
        .collect()
}

#[actix_web::test]
async fn semantic_search_ranks_by_meaning_and_keeps_the_default() {
    let app = with_model(0).await;
    let maker = app.user("maker").await;
    let tax = item(
        &app,
        maker,
        "Quarterly report",
        "a spreadsheet of tax figures",
        &["finance"],
    )
    .await;
    let lighthouse = item(
        &app,
        maker,
        "Keeper's light",
        "a lighthouse over the ocean after dark",
        &["coast"],
    )
    .await;
    let bread = item(
        &app,
        maker,
        "Banana bread",
        "a loaf of banana bread on a kitchen table",
        &["baking"],
    )
    .await;
    let ready = indexed(&app, 3, Duration::from_secs(5)).await;
    assert_eq!(ready["embeddings"]["status"], json!("available"), "{ready}");

    let found = app
        .post(
            "/api/v1/content/search",
            json!({"search_term": "sea at night", "search_mode": "semantic"}),
        )
        .await
        .expect(200);
    let order = ids(&found);
    assert_eq!(order[0], lighthouse, "{found}");
    assert_eq!(found["total"], json!(3));
    assert!(order.contains(&tax) && order.contains(&bread));
    // Other filters still apply.
    let filtered = app
        .post(
            "/api/v1/content/search",
            json!({"search_term": "sea at night", "search_mode": "semantic", "tags": ["baking"]}),
        )
        .await
        .expect(200);
    assert_eq!(ids(&filtered), vec![bread]);
    // The default (and `keyword`) still match titles, newest first.
    for body in [
        json!({"search_term": "sea at night"}),
        json!({"search_term": "sea at night", "search_mode": "keyword"}),
    ] {
        assert_eq!(
            app.post("/api/v1/content/search", body).await.expect(200)["total"],
            json!(0)
        );
    }
    let by_title = app
        .post("/api/v1/content/search", json!({"search_term": "banana"}))
        .await
        .expect(200);
    assert_eq!(ids(&by_title), vec![bread]);
    // Bad input: 422 in the validation shape.
    let problems = app
        .post(
            "/api/v1/content/search",
            json!({"search_term": "x", "search_mode": "fuzzy"}),
        )
        .await
        .problems();
    assert_eq!(problems, vec![("enum".to_owned(), "body.search_mode".to_owned())]);
    let problems = app
        .post("/api/v1/content/search", json!({"search_mode": "semantic"}))
        .await
        .problems();
    assert_eq!(
        problems,
        vec![("value_error".to_owned(), "body.search_term".to_owned())]
    );
}

#[actix_web::test]
async fn similar_items_and_content_scoring_use_embeddings() {
    let app = with_model(0).await;
    let maker = app.user("maker").await;
    let sea = item(
        &app,
        maker,
        "Night sea",
        "dark waves under the moon at sea",
        &["a"],
    )
    .await;
    let lighthouse = item(
        &app,
        maker,
        "Lighthouse",
        "a lighthouse at night over the ocean",
        &["b"],
    )
    .await;
    let tax = item(&app, maker, "Taxes", "a spreadsheet of tax figures", &["c"]).await;
    let _cake = item(
        &app,
        maker,
        "Cake",
        "a chocolate birthday cake with candles",
        &["d"],
    )
    .await;
    indexed(&app, 4, Duration::from_secs(5)).await;

    // No interactions: no collaborative neighbours, so the embedding answers.
    let similar = app
        .get(&format!("/api/v1/content/{sea}/similar?limit=3"))
        .await
        .expect(200);
    assert_eq!(similar["source"], json!("embedding"), "{similar}");
    assert_eq!(similar["items"][0]["id"], json!(lighthouse), "{similar}");
    assert!(!ids(&similar).contains(&sea));

    // A user who liked the sea: `content` ranks the lighthouse above the tax sheet, by meaning
    // alone (no tag in common), and says so.
    let alice = app.user("alice").await;
    app.interact(alice, sea, "like", None).await;
    let recs = app
        .post(
            "/api/v1/recommendations/generate",
            json!({"user_id": alice, "algorithm_version": "content", "limit": 10}),
        )
        .await
        .expect(200);
    let recs = recs["recommendations"].as_array().unwrap().clone();
    let rank = |id: i64| {
        recs.iter()
            .position(|r| r["content_item_id"] == json!(id))
            .unwrap()
    };
    assert!(rank(lighthouse) < rank(tax), "{recs:?}");
    let first = &recs[0]["rec_metadata"];
    assert!(
        first["components"]["embedding"].as_f64().unwrap() > 0.3,
        "{first}"
    );
    assert!(!first["notes"].to_string().contains("tag fallback"), "{first}");
}

#[actix_web::test]
async fn a_generated_item_is_embedded_and_recommendable_within_five_seconds() {
    let app = with_model(1).await;
    let maker = app.user("maker").await;
    let sea = item(
        &app,
        maker,
        "Night sea",
        "dark waves under the moon at sea",
        &["sea"],
    )
    .await;
    let _tax = item(&app, maker, "Taxes", "a spreadsheet of tax figures", &["finance"]).await;
    indexed(&app, 2, Duration::from_secs(5)).await;
    let alice = app.user("alice").await;
    app.interact(alice, sea, "like", None).await;

    let job = app
        .post(
            "/api/v1/generation-jobs",
            json!({"user_id": maker, "job_type": "image", "prompt": "a lighthouse at night over a stormy ocean"}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/generation-jobs/{job}");
    let (created, completed_at) = loop {
        let body = app.get(&path).await.expect(200);
        if body["status"] == json!("completed") {
            break (body["result_content_id"].as_i64().unwrap(), Instant::now());
        }
        assert_ne!(body["status"], json!("failed"), "{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Within 5 s of completion: among the sea's similar items and in alice's `content` list.
    loop {
        let similar = app
            .get(&format!("/api/v1/content/{sea}/similar?limit=5"))
            .await
            .expect(200);
        let recs = app
            .post(
                "/api/v1/recommendations/generate",
                json!({"user_id": alice, "algorithm_version": "content", "limit": 5}),
            )
            .await
            .expect(200);
        let recommended = recs["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["content_item_id"] == json!(created));
        if similar["source"] == json!("embedding") && ids(&similar).first() == Some(&created) && recommended {
            break;
        }
        assert!(
            completed_at.elapsed() < Duration::from_secs(5),
            "generated item {created} not found within 5 s: {similar} {recs}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn without_a_model_the_service_runs_on_tags_and_says_so() {
    let app = TestApp::spawn().await;
    let ready = app.ready().await;
    assert_eq!(ready["embeddings"]["status"], json!("unavailable"), "{ready}");
    assert!(
        ready["embeddings"]["reason"]
            .as_str()
            .unwrap()
            .contains("GENONAUT_EMBED_MODEL_DIR")
    );

    let maker = app.user("maker").await;
    let a = app.content(maker, "Nebula", "image", &["space"]).await;
    let b = app.content(maker, "Starship", "image", &["space"]).await;
    let similar = app.get(&format!("/api/v1/content/{a}/similar")).await.expect(200);
    assert_eq!(
        (similar["source"].clone(), ids(&similar)),
        (json!("tags"), vec![b])
    );

    let alice = app.user("alice").await;
    app.interact(alice, a, "like", None).await;
    for algorithm in ["content", "hybrid"] {
        let recs = app
            .post(
                "/api/v1/recommendations/generate",
                json!({"user_id": alice, "algorithm_version": algorithm, "limit": 5}),
            )
            .await
            .expect(200);
        let first = &recs["recommendations"][0]["rec_metadata"];
        assert!(
            first["notes"].to_string().contains("used the tag fallback"),
            "{first}"
        );
        assert!(first["components"].get("embedding").is_none(), "{first}");
    }
    let detail = app
        .post(
            "/api/v1/content/search",
            json!({"search_term": "sea at night", "search_mode": "semantic"}),
        )
        .await
        .detail(422);
    assert!(detail.starts_with("Semantic search is unavailable"), "{detail}");
    // The default search is untouched.
    app.post("/api/v1/content/search", json!({"search_term": "nebula"}))
        .await
        .expect(200);
}
