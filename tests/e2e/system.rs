use actix_web::http::Method;
use genonaut_tests::TestApp;
use serde_json::{Value, json};

#[actix_web::test]
async fn root_and_legacy_health_are_constant() {
    let app = TestApp::spawn().await;
    let root = app.get("/").await.expect(200);
    assert!(root["message"].as_str().unwrap().contains("Genonaut API"));
    assert_eq!(root["docs"], json!("/docs"));
    let legacy = app.get("/health").await.expect(200);
    assert_eq!(legacy["status"], json!("healthy"));
}

#[actix_web::test]
async fn health_reports_the_database_and_a_timestamp() {
    let app = TestApp::spawn().await;
    let health = app.get("/api/v1/health").await.expect(200);
    assert_eq!(health["status"], json!("healthy"));
    assert_eq!(health["database"]["status"], json!("connected"));
    assert_eq!(health["error"], Value::Null);
    let ts = health["timestamp"].as_str().unwrap();
    assert!(ts.len() >= 19 && !ts.ends_with('Z') && !ts.contains('+'), "{ts}");
}

#[actix_web::test]
async fn start_up_without_a_database_fails_with_a_message_naming_database_url() {
    let db = genonaut_db::testing::TestDb::new().await;
    let mut config = TestApp::config(&db);
    config.database.url =
        secrecy::SecretString::from("postgres://postgres:secret@127.0.0.1:1/none".to_owned());
    let err = match genonaut::Application::build(config).await {
        Ok(_) => panic!("start-up must fail without a database"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("DATABASE_URL"),
        "the message names DATABASE_URL: {err}"
    );
    assert!(!err.contains("secret"), "the password is redacted: {err}");
}

#[actix_web::test]
async fn databases_and_schemas_list_what_is_served() {
    let app = TestApp::spawn().await;
    let name = app.schema().to_string();
    let dbs = app.get("/api/v1/databases").await.expect(200);
    assert_eq!(
        dbs,
        json!({"available_databases": [name], "current_database": name})
    );
    let schemas = app.get("/api/v1/schemas").await.expect(200);
    assert_eq!(schemas["default"], json!(name));
    assert_eq!(schemas["schemas"][0]["name"], json!(name));
    assert_eq!(schemas["schemas"][0]["is_default"], json!(true));
    assert!(schemas["schemas"][0]["migration_version"].is_string());
}

#[actix_web::test]
async fn an_unknown_schema_header_is_a_400_naming_the_served_ones() {
    let app = TestApp::spawn().await;
    let reply = app
        .send(
            Method::GET,
            "/api/v1/users",
            None,
            &[("X-Genonaut-Schema", "nope")],
        )
        .await;
    let detail = reply.detail(400);
    assert_eq!(
        detail,
        format!("Unknown schema 'nope'; available: {}", app.schema())
    );
    // An empty value names no schema either (the document declares the served names).
    let empty = app
        .send(Method::GET, "/api/v1/users", None, &[("X-Genonaut-Schema", "")])
        .await;
    assert_eq!(
        empty.detail(400),
        format!("Unknown schema ''; available: {}", app.schema())
    );
    let ok = app
        .send(
            Method::GET,
            "/api/v1/users",
            None,
            &[("X-Genonaut-Schema", app.schema().as_str())],
        )
        .await;
    ok.expect(200);
}

#[actix_web::test]
async fn global_stats_are_integers_and_count_everything() {
    let app = TestApp::spawn().await;
    let u = app.user("stats_user").await;
    let c = app.content(u, "Counted", "text", &[]).await;
    app.interact(u, c, "view", None).await;
    app.recommend(u, c, 0.5).await;
    app.job(u, "text").await;
    let stats = app.get("/api/v1/stats/global").await.expect(200);
    for (k, v) in stats.as_object().unwrap() {
        assert!(v.is_i64() && v.as_i64().unwrap() >= 0, "{k} = {v}");
    }
    assert_eq!(stats["total_users"], json!(1));
    assert_eq!(stats["total_content"], json!(1));
    assert_eq!(stats["public_content"], json!(1));
    assert_eq!(stats["total_interactions"], json!(1));
    assert_eq!(stats["unserved_recommendations"], json!(1));
    assert_eq!(stats["total_generation_jobs"], json!(1));
}

#[actix_web::test]
async fn unknown_paths_wrong_methods_and_head() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get("/api/v1/nonexistent").await.expect(404),
        json!({"detail": "Not Found"})
    );
    assert_eq!(
        app.send(Method::PATCH, "/api/v1/users", None, &[])
            .await
            .expect(405),
        json!({"detail": "Method Not Allowed"})
    );
    assert_eq!(
        app.get("/api/v1/content/1/quality").await.expect(405),
        json!({"detail": "Method Not Allowed"})
    );
    // RFC 9110 §15.5.6: a 405 says which methods the resource has (HEAD wherever GET is).
    let trace = app.send(Method::TRACE, "/api/v1/health", None, &[]).await;
    assert_eq!(trace.status.as_u16(), 405);
    assert_eq!(
        trace.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, HEAD")
    );
    let put_only = app
        .send(Method::GET, "/api/v1/content/1/quality", None, &[])
        .await;
    assert_eq!(
        put_only.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("PUT")
    );
    let head = app.send(Method::HEAD, "/api/v1/users", None, &[]).await;
    assert_eq!((head.status.as_u16(), head.text.as_str()), (200, ""));
    let get = app.send(Method::GET, "/api/v1/users", None, &[]).await;
    assert_eq!(
        head.headers.get("content-length"),
        get.headers.get("content-length"),
        "HEAD announces the length GET sends"
    );
    assert_ne!(get.text.len(), 0);
}

#[actix_web::test]
async fn both_trailing_slash_spellings_are_served_directly() {
    let app = TestApp::spawn().await;
    let created = app
        .post(
            "/api/v1/users/",
            json!({"username": "slash", "email": "slash@example.com"}),
        )
        .await
        .expect(201);
    let id = created["id"].as_i64().unwrap();
    app.get("/api/v1/users").await.expect(200);
    app.get("/api/v1/users/").await.expect(200);
    app.get(&format!("/api/v1/users/{id}/")).await.expect(200);
    app.get(&format!("/api/v1/users/{id}")).await.expect(200);
    // Repeated slashes are one; the query string survives the rewrite.
    let named = app.get(&format!("/api/v1//users//{id}//")).await.expect(200);
    assert_eq!(named["username"], "slash");
    let page = app.get("/api/v1/users/?skip=0&limit=1").await.expect(200);
    assert_eq!(page["limit"], 1);
    let bad = app.get("/api/v1/users/?limit=0").await.expect(422);
    assert_eq!(bad["detail"][0]["loc"], json!(["query", "limit"]));
}

#[actix_web::test]
async fn cors_allows_any_origin_with_credentials() {
    let app = TestApp::spawn().await;
    let simple = app
        .send(
            Method::GET,
            "/api/v1/health",
            None,
            &[("Origin", "https://ui.example")],
        )
        .await;
    assert_eq!(
        simple.headers.get("access-control-allow-origin").unwrap(),
        "https://ui.example"
    );
    assert_eq!(
        simple.headers.get("access-control-allow-credentials").unwrap(),
        "true"
    );
    let preflight = app
        .send(
            Method::OPTIONS,
            "/api/v1/users",
            None,
            &[
                ("Origin", "https://ui.example"),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
        )
        .await;
    assert_eq!(preflight.status.as_u16(), 200);
    assert_eq!(preflight.headers.get("access-control-max-age").unwrap(), "600");
    assert!(
        preflight
            .headers
            .get("access-control-allow-methods")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("POST")
    );
}

#[actix_web::test]
async fn the_demo_data_set_is_seeded_once_into_an_empty_schema() {
    let db = genonaut_db::testing::TestDb::new().await;
    let mut config = TestApp::config(&db);
    config.seed_demo = Some(db.schema.clone());
    let started = std::time::Instant::now();
    let app = genonaut::Application::build(config.clone()).await.unwrap();
    let first_start = started.elapsed();
    drop(app);
    let app = genonaut::Application::build(config).await.unwrap();
    drop(app);
    let client = db.client().await;
    let count = |table: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    assert_eq!(count("users").await, 60, "seeded once, not twice");
    assert!(count("content_items").await >= 1000);
    assert!(count("user_interactions").await >= 10_000);
    let types = client
        .query_one("SELECT count(DISTINCT content_type) FROM content_items", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(types, 4);
    eprintln!("first start with seeding: {first_start:?}");
}

#[actix_web::test]
async fn every_demo_item_with_media_is_served_with_its_content_type() {
    let media = std::env::temp_dir().join(format!(
        "genonaut-demo-media-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let app = TestApp::spawn_with(Box::new({
        let dir = media.clone();
        move |c| {
            c.seed_demo = Some(c.database.default_schema.clone());
            c.jobs.media_dir = dir;
        }
    }))
    .await;
    let rows = app
        .db
        .client()
        .await
        .query(
            "SELECT content_type, content_data FROM content_items WHERE content_type <> 'text' ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.len() > 500, "{} media items", rows.len());
    for row in &rows {
        let (kind, path): (String, String) = (row.get(0), row.get(1));
        let reply = app.get(&path).await;
        assert_eq!(reply.status.as_u16(), 200, "{path}");
        let mime = reply
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let expected = match kind.as_str() {
            "image" => "image/png",
            "video" => "image/apng",
            _ => "audio/wav",
        };
        assert_eq!(mime, expected, "{path}");
    }
    let (files, bytes) = walk(&media);
    assert_eq!(files, rows.len(), "one file per demo media item, nothing else");
    eprintln!("demo media: {files} files, {bytes} bytes");
    let _ = std::fs::remove_dir_all(&media);
}

fn walk(dir: &std::path::Path) -> (usize, u64) {
    fn fail<T>(e: std::io::Error) -> T {
        panic!("reading the media directory: {e}")
    }
    std::fs::read_dir(dir)
        .unwrap_or_else(fail)
        .fold((0, 0), |(n, b), e| {
            let e = e.unwrap_or_else(fail);
            if e.file_type().unwrap_or_else(fail).is_dir() {
                let (n2, b2) = walk(&e.path());
                (n + n2, b + b2)
            } else {
                (n + 1, b + e.metadata().unwrap_or_else(fail).len())
            }
        })
}
