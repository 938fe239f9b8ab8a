//! Online experiments over HTTP: validation, 404s, stable assignment, the results' shape, the
//! per-variant counter, and a simulated population that makes the better algorithm win.

use std::collections::BTreeMap;
use std::time::Duration;

use genonaut_tests::TestApp;
use serde_json::{Value, json};

fn body(name: &str, variants: Value) -> Value {
    json!({"name": name, "variants": variants})
}

fn ab(a: &str, b: &str) -> Value {
    json!([{"name": "control", "algorithm": a, "weight": 1},
           {"name": "treatment", "algorithm": b, "weight": 1}])
}

async fn generate(app: &TestApp, user: i64, label: &str, limit: i64) -> Vec<Value> {
    let out = app
        .post(
            "/api/v1/recommendations/generate",
            json!({"user_id": user, "algorithm_version": label, "limit": limit}),
        )
        .await
        .expect(200);
    out["recommendations"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("recommendations is not a list: {out}"))
}

#[actix_web::test]
async fn bad_experiments_are_422_and_unknown_ones_404() {
    let app = TestApp::spawn().await;
    let url = "/api/v1/experiments";
    let located = |p: Vec<(String, String)>| p.into_iter().map(|(_, loc)| loc).collect::<Vec<_>>();
    let unknown = app
        .post(
            url,
            body(
                "e",
                json!([{"name": "a", "algorithm": "magic", "weight": 1},
                             {"name": "b", "algorithm": "ease", "weight": 1}]),
            ),
        )
        .await;
    assert_eq!(located(unknown.problems()), vec!["body.variants.0.algorithm"]);
    for weight in [json!(0), json!(-2.5)] {
        let reply = app
            .post(
                url,
                body(
                    "e",
                    json!([{"name": "a", "algorithm": "hybrid", "weight": 1},
                                 {"name": "b", "algorithm": "popularity", "weight": weight}]),
                ),
            )
            .await;
        assert_eq!(located(reply.problems()), vec!["body.variants.1.weight"]);
    }
    let duplicate = app
        .post(
            url,
            body(
                "e",
                json!([{"name": "a", "algorithm": "hybrid", "weight": 1},
                             {"name": "a", "algorithm": "popularity", "weight": 1}]),
            ),
        )
        .await;
    assert_eq!(located(duplicate.problems()), vec!["body.variants.1.name"]);
    let one = app
        .post(
            url,
            body("e", json!([{"name": "a", "algorithm": "hybrid", "weight": 1}])),
        )
        .await;
    assert_eq!(located(one.problems()), vec!["body.variants"]);
    let missing = app.post(url, json!({"variants": ab("hybrid", "ease")})).await;
    assert_eq!(located(missing.problems()), vec!["body.name"]);
    let bad_name = app.post(url, body("a b", ab("hybrid", "ease"))).await;
    assert_eq!(located(bad_name.problems()), vec!["body.name"]);

    let created = app
        .post(url, body("feed", ab("popularity", "hybrid")))
        .await
        .expect(201);
    assert_eq!(
        (
            created["label"].clone(),
            created["status"].clone(),
            created["engagement_window_hours"].clone()
        ),
        (json!("experiment:feed"), json!("running"), json!(24))
    );
    assert_eq!(created["variants"][1]["share"], json!(0.5));
    let taken = app.post(url, body("feed", ab("content", "ease"))).await;
    assert!(taken.detail(422).contains("already exists"));

    let id = created["id"].as_i64().unwrap();
    let gone = id + 1000;
    for path in [format!("{url}/{gone}"), format!("{url}/{gone}/results")] {
        assert!(app.get(&path).await.detail(404).contains("not found"), "{path}");
    }
    assert!(
        app.post_empty(&format!("{url}/{gone}/stop"))
            .await
            .detail(404)
            .contains("not found")
    );
    let maker = app.user("maker").await;
    app.content(maker, "Lighthouse", "image", &["sea"]).await;
    let reader = app.user("reader").await;
    let reply = app
        .post(
            "/api/v1/recommendations/generate",
            json!({"user_id": reader, "algorithm_version": "experiment:nope", "limit": 3}),
        )
        .await;
    assert!(reply.detail(404).contains("'nope' not found"));

    let listed = app.get(url).await.expect(200);
    assert_eq!(listed["total"], json!(1));
    assert_eq!(listed["items"][0]["id"], json!(id));
    assert_eq!(app.get(&format!("{url}/{id}")).await.expect(200), created);
    // Stopping is idempotent: the first stop time is kept.
    let stopped = app.post_empty(&format!("{url}/{id}/stop")).await.expect(200);
    assert_eq!(stopped["status"], json!("stopped"));
    assert!(stopped["stopped_at"].is_string());
    let again = app.post_empty(&format!("{url}/{id}/stop")).await.expect(200);
    assert_eq!(again["stopped_at"], stopped["stopped_at"]);
}

#[actix_web::test]
async fn users_never_switch_variant_and_results_have_their_shape() {
    let app = TestApp::spawn().await;
    let e = app
        .post("/api/v1/experiments", body("stable", ab("popularity", "content")))
        .await
        .expect(201);
    let id = e["id"].as_i64().unwrap();
    let maker = app.user("maker").await;
    for i in 0..12 {
        app.content(maker, &format!("Item {i}"), "text", &["t"]).await;
    }
    let mut variant_of: BTreeMap<i64, String> = BTreeMap::new();
    for i in 0..10 {
        let u = app.user(&format!("user{i}")).await;
        for _ in 0..2 {
            let recs = generate(&app, u, "experiment:stable", 2).await;
            assert!(!recs.is_empty());
            for r in &recs {
                let tag = &r["rec_metadata"]["experiment"];
                assert_eq!(
                    (tag["id"].clone(), tag["name"].clone()),
                    (json!(id), json!("stable"))
                );
                let variant = tag["variant"].as_str().unwrap().to_owned();
                let algorithm = if variant == "control" {
                    "popularity"
                } else {
                    "content"
                };
                assert_eq!(r["algorithm_version"], json!(algorithm));
                let first = variant_of.entry(u).or_insert_with(|| variant.clone());
                assert_eq!(*first, variant, "user {u} switched variant");
            }
        }
    }
    let results = app
        .get(&format!("/api/v1/experiments/{id}/results"))
        .await
        .expect(200);
    assert_eq!(results["experiment"]["id"], json!(id));
    let variants = results["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    let mut users = 0;
    for v in variants {
        let name = v["name"].as_str().unwrap();
        let expected = variant_of.values().filter(|n| *n == name).count() as i64;
        assert_eq!(v["users"], json!(expected), "{v}");
        users += v["users"].as_i64().unwrap();
        assert_eq!(v["engaged"], json!(0));
        for rate in ["engagement_rate", "rejection_rate"] {
            let r = &v[rate];
            assert!(r["low"].as_f64().unwrap() <= r["rate"].as_f64().unwrap());
            assert!(r["rate"].as_f64().unwrap() <= r["high"].as_f64().unwrap());
        }
    }
    assert_eq!(users, 10);
    assert_eq!(results["leader"], Value::Null);

    let metrics = app.get("/metrics").await;
    assert!(
        metrics.text.contains("genonaut_experiment_events_total{")
            && metrics.text.contains("experiment=\"stable\"")
            && metrics.text.contains("event=\"served\""),
        "{}",
        metrics.text
    );
}

/// A population with planted tastes: every item belongs to one of four genres (its tag), every
/// user loves one genre, has liked a few of its items, and likes what they are served of it
/// and dislikes the rest. `hybrid` (which learns the taste) must beat `popularity` (which
/// cannot) with a significant difference.
#[actix_web::test]
async fn a_simulated_population_makes_the_better_algorithm_win() {
    const GENRES: [&str; 4] = ["jazz", "noir", "alps", "cats"];
    const PER_GENRE: usize = 10;
    const USERS: usize = 40;
    let app = TestApp::spawn_with(Box::new(|c| c.jobs.workers = 1)).await;
    let maker = app.user("maker").await;
    let mut genre_of: BTreeMap<i64, usize> = BTreeMap::new();
    let mut items: Vec<Vec<i64>> = vec![Vec::new(); GENRES.len()];
    for (g, genre) in GENRES.iter().enumerate() {
        for i in 0..PER_GENRE {
            let id = app
                .content(maker, &format!("{genre} {i}"), "image", &[genre])
                .await;
            genre_of.insert(id, g);
            items[g].push(id);
        }
    }
    let mut users = Vec::new();
    for u in 0..USERS {
        let id = app.user(&format!("sim{u}")).await;
        let taste = u % GENRES.len();
        // A short history in the user's genre: three of its items, varied per user.
        for k in 0..3 {
            let item = items[taste][(u / GENRES.len() + 3 * k) % PER_GENRE];
            app.interact(id, item, "like", None).await;
        }
        users.push((id, taste));
    }
    app.post("/api/v1/admin/recommender/rebuild", json!({"full": true}))
        .await
        .expect(202);
    let mut built = false;
    for _ in 0..400 {
        if app.get("/api/v1/admin/recommender").await.expect(200)["last_build"].is_object() {
            built = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(built, "the recommender was not built");

    let e = app
        .post("/api/v1/experiments", body("sim", ab("popularity", "hybrid")))
        .await
        .expect(201);
    let id = e["id"].as_i64().unwrap();
    let mut variant_of: BTreeMap<i64, String> = BTreeMap::new();
    for _round in 0..2 {
        for &(user, taste) in &users {
            for r in generate(&app, user, "experiment:sim", 5).await {
                let variant = r["rec_metadata"]["experiment"]["variant"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let first = variant_of.entry(user).or_insert_with(|| variant.clone());
                assert_eq!(*first, variant, "user {user} switched variant");
                let item = r["content_item_id"].as_i64().unwrap();
                let feedback = if genre_of.get(&item) == Some(&taste) {
                    "liked"
                } else {
                    "disliked"
                };
                let rec = r["id"].as_i64().unwrap();
                app.put(
                    &format!("/api/v1/recommendations/{rec}/feedback"),
                    json!({"feedback": feedback}),
                )
                .await
                .expect(200);
            }
        }
    }

    let results = app
        .get(&format!("/api/v1/experiments/{id}/results"))
        .await
        .expect(200);
    let v = |name: &str| {
        results["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == json!(name))
            .unwrap()
            .clone()
    };
    let (control, treatment) = (v("control"), v("treatment"));
    let rate = |v: &Value, k: &str| v[k]["rate"].as_f64().unwrap();
    println!(
        "simulation: popularity {}/{} engaged (rate {:.3}, rejected {:.3}), hybrid {}/{} (rate {:.3}, rejected {:.3}), test {}",
        control["engaged"],
        control["served"],
        rate(&control, "engagement_rate"),
        rate(&control, "rejection_rate"),
        treatment["engaged"],
        treatment["served"],
        rate(&treatment, "engagement_rate"),
        rate(&treatment, "rejection_rate"),
        results["test"]
    );
    let users_total = control["users"].as_i64().unwrap() + treatment["users"].as_i64().unwrap();
    assert_eq!(users_total, USERS as i64);
    // Everything served was acted on: engaged + rejected = served.
    for v in [&control, &treatment] {
        assert_eq!(
            v["engaged"].as_i64().unwrap() + v["rejected"].as_i64().unwrap(),
            v["served"].as_i64().unwrap(),
            "{v}"
        );
    }
    assert!(rate(&treatment, "engagement_rate") > rate(&control, "engagement_rate") + 0.2);
    assert!(
        treatment["engagement_rate"]["low"].as_f64().unwrap()
            > control["engagement_rate"]["high"].as_f64().unwrap(),
        "the intervals do not overlap"
    );
    assert_eq!(results["leader"], json!("treatment"), "{results}");
    let test = &results["test"];
    assert_eq!(test["best"], json!("treatment"));
    assert!(test["z"].as_f64().unwrap() > 3.0, "{test}");
    assert!(test["p_value"].as_f64().unwrap() < test["alpha"].as_f64().unwrap());
    let metrics = app.get("/metrics").await.text;
    for event in ["served", "liked", "disliked"] {
        assert!(
            metrics.contains(&format!("event=\"{event}\"")) && metrics.contains("variant=\"treatment\""),
            "{event}: {metrics}"
        );
    }
}
