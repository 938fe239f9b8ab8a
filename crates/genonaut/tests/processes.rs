//! Several real `genonaut` processes cooperating through PostgreSQL alone.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use genonaut_db::testing::TestDb;
use serde_json::{Value, json};

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn genonaut(db: &TestDb, data: &std::path::Path, args: &[&str], env: &[(&str, String)]) -> Process {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genonaut"));
    cmd.args(args)
        .env("DATABASE_URL", &db.url)
        .env("GENONAUT_SCHEMAS", db.schema.as_str())
        .env("GENONAUT_DEFAULT_SCHEMA", db.schema.as_str())
        .env("GENONAUT_SEED_DEMO", "false")
        .env("GENONAUT_PRIVATE_POSTGRES", "never")
        .env("GENONAUT_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .env("API_WORKERS", "1")
        .env("API_AUTH", "off")
        .env("RATE_LIMIT_PER_IP", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Process(cmd.spawn().expect("genonaut starts"))
}

async fn api(db: &TestDb, data: &std::path::Path) -> (Process, String) {
    let port = free_port();
    let process = genonaut(
        db,
        data,
        &["serve"],
        &[("API_PORT", port.to_string()), ("GENONAUT_WORKERS", "0".into())],
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(res) = client.get(format!("{base}/api/v1/health")).send().await
            && res.status().is_success()
        {
            return (process, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the API process did not become healthy");
}

async fn post(base: &str, path: &str, body: Value) -> Value {
    let mut res = awc::Client::default()
        .post(format!("{base}{path}"))
        .send_json(&body)
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

async fn get(base: &str, path: &str) -> Value {
    awc::Client::default()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Collects a job's socket messages until the server closes it.
async fn watch(base: &str, job: i64) -> Vec<Value> {
    let url = format!("{}/ws/generation/{job}", base.replace("http://", "ws://"));
    let (_, mut socket) = awc::Client::default().ws(url).connect().await.unwrap();
    let mut messages = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .expect("socket closes within 60 s")
        {
            Some(Ok(awc::ws::Frame::Text(bytes))) => messages.push(serde_json::from_slice(&bytes).unwrap()),
            Some(Ok(awc::ws::Frame::Close(_))) | None => return messages,
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("socket error: {e}"),
        }
    }
}

#[actix_web::test]
async fn two_api_processes_and_one_worker_process_share_one_job() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let (_api1, one) = api(&db, data.path()).await;
    let (_api2, two) = api(&db, data.path()).await;
    let _worker = genonaut(&db, data.path(), &["worker"], &[("GENONAUT_WORKERS", "1".into())]);
    let user = post(
        &one,
        "/api/v1/users",
        json!({"username": "multi", "email": "multi@example.com"}),
    )
    .await;
    let job = post(
        &one,
        "/api/v1/generation-jobs",
        json!({"user_id": user["id"], "job_type": "text", "prompt": "two listeners",
        "parameters": {"paragraphs": 3, "step_delay_ms": 300}}),
    )
    .await;
    let id = job["id"].as_i64().unwrap();
    let (seen_one, seen_two) = futures_util::join!(watch(&one, id), watch(&two, id));
    for seen in [&seen_one, &seen_two] {
        assert_eq!(seen[0]["type"], json!("snapshot"));
        assert_eq!(seen.last().unwrap()["type"], json!("completed"), "{seen:?}");
        assert!(
            seen.iter().any(|m| m["type"] == json!("progress")),
            "live progress from the worker process"
        );
    }
    let done = get(&two, &format!("/api/v1/generation-jobs/{id}")).await;
    assert_eq!(done["status"], json!("completed"));
}

#[actix_web::test]
async fn a_killed_worker_loses_its_job_and_another_completes_it_exactly_once() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let (_api, base) = api(&db, data.path()).await;
    let fast_lease = [
        ("GENONAUT_WORKERS", "1".to_string()),
        ("GENONAUT_LEASE_SECS", "3".into()),
        ("GENONAUT_RETRY_BASE_SECS", "1".into()),
    ];
    let mut doomed = genonaut(&db, data.path(), &["worker"], &fast_lease);
    let user = post(
        &base,
        "/api/v1/users",
        json!({"username": "crash", "email": "crash@example.com"}),
    )
    .await;
    let job = post(
        &base,
        "/api/v1/generation-jobs",
        json!({"user_id": user["id"], "job_type": "text", "prompt": "survive a crash",
        "parameters": {"paragraphs": 3, "step_delay_ms": 1000}}),
    )
    .await;
    let id = job["id"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&base, &format!("/api/v1/generation-jobs/{id}")).await["status"] != json!("running") {
        assert!(
            Instant::now() < deadline,
            "the first worker never started the job"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();
    let _rescuer = genonaut(&db, data.path(), &["worker"], &fast_lease);
    let messages = watch(&base, id).await;
    assert_eq!(
        messages.last().unwrap()["type"],
        json!("completed"),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m["type"] == json!("retrying")),
        "the lease expired and the job was retried"
    );
    let done = get(&base, &format!("/api/v1/generation-jobs/{id}")).await;
    assert_eq!(
        (done["status"].clone(), done["attempts"].clone()),
        (json!("completed"), json!(2))
    );
    let items = post(
        &base,
        "/api/v1/content/search",
        json!({"metadata_filter": {"job_id": id}}),
    )
    .await;
    assert_eq!(items["total"], json!(1), "exactly one content item for the job");
}

#[test]
fn webhooks_secret_prints_a_fresh_usable_secret() {
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_genonaut"))
            .args(["webhooks", "secret"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let (a, b) = (run(), run());
    assert!(a.starts_with("whsec_"), "{a}");
    assert_ne!(a, b);
    assert!(genonaut_domain::model::WebhookSecret::parse(&a).is_ok());
}
