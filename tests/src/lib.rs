//! Test harness: the real [`Application`] listening on a free port, backed by a fresh,
//! migrated PostgreSQL schema that is dropped afterwards. Tests talk HTTP to it like any
//! client.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test harness: failures must be loud"
)]

use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::{Method, StatusCode};
use genonaut::Application;
use genonaut::config::{Config, DatabaseConfig, PrivatePostgres};
use genonaut_db::testing::TestDb;
use genonaut_db::{PoolSettings, SchemaName};
use secrecy::SecretString;
use serde_json::{Value, json};

pub mod comfyui;

/// A running application over its own schema.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The schema (dropped with the app).
    pub db: TestDb,
    handle: ServerHandle,
    client: awc::Client,
}

/// A response: status, headers, JSON body (`Null` if the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: actix_web::http::header::HeaderMap,
    /// Parsed body.
    pub body: Value,
    /// Raw body.
    pub text: String,
}

impl Reply {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self.body
    }

    /// The `detail` string of an error body.
    #[track_caller]
    pub fn detail(self, status: u16) -> String {
        let body = self.expect(status);
        body["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("detail is not a string: {body}"))
            .to_owned()
    }

    /// The `type`s of a 422 validation list, with their locations.
    #[track_caller]
    pub fn problems(self) -> Vec<(String, String)> {
        let body = self.expect(422);
        body["detail"]
            .as_array()
            .unwrap_or_else(|| panic!("detail is not a list: {body}"))
            .iter()
            .map(|p| {
                let loc: Vec<String> = p["loc"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.to_string().trim_matches('"').to_owned())
                    .collect();
                (p["type"].as_str().unwrap().to_owned(), loc.join("."))
            })
            .collect()
    }
}

/// Adjusts the configuration before the app starts.
pub type Tweak = Box<dyn FnOnce(&mut Config)>;

/// `workers` job workers in the app, with a short step delay so jobs finish quickly.
pub fn with_workers(workers: usize) -> Tweak {
    Box::new(move |c| {
        c.jobs.workers = workers;
        c.jobs.step_delay = std::time::Duration::from_millis(5);
    })
}

impl TestApp {
    /// Starts the app over a fresh schema.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Box::new(|_| {})).await
    }

    /// The configuration the tests start from: one fresh schema, port 0, one worker.
    pub fn config(db: &TestDb) -> Config {
        Config {
            database: DatabaseConfig {
                url: SecretString::from(db.url.clone()),
                schemas: vec![db.schema.clone()],
                default_schema: db.schema.clone(),
                pool: PoolSettings {
                    max_size: 4,
                    ..PoolSettings::default()
                },
                private_postgres: PrivatePostgres::Never,
                data_dir: std::env::temp_dir().join("genonaut-tests"),
            },
            host: "127.0.0.1".into(),
            port: 0,
            workers: Some(1),
            body_limit: 1024 * 1024,
            cors_origins: None,
            auto_migrate: true,
            seed_demo: None,
            shutdown_timeout: Duration::from_secs(1),
            jobs: genonaut::config::JobsConfig {
                workers: 0,
                lease: Duration::from_secs(30),
                retry_base: Duration::from_secs(1),
                shutdown_grace: Duration::from_secs(1),
                max_running_per_user: None,
                generator: genonaut::config::GeneratorKind::Offline,
                step_delay: Duration::ZERO,
                media_dir: std::env::temp_dir().join("genonaut-tests-media"),
                openai: genonaut::config::OpenAiSettings {
                    base_url: "http://127.0.0.1:9/v1".into(),
                    api_key: None,
                    model: "none".into(),
                    image_model: None,
                    timeout: Duration::from_secs(1),
                    max_retries: 0,
                },
                comfyui: genonaut::config::ComfyUiSettings {
                    url: "http://127.0.0.1:9".into(),
                    workflows: std::path::PathBuf::from("examples/comfyui"),
                    timeout: Duration::from_secs(5),
                    max_retries: 0,
                    retry_base: Duration::from_millis(10),
                },
                recs_refresh: None,
                recs_check: Duration::from_millis(50),
                webhooks: genonaut::config::WebhooksConfig::default(),
            },
            embed: genonaut::config::EmbedConfig {
                poll: Duration::from_millis(100),
                ..genonaut::config::EmbedConfig::default()
            },
            auth: false,
            key_cache: Duration::ZERO,
            per_key: None,
            per_ip: None,
            request_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(30),
            media_key: Some(SecretString::from("test media key")),
            media_url_ttl: Duration::from_secs(3600),
        }
    }

    /// Starts the app with a tweaked configuration.
    pub async fn spawn_with(tweak: Tweak) -> TestApp {
        let db = TestDb::new().await;
        let mut config = TestApp::config(&db);
        tweak(&mut config);
        let app = Application::build(config).await.expect("the application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
        TestApp {
            address,
            db,
            handle,
            client,
        }
    }

    /// The API keys of this app's store (to make keys for requests), as the server keeps them.
    pub fn keys(&self) -> genonaut_domain::services::KeyService {
        genonaut_domain::services::KeyService::new(
            std::sync::Arc::new(genonaut_db::repos::PgApiKeys::new(self.db.pool.clone())),
            std::sync::Arc::new(genonaut_domain::ports::SystemClock),
            std::sync::Arc::new(genonaut_domain::ports::OsEntropy),
        )
    }

    /// `/ready` once it answers 200 (the event listener connects a moment after start),
    /// failing after 10 s.
    pub async fn ready(&self) -> Value {
        let started = std::time::Instant::now();
        loop {
            let reply = self.get("/ready").await;
            if reply.status == StatusCode::OK || started.elapsed() > Duration::from_secs(10) {
                return reply.expect(200);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The schema this app serves by default.
    pub fn schema(&self) -> &SchemaName {
        &self.db.schema
    }

    /// Sends a request with optional JSON body and extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .expect("request sent");
        let bytes = res.body().limit(64 * 1024 * 1024).await.expect("body read");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// Sends a raw body with a content type.
    pub async fn send_raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let mut res = self
            .client
            .request(method, format!("{}{path}", self.address))
            .insert_header(("Content-Type", content_type))
            .send_body(body)
            .await
            .expect("request sent");
        let bytes = res.body().limit(64 * 1024 * 1024).await.expect("body read");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// `GET`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&body), &[]).await
    }

    /// `POST` without a body.
    pub async fn post_empty(&self, path: &str) -> Reply {
        self.send(Method::POST, path, None, &[]).await
    }

    /// `PUT` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(&body), &[]).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Creates a user `name` (e-mail `name@example.com`); returns its id.
    pub async fn user(&self, name: &str) -> i64 {
        let body = self
            .post(
                "/api/v1/users",
                json!({"username": name, "email": format!("{name}@example.com")}),
            )
            .await
            .expect(201);
        body["id"].as_i64().unwrap()
    }

    /// Creates a public item of `creator` with a title, type and tags; returns its id.
    pub async fn content(&self, creator: i64, title: &str, content_type: &str, tags: &[&str]) -> i64 {
        let body = self
            .post(
                "/api/v1/content",
                json!({"title": title, "content_type": content_type, "content_data": "data", "creator_id": creator,
                       "tags": tags, "item_metadata": {"lang": "en"}}),
            )
            .await
            .expect(201);
        body["id"].as_i64().unwrap()
    }

    /// Records an interaction; returns its id.
    pub async fn interact(&self, user: i64, content: i64, kind: &str, rating: Option<i64>) -> i64 {
        let body = self
            .post(
                "/api/v1/interactions",
                json!({"user_id": user, "content_item_id": content, "interaction_type": kind, "rating": rating}),
            )
            .await
            .expect(201);
        body["id"].as_i64().unwrap()
    }

    /// Stores a recommendation; returns its id.
    pub async fn recommend(&self, user: i64, content: i64, score: f64) -> i64 {
        let body = self
            .post(
                "/api/v1/recommendations",
                json!({"user_id": user, "content_item_id": content, "recommendation_score": score, "algorithm_version": "v1"}),
            )
            .await
            .expect(201);
        body["id"].as_i64().unwrap()
    }

    /// Opens the job's live-status socket and collects its messages until the server closes
    /// it; returns the messages and the close code.
    pub async fn watch(&self, job: i64, query: &str) -> (Vec<Value>, Option<u16>) {
        use futures_util::StreamExt;
        let url = format!(
            "{}/ws/generation/{job}{query}",
            self.address.replace("http://", "ws://")
        );
        let (_, mut socket) = self.client.ws(url).connect().await.expect("websocket connects");
        let mut messages = Vec::new();
        let deadline = tokio_deadline();
        loop {
            let frame = tokio::time::timeout_at(deadline, socket.next())
                .await
                .expect("the socket closes within 30 s");
            match frame {
                Some(Ok(awc::ws::Frame::Text(bytes))) => {
                    messages.push(serde_json::from_slice(&bytes).expect("JSON message"))
                }
                Some(Ok(awc::ws::Frame::Close(reason))) => {
                    return (messages, reason.map(|r| u16::from(r.code)));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("socket error: {e}"),
                None => return (messages, None),
            }
        }
    }

    /// Creates a generation job; returns its id.
    pub async fn job(&self, user: i64, job_type: &str) -> i64 {
        let body = self
            .post(
                "/api/v1/generation-jobs",
                json!({"user_id": user, "job_type": job_type, "prompt": "a quiet lake"}),
            )
            .await
            .expect(201);
        body["id"].as_i64().unwrap()
    }
}

fn tokio_deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(30)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
