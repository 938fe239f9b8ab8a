//! Signed webhooks of generation jobs, end to end: a real local receiver (a small HTTP/1.1
//! server on a std `TcpListener`) gets each job's events, signed, in order, retried with the
//! same `webhook-id`; refused submissions store nothing.
#![expect(clippy::expect_used, reason = "test: failures must be loud")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use genonaut_domain::model::{DeliveryPolicy, WebhookSecret};
use genonaut_tests::{TestApp, Tweak, with_workers};
use serde_json::{Value, json};

const JOBS: &str = "/api/v1/generation-jobs";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

/// A receiver answering by path: `/gone…` 410, `/flaky…` 500 on the first request of each
/// `webhook-id` and 200 after, anything else 200.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let port = listener.local_addr().expect("receiver address").port();
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        Receiver { port, got }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().expect("receiver log").clone()
    }
}

fn serve(stream: std::net::TcpStream, log: &Mutex<Vec<Received>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let received = Received {
            path: path.clone(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let status = {
            let mut log = log.lock().expect("receiver log");
            let seen = log
                .iter()
                .filter(|r| r.headers.get("webhook-id") == received.headers.get("webhook-id"))
                .count();
            log.push(received);
            if path.starts_with("/gone") {
                "410 Gone"
            } else if path.starts_with("/flaky") && seen == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            }
        };
        let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok");
        if reader.get_mut().write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Workers, a signing secret, private targets allowed, quick retries.
fn with_webhooks(allow_private: bool) -> Tweak {
    let workers = with_workers(1);
    Box::new(move |c| {
        workers(c);
        c.jobs.webhooks.secret = Some(WebhookSecret::parse(SECRET).expect("test secret"));
        c.jobs.webhooks.allow_private = allow_private;
        c.jobs.webhooks.policy = DeliveryPolicy {
            base: Duration::from_millis(50),
            ..DeliveryPolicy::default()
        };
    })
}

async fn deliveries(app: &TestApp, job: i64) -> Vec<Value> {
    app.get(&format!("{JOBS}/{job}/webhook-deliveries"))
        .await
        .expect(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until the job's deliveries number `count` and none is pending.
async fn settled(app: &TestApp, job: i64, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let items = deliveries(app, job).await;
        if items.len() == count && items.iter().all(|d| d["status"] != "pending") {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries of job {job} not settled: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn verify(r: &Received) {
    let secret = WebhookSecret::parse(SECRET).expect("test secret");
    let id = &r.headers["webhook-id"];
    let timestamp: i64 = r.headers["webhook-timestamp"].parse().expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 300);
    assert_eq!(
        r.headers["webhook-signature"],
        secret.sign(id, timestamp, &r.body),
        "{r:?}"
    );
    assert_eq!(r.headers["content-type"], "application/json");
}

#[actix_web::test]
async fn events_are_delivered_signed_in_order_and_retried_with_the_same_webhook_id() {
    let receiver = Receiver::start();
    let app = TestApp::spawn_with(with_webhooks(true)).await;
    let u = app.user("hooked").await;
    let create = |path: &str, events: Option<Value>| {
        let mut body = json!({"user_id": u, "job_type": "text", "prompt": "a quiet lake",
                              "webhook": receiver.url(path)});
        if let Some(events) = events {
            body["webhook_events_filter"] = events;
        }
        body
    };
    let every = app
        .post(
            JOBS,
            create("/ok", Some(json!(["started", "progress", "completed"]))),
        )
        .await
        .expect(201);
    assert_eq!(every["webhook"], json!(receiver.url("/ok")));
    assert_eq!(
        every["webhook_events_filter"],
        json!(["started", "progress", "completed"])
    );
    let flaky = app.post(JOBS, create("/flaky", None)).await.expect(201);
    assert_eq!(
        flaky["webhook_events_filter"],
        json!(["completed", "failed", "cancelled"])
    );
    let gone = app.post(JOBS, create("/gone", None)).await.expect(201);
    let plain = app
        .post(
            JOBS,
            json!({"user_id": u, "job_type": "text", "prompt": "no hook"}),
        )
        .await
        .expect(201);
    assert_eq!(plain["webhook"], Value::Null);
    assert_eq!(plain["webhook_events_filter"], Value::Null);
    let [every, flaky, gone] = [&every, &flaky, &gone].map(|j| j["id"].as_i64().expect("job id"));

    // Every event of `every`'s kinds, in seq order, each exactly the socket's message.
    let (messages, _) = app.watch(every, "?since=0").await;
    let wanted: Vec<&Value> = messages
        .iter()
        .filter(|m| ["started", "progress", "completed"].contains(&m["type"].as_str().unwrap_or_default()))
        .collect();
    let listed = settled(&app, every, wanted.len()).await;
    assert!(
        listed
            .iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 1)
    );
    let got: Vec<Received> = receiver
        .received()
        .into_iter()
        .filter(|r| r.path == "/ok")
        .collect();
    assert_eq!(got.len(), wanted.len(), "each delivered once: {got:?}");
    for ((r, message), listed) in got.iter().zip(&wanted).zip(&listed) {
        verify(r);
        let body: Value = serde_json::from_str(&r.body).expect("JSON body");
        assert_eq!(&body, *message);
        assert_eq!(body["seq"], listed["seq"]);
        assert_eq!(
            r.headers["webhook-id"],
            listed["webhook_id"].as_str().unwrap_or_default()
        );
    }
    let seqs: Vec<i64> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).expect("JSON")["seq"]
                .as_i64()
                .unwrap_or(0)
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "out of order: {seqs:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&got.last().expect("a delivery").body).expect("JSON")["type"],
        "completed"
    );

    // 500, then 200: retried with the same webhook-id.
    let listed = settled(&app, flaky, 1).await;
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["attempts"], 2);
    assert_eq!(listed[0]["last_status_code"], 200);
    let got: Vec<Received> = receiver
        .received()
        .into_iter()
        .filter(|r| r.path == "/flaky")
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    assert_eq!(got[0].body, got[1].body);
    got.iter().for_each(verify);

    // 410 ends it as failed, after one attempt.
    let listed = settled(&app, gone, 1).await;
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["last_status_code"], 410);
    assert_eq!(listed[0]["next_attempt_at"], Value::Null);
    assert_eq!(
        receiver.received().iter().filter(|r| r.path == "/gone").count(),
        1
    );

    assert!(
        deliveries(&app, plain["id"].as_i64().unwrap_or(0))
            .await
            .is_empty()
    );
    app.get(&format!("{JOBS}/99999/webhook-deliveries"))
        .await
        .expect(404);
    let metrics = app.get("/metrics").await.text;
    assert!(
        metrics.contains("genonaut_webhook_deliveries_total{outcome=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("genonaut_webhook_attempts_total{outcome=\"retrying\"} 1"),
        "{metrics}"
    );
}

async fn job_count(app: &TestApp) -> i64 {
    app.get(JOBS).await.expect(200)["total"].as_i64().unwrap_or(-1)
}

fn detail_of(reply: genonaut_tests::Reply) -> (String, String) {
    let body = reply.expect(422);
    let item = &body["detail"][0];
    let loc = item["loc"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|p| p.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default();
    (loc, item["msg"].as_str().unwrap_or_default().to_owned())
}

#[actix_web::test]
async fn refused_webhooks_are_422_and_store_nothing() {
    let app = TestApp::spawn_with(with_webhooks(false)).await;
    let u = app.user("refused").await;
    let job = |extra: Value| {
        let mut body = json!({"user_id": u, "job_type": "text", "prompt": "p"});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        body
    };
    let cases = [
        (
            json!({"webhook": "not a url"}),
            "body.webhook",
            "invalid webhook URL",
        ),
        (
            json!({"webhook": "ftp://example.com/x"}),
            "body.webhook",
            "http or https",
        ),
        (
            json!({"webhook": "/relative"}),
            "body.webhook",
            "invalid webhook URL",
        ),
        (
            json!({"webhook": "http://127.0.0.1:9/x"}),
            "body.webhook",
            "loopback",
        ),
        (
            json!({"webhook": "http://localhost:9/x"}),
            "body.webhook",
            "loopback",
        ),
        (
            json!({"webhook": "http://169.254.169.254/latest"}),
            "body.webhook",
            "link-local",
        ),
        (json!({"webhook": "http://10.0.0.8/x"}), "body.webhook", "private"),
        (json!({"webhook": "http://[::1]/x"}), "body.webhook", "loopback"),
        (
            json!({"webhook": "http://100.64.1.1/x"}),
            "body.webhook",
            "carrier-grade NAT",
        ),
        (
            json!({"webhook": "https://example.com/h", "webhook_events_filter": ["completed", "finished"]}),
            "body.webhook_events_filter",
            "unknown webhook event 'finished'",
        ),
        (
            json!({"webhook": "https://example.com/h", "webhook_events_filter": ["queued"]}),
            "body.webhook_events_filter",
            "unknown webhook event 'queued'",
        ),
        (
            json!({"webhook_events_filter": ["completed"]}),
            "body.webhook_events_filter",
            "needs a webhook",
        ),
    ];
    for (extra, loc, message) in cases {
        let reply = app.post(JOBS, job(extra.clone())).await;
        let (got_loc, msg) = detail_of(reply);
        assert_eq!(got_loc, loc, "{extra}");
        assert!(msg.contains(message), "{extra}: {msg}");
    }
    let wrong_type = app.post(JOBS, job(json!({"webhook": 5}))).await.problems();
    assert_eq!(wrong_type[0].1, "body.webhook");
    assert_eq!(job_count(&app).await, 0);

    // Without a signing secret no webhook is accepted.
    let bare = TestApp::spawn().await;
    let u = bare.user("bare").await;
    let reply = bare
        .post(
            JOBS,
            json!({"user_id": u, "job_type": "text", "prompt": "p", "webhook": "https://example.com/h"}),
        )
        .await;
    let (loc, msg) = detail_of(reply);
    assert_eq!(loc, "body.webhook");
    assert!(msg.contains("webhooks are not configured"), "{msg}");
    assert_eq!(job_count(&bare).await, 0);
}
