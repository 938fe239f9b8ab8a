//! `just bench-queue` — the generation-job queue, measured.
//!
//! 1. Throughput: N jobs enqueued in a fresh schema, drained by the real runner over the real
//!    PostgreSQL queue with a no-op generator, at 1, 2 and 4 workers (each claims in batches).
//!    A job counts when its content item is stored and the job is `completed`.
//! 2. The same with webhooks on: every job has a webhook (its `completed` event goes to the
//!    outbox in the job's own transaction) and the real delivery loop posts them, signed, to a
//!    local receiver. Reported: jobs/s of the queue (the ratio to (1) is the cost of the outbox)
//!    and the time until the receiver has every delivery. (1) and (2) alternate
//!    `BENCH_ROUNDS` times (default 3) per worker count; the ratio reported is the median of
//!    each round's on/off ratio.
//! 3. Latency: the real server (2 workers, no-op generator) and a WebSocket client: time from
//!    the enqueue request to the `completed` event arriving on the socket, p50/p99.
//! 4. Outage: the receiver is down (nothing listening) for `BENCH_OUTAGE_SECS` (default 60;
//!    0 skips) while 100 jobs complete; after it comes back, every `webhook-id` must arrive —
//!    the run fails otherwise — and the time it took and the attempts are reported.
//!
//!     cargo run --release -p genonaut-tests --bin bench-queue -- [jobs] [latency-samples]

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: fail loudly")]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use genonaut_db::testing::TestDb;
use genonaut_domain::ids::JobId;
use genonaut_domain::model::{DeliveryPolicy, JobType, JsonObject, NewJob, NewUser, Webhook, WebhookSecret};
use genonaut_domain::ports::{Clock, OsEntropy, RetryPolicy, SystemClock};
use genonaut_domain::services::WebhookDeliverer;
use genonaut_domain::values::{Email, Username};
use genonaut_jobs::media::FsMediaStore;
use genonaut_jobs::offline::NoopGenerator;
use genonaut_jobs::runner::{Runner, RunnerConfig, SchemaQueue};
use genonaut_jobs::webhooks::{HyperSender, WebhookTenant, WebhookWorker, WebhookWorkerConfig};
use genonaut_tests::TestApp;
use serde_json::{Value, json};

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(values, 0.5)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A webhook receiver on loopback: a minimal HTTP/1.1 responder (keep-alive, `Content-Length`
/// bodies) that records each distinct `webhook-id` and answers 204. It shares the two cores
/// with what is measured, so it does as little as a receiver can (an actix-web server here
/// cost more instructions per request than the delivery itself), on a thread of its own (a
/// receiver is another process; on the benchmark's single-threaded runtime its work queued
/// behind the runner's). It can be stopped and started again on the same port (an outage).
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<HashSet<String>>>,
    accept: Option<tokio::task::JoinHandle<()>>,
    /// Taken on drop (a runtime cannot be dropped on the benchmark's own).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Receiver {
    async fn start() -> Receiver {
        let mut receiver = Receiver {
            addr: "127.0.0.1:0".parse().unwrap(),
            seen: Arc::default(),
            accept: None,
            runtime: Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap(),
            ),
        };
        receiver.up().await;
        receiver
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().unwrap()
    }

    async fn up(&mut self) {
        let addr = self.addr;
        let listener = self
            .runtime()
            .spawn(async move { tokio::net::TcpListener::bind(addr).await.unwrap() })
            .await
            .unwrap();
        self.addr = listener.local_addr().unwrap();
        let seen = self.seen.clone();
        self.accept = Some(self.runtime().spawn(async move {
            // Dropped (aborted) with the accept task: every connection closes with it.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                if let Ok((stream, _)) = listener.accept().await {
                    connections.spawn(answer(stream, seen.clone()));
                }
                while connections.try_join_next().is_some() {}
            }
        }));
    }

    async fn down(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
            let _ = accept.await;
        }
    }

    fn received(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// Waits until `count` distinct deliveries arrived (or `limit` passed); how long it took.
    async fn until(&self, count: usize, limit: Duration) -> Duration {
        let started = Instant::now();
        while self.received() < count && started.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        started.elapsed()
    }
}

/// Answers the requests of one connection with 204 until it closes.
async fn answer(stream: tokio::net::TcpStream, seen: Arc<Mutex<HashSet<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    let mut line = String::new();
    loop {
        let (mut id, mut length) = (None, 0usize);
        loop {
            line.clear();
            if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("webhook-id") {
                    id = Some(value.trim().to_owned());
                } else if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if read.read_exact(&mut body).await.is_err() {
            return;
        }
        if let Some(id) = id {
            seen.lock().unwrap().insert(id);
        }
        if write.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.is_err() {
            return;
        }
    }
}

/// `name` from the environment, else `default`.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The delivery loop over one schema, as the binary wires it (default policy and settings).
fn webhook_worker(db: &TestDb, hub: &genonaut_db::EventHub) -> Arc<WebhookWorker> {
    let secret = WebhookSecret::generate(&OsEntropy).unwrap();
    let policy = DeliveryPolicy::default();
    let hub = hub.clone();
    let worker = WebhookWorker::new(
        vec![WebhookTenant {
            name: db.schema.to_string(),
            deliverer: WebhookDeliverer::new(
                db.repositories().webhooks,
                Arc::new(HyperSender::new(policy.timeout, true).unwrap()),
                Arc::new(SystemClock),
                Arc::new(OsEntropy),
                WebhookSecret::parse(&secret).unwrap(),
                policy,
            ),
        }],
        Arc::new(move || hub.webhook_signal()),
        WebhookWorkerConfig {
            tasks: env_or("BENCH_HOOK_TASKS", WebhookWorkerConfig::default().tasks),
            batch: env_or("BENCH_HOOK_BATCH", WebhookWorkerConfig::default().batch),
            ..WebhookWorkerConfig::default()
        },
    );
    worker.start();
    worker
}

/// What one drain of the queue came to.
struct Drained {
    /// Jobs completed per second.
    rate: f64,
    /// With webhooks: from the start until the receiver had every delivery.
    delivered_after: Option<Duration>,
}

/// `jobs` pending text jobs of one user in a fresh schema, each with a webhook to `webhook` if
/// given; their ids.
async fn seeded(db: &TestDb, jobs: usize, webhook: Option<String>) -> Vec<JobId> {
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
    futures_util::stream::iter(0..jobs)
        .map(|i| {
            let jobs = repos.jobs.clone();
            let webhook = webhook.as_ref().map(|url| Webhook::parse(url, None).unwrap());
            async move {
                let new = NewJob {
                    user_id: user.id,
                    job_type: JobType::Text,
                    prompt: format!("job {i}"),
                    parameters: JsonObject::new(),
                    priority: 0,
                    start_deadline_seconds: None,
                    timeout_seconds: None,
                    webhook,
                };
                jobs.insert(new, now).await.unwrap().id
            }
        })
        .buffer_unordered(4)
        .collect()
        .await
}

/// The real runner over `db`'s queue with the no-op generator, woken by `hub`.
fn runner(db: &TestDb, hub: &genonaut_db::EventHub, config: RunnerConfig) -> Arc<Runner> {
    let hub = hub.clone();
    Runner::new(
        vec![SchemaQueue {
            name: db.schema.to_string(),
            queue: db.repositories().queue,
            events: None,
            recommender: None,
            interactions: None,
        }],
        Arc::new(NoopGenerator),
        Arc::new(FsMediaStore::new(std::env::temp_dir())),
        Arc::new(SystemClock),
        Arc::new(move || hub.signal()),
        config,
    )
}

async fn throughput(jobs: usize, workers: usize, batch: usize, receiver: Option<&Receiver>) -> Drained {
    let db = TestDb::new().await;
    let repos = db.repositories();
    seeded(&db, jobs, receiver.map(Receiver::url)).await;
    let hub = genonaut_db::EventHub::start(&db.url).unwrap();
    let runner = runner(
        &db,
        &hub,
        RunnerConfig {
            workers,
            batch,
            poll: Duration::from_millis(50),
            retry: RetryPolicy::default(),
            ..RunnerConfig::default()
        },
    );
    let already = receiver.map_or(0, Receiver::received);
    let started = Instant::now();
    let hooks = receiver.map(|_| webhook_worker(&db, &hub));
    // Whether any job is left, by the queue's partial indexes: O(1) however long the queue is.
    // (Counting the queue every 5 ms instead read every pending row each time — up to 1,300
    // rows per job drained at 10,000 jobs — PostgreSQL CPU taken from what is measured.)
    let client = db.client().await;
    let busy = client
        .prepare(
            "SELECT EXISTS (SELECT 1 FROM generation_jobs WHERE status = 'pending') \
                 OR EXISTS (SELECT 1 FROM generation_jobs WHERE status = 'running')",
        )
        .await
        .unwrap();
    runner.start();
    while client.query_one(&busy, &[]).await.unwrap().get::<_, bool>(0) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let delivered_after = match receiver {
        Some(r) => {
            r.until(already + jobs, Duration::from_secs(120)).await;
            assert_eq!(r.received(), already + jobs, "every job's webhook arrived");
            Some(started.elapsed())
        }
        None => None,
    };
    runner.shutdown().await;
    if let Some(hooks) = hooks {
        hooks.shutdown().await;
    }
    let done = repos.content.stats().await.unwrap().total as usize;
    assert_eq!(done, jobs, "every job produced its content item");
    Drained {
        rate: jobs as f64 / elapsed.as_secs_f64(),
        delivered_after,
    }
}

/// Section 4: jobs complete while the receiver is down for `outage`; every delivery must
/// arrive after it is back. Returns (time after it came back until the last arrived,
/// deliveries, attempts).
async fn outage(jobs: usize, outage: Duration) -> (Duration, usize, i64) {
    let mut receiver = Receiver::start().await;
    receiver.down().await;
    let db = TestDb::new().await;
    let repos = db.repositories();
    let ids = seeded(&db, jobs, Some(receiver.url())).await;
    let hub = genonaut_db::EventHub::start(&db.url).unwrap();
    let runner = runner(&db, &hub, RunnerConfig::default());
    let hooks = webhook_worker(&db, &hub);
    runner.start();
    tokio::time::sleep(outage).await;
    assert_eq!(
        receiver.received(),
        0,
        "nothing arrives while the receiver is down"
    );
    receiver.up().await;
    let took = receiver.until(jobs, Duration::from_secs(600)).await;
    runner.shutdown().await;
    hooks.shutdown().await;
    receiver.down().await;
    let mut failed_attempts = 0;
    let mut delivered = 0;
    for job in ids {
        for d in repos.webhooks.deliveries(job).await.unwrap() {
            failed_attempts += i64::from(d.attempts) - 1;
            delivered += usize::from(d.status == genonaut_domain::model::DeliveryStatus::Delivered);
        }
    }
    assert_eq!(
        receiver.received(),
        jobs,
        "every webhook-id arrived after the outage"
    );
    assert_eq!(delivered, jobs, "every delivery is recorded as delivered");
    (took, jobs, failed_attempts)
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
    let batch: usize = env_or("BENCH_BATCH", 32);
    let outage_secs: u64 = env_or("BENCH_OUTAGE_SECS", 60);
    let receiver = Receiver::start().await;
    let rounds: usize = env_or("BENCH_ROUNDS", 3).max(1);
    println!("queue throughput: {jobs} jobs, no-op generator, claim batch {batch}, {rounds} rounds");
    println!(
        "{:<8} {:>6} {:>9} {:>10} {:>22}",
        "workers", "round", "webhooks", "jobs/s", "all delivered after s"
    );
    let workers: String = env_or("BENCH_WORKERS", "1,2,4".to_owned());
    let mut summary = Vec::new();
    for workers in workers.split(',').map(|w| w.trim().parse::<usize>().unwrap()) {
        // Off and on alternate, so a slow spell of the machine weighs on both columns.
        let (mut plain, mut hooked, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 1..=rounds {
            let off = throughput(jobs, workers, batch, None).await;
            println!("{workers:<8} {round:>6} {:>9} {:>10.0}", "off", off.rate);
            let on = throughput(jobs, workers, batch, Some(&receiver)).await;
            println!(
                "{workers:<8} {round:>6} {:>9} {:>10.0} {:>22.2}",
                "on",
                on.rate,
                on.delivered_after.unwrap_or_default().as_secs_f64()
            );
            ratios.push(on.rate / off.rate);
            plain.push(off.rate);
            hooked.push(on.rate);
        }
        summary.push((workers, median(&mut plain), median(&mut hooked), ratios));
    }
    println!("medians: workers, jobs/s, with webhooks, ratio of each round's pair (median)");
    for (workers, plain, hooked, mut ratios) in summary {
        let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "{workers:<8} {plain:>10.0} {hooked:>10.0}   ratio {:.2} ({})",
            median(&mut ratios),
            each.join(" / ")
        );
    }
    let (p50, p99, mean) = latency(samples).await;
    println!("enqueue -> 'completed' on the WebSocket, {samples} jobs one at a time, 2 workers:");
    println!("p50 {p50:.1} ms   p99 {p99:.1} ms   mean {mean:.1} ms");
    if outage_secs > 0 {
        let (took, deliveries, retries) = outage(100, Duration::from_secs(outage_secs)).await;
        println!(
            "receiver down {outage_secs} s while 100 jobs completed: all {deliveries} webhook-ids arrived \
             {:.1} s after it came back ({retries} failed attempts retried, none lost)",
            took.as_secs_f64()
        );
    }
}
