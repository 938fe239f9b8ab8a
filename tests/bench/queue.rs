//! `just bench-queue` — the generation-job queue, measured.
//!
//! 1. Throughput: N jobs enqueued in a fresh schema, drained by the real runner over the real
//!    PostgreSQL queue with a no-op generator, at 1, 2 and 4 workers (each claims in batches).
//!    A job counts when its content item is stored and the job is `completed`.
//! 2. Latency: the real server (2 workers, no-op generator) and a WebSocket client: time from
//!    the enqueue request to the `completed` event arriving on the socket, p50/p99.
//!
//!     cargo run --release -p genonaut-tests --bin bench-queue -- [jobs] [latency-samples]

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: fail loudly")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use genonaut_db::testing::TestDb;
use genonaut_domain::model::{JobType, JsonObject, NewJob, NewUser};
use genonaut_domain::ports::{Clock, RetryPolicy, SystemClock};
use genonaut_domain::values::{Email, Username};
use genonaut_jobs::media::FsMediaStore;
use genonaut_jobs::offline::NoopGenerator;
use genonaut_jobs::runner::{Runner, RunnerConfig, SchemaQueue};
use genonaut_tests::TestApp;
use serde_json::{Value, json};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn throughput(jobs: usize, workers: usize, batch: usize) -> f64 {
    let db = TestDb::new().await;
    let repos = db.repositories();
    let user = repos
        .users
        .insert(
            NewUser {
                username: Username::parse("bench").unwrap(),
                email: Email::parse("b@example.com").unwrap(),
                preferences: JsonObject::new(),
            },
            SystemClock.now(),
        )
        .await
        .unwrap();
    let now = SystemClock.now();
    let inserts = futures_util::stream::iter(0..jobs)
        .map(|i| {
            let jobs = repos.jobs.clone();
            async move {
                let new = NewJob {
                    user_id: user.id,
                    job_type: JobType::Text,
                    prompt: format!("job {i}"),
                    parameters: JsonObject::new(),
                    priority: 0,
                    start_deadline_seconds: None,
                    timeout_seconds: None,
                    webhook: None,
                };
                jobs.insert(new, now).await.unwrap();
            }
        })
        .buffer_unordered(4);
    inserts.collect::<Vec<_>>().await;
    let hub = genonaut_db::EventHub::start(&db.url).unwrap();
    let tenant = SchemaQueue {
        name: db.schema.to_string(),
        queue: repos.queue.clone(),
        events: None,
        recommender: None,
        interactions: None,
    };
    let signal_hub = hub.clone();
    let runner = Runner::new(
        vec![tenant],
        Arc::new(NoopGenerator),
        Arc::new(FsMediaStore::new(std::env::temp_dir())),
        Arc::new(SystemClock),
        Arc::new(move || signal_hub.signal()),
        RunnerConfig {
            workers,
            batch,
            poll: Duration::from_millis(50),
            retry: RetryPolicy::default(),
            ..RunnerConfig::default()
        },
    );
    let started = Instant::now();
    runner.start();
    loop {
        let (pending, running) = repos.jobs.queue_counts().await.unwrap();
        if pending == 0 && running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    runner.shutdown().await;
    let done = repos.content.stats().await.unwrap().total as usize;
    assert_eq!(done, jobs, "every job produced its content item");
    jobs as f64 / elapsed.as_secs_f64()
}

async fn latency(samples: usize) -> (f64, f64, f64) {
    let app = TestApp::spawn_with(Box::new(|c| {
        c.jobs.workers = 2;
        c.jobs.generator = genonaut::config::GeneratorKind::Noop;
    }))
    .await;
    let user = app.user("latency").await;
    let ws = app.address.replace("http://", "ws://");
    let client = awc::Client::default();
    let mut millis = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t0 = Instant::now();
        let job = app
            .post(
                "/api/v1/generation-jobs",
                json!({"user_id": user, "job_type": "text", "prompt": "ping"}),
            )
            .await
            .expect(201);
        let (_, mut socket) = client
            .ws(format!("{ws}/ws/generation/{}?since=0", job["id"]))
            .connect()
            .await
            .unwrap();
        while let Some(Ok(frame)) = socket.next().await {
            if let awc::ws::Frame::Text(bytes) = frame {
                let message: Value = serde_json::from_slice(&bytes).unwrap();
                if message["type"] == json!("completed") {
                    millis.push(t0.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
            }
        }
    }
    millis.sort_by(f64::total_cmp);
    (
        percentile(&millis, 0.5),
        percentile(&millis, 0.99),
        millis.iter().sum::<f64>() / millis.len() as f64,
    )
}

#[actix_web::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let jobs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let samples: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let batch: usize = std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(32);
    println!("queue throughput: {jobs} jobs, no-op generator, claim batch {batch}");
    println!("{:<8} {:>10}", "workers", "jobs/s");
    for workers in [1, 2, 4] {
        let rate = throughput(jobs, workers, batch).await;
        println!("{workers:<8} {rate:>10.0}");
    }
    let (p50, p99, mean) = latency(samples).await;
    println!("enqueue -> 'completed' on the WebSocket, {samples} jobs one at a time, 2 workers:");
    println!("p50 {p50:.1} ms   p99 {p99:.1} ms   mean {mean:.1} ms");
}
