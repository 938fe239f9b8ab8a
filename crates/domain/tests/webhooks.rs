//! Webhook rules: signing (a Standard Webhooks test vector), targets, the retry schedule, what
//! ends a delivery, and the deliverer over the in-memory outbox with a scripted sender.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use genonaut_domain::model::*;
use genonaut_domain::ports::{Clock, HttpSender, WebhookRequest};
use genonaut_domain::services::{AttemptOutcome, Services, StatusChange, WebhookDeliverer};
use genonaut_domain::testing::{FixedClock, InMemoryStore, NoEntropy, SeqEntropy};
use genonaut_domain::values::{Email, Username};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn signs_like_the_standard_webhooks_reference() {
    // The specification's reference libraries' test vector.
    let secret = WebhookSecret::parse(SECRET).unwrap();
    assert_eq!(
        secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
    assert_ne!(
        secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_331,
            r#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[test]
fn secrets_are_whsec_base64_and_never_shown() {
    assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
    assert!(WebhookSecret::parse("whsec_not base64!").is_err());
    assert!(
        WebhookSecret::parse("whsec_c2hvcnQ=").is_err(),
        "5 bytes is too short"
    );
    let entropy = SeqEntropy::seeded(3);
    let fresh = WebhookSecret::generate(&entropy).unwrap();
    assert!(fresh.starts_with("whsec_"));
    let parsed = WebhookSecret::parse(&fresh).unwrap();
    assert_eq!(format!("{parsed:?}"), "WebhookSecret(***)");
    assert_ne!(WebhookSecret::generate(&entropy).unwrap(), fresh);
    assert!(
        WebhookSecret::generate(&NoEntropy).is_err(),
        "no secret without randomness"
    );
}

#[test]
fn webhooks_parse_urls_and_event_filters() {
    let w = Webhook::parse("https://example.com/hook?x=1", None).unwrap();
    assert_eq!(w.url, "https://example.com/hook?x=1");
    assert_eq!(w.events, DEFAULT_WEBHOOK_EVENTS.to_vec());
    let w = Webhook::parse(
        "http://example.com:8080",
        Some(&["completed".into(), "started".into(), "completed".into()]),
    )
    .unwrap();
    assert_eq!(w.events, vec![JobEventKind::Started, JobEventKind::Completed]);
    assert_eq!(w.target().unwrap().port, 8080);
    for bad in [
        "",
        "example.com/hook",
        "/relative",
        "ftp://example.com/x",
        "http://",
        "https://exa mple.com",
    ] {
        assert!(Webhook::parse(bad, None).is_err(), "{bad} accepted");
    }
    let long = format!("https://example.com/{}", "a".repeat(MAX_WEBHOOK_URL_LEN));
    assert!(Webhook::parse(&long, None).is_err());
    for unknown in ["queued", "retrying", "COMPLETED", "done"] {
        let err = Webhook::parse("https://example.com", Some(&[unknown.into()])).unwrap_err();
        assert!(err.to_string().contains("webhook_events_filter"), "{err}");
    }
    assert!(Webhook::parse("https://example.com", Some(&[])).is_err());
}

#[test]
fn internal_addresses_are_forbidden() {
    let forbidden = [
        "127.0.0.1",
        "127.9.9.9",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "100.127.255.255",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ];
    for ip in forbidden {
        assert!(
            forbidden_address(ip.parse::<IpAddr>().unwrap()).is_some(),
            "{ip} allowed"
        );
    }
    let allowed = [
        "93.184.215.14",
        "8.8.8.8",
        "172.32.0.1",
        "100.128.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
    ];
    for ip in allowed {
        assert!(
            forbidden_address(ip.parse::<IpAddr>().unwrap()).is_none(),
            "{ip} refused"
        );
    }
    let target = Webhook::parse("http://[::1]:9000/x", None)
        .unwrap()
        .target()
        .unwrap();
    assert_eq!(target.literal_ip(), Some("::1".parse().unwrap()));
    assert_eq!((target.host.as_str(), target.port), ("::1", 9000));
    let https = WebhookTarget::parse("https://hooks.example.com/x").unwrap();
    assert_eq!((https.host.as_str(), https.port), ("hooks.example.com", 443));

    let ips = |list: &[&str]| {
        list.iter()
            .map(|ip| ip.parse::<IpAddr>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(refusal(ips(&["8.8.8.8", "2606:4700::1111"])), None);
    let message = refusal(ips(&["8.8.8.8", "10.0.0.1", "127.0.0.1"])).unwrap();
    assert!(
        message.starts_with("webhook target 10.0.0.1 is a private address"),
        "the first forbidden address is named: {message}"
    );
}

fn policy() -> DeliveryPolicy {
    DeliveryPolicy::default()
}

#[test]
fn backoff_doubles_from_five_seconds_up_to_an_hour_with_jitter() {
    let p = policy();
    let secs = |attempts, jitter| p.backoff(attempts, jitter).as_secs_f64();
    assert_eq!(secs(1, 0.5), 5.0);
    assert_eq!(secs(2, 0.5), 10.0);
    assert_eq!(secs(3, 0.5), 20.0);
    assert_eq!(secs(10, 0.5), 2560.0);
    assert_eq!(secs(11, 0.5), 3600.0);
    assert_eq!(secs(500, 0.5), 3600.0);
    assert_eq!(secs(1, 0.0), 3.75);
    assert_eq!(secs(1, 0.999_999), 6.249_997_5);
    // About 30–45 attempts keep retrying for 24 hours (hourly once the cap is reached).
    let mut total = 0.0;
    let mut attempts = 0;
    while total < 24.0 * 3600.0 {
        attempts += 1;
        total += secs(attempts, 0.0);
    }
    assert!((30..45).contains(&attempts), "{attempts} attempts");
}

#[test]
fn what_ends_a_delivery() {
    let p = policy();
    let created = FixedClock::default().now();
    let now = created + chrono::Duration::seconds(10);
    let response = |status| AttemptResult::Response {
        status,
        retry_after: None,
    };
    for status in [200, 201, 204, 299] {
        assert_eq!(
            p.decide(&response(status), 1, created, now, 0.5),
            DeliveryDecision::Delivered
        );
    }
    for status in [301, 302, 400, 401, 404, 410, 422] {
        assert_eq!(
            p.decide(&response(status), 1, created, now, 0.5),
            DeliveryDecision::Failed,
            "{status}"
        );
    }
    assert_eq!(
        p.decide(&AttemptResult::Forbidden("loopback".into()), 1, created, now, 0.5),
        DeliveryDecision::Failed
    );
    let in_5s = DeliveryDecision::Retry(now + chrono::Duration::seconds(5));
    for status in [429, 500, 502, 503] {
        assert_eq!(
            p.decide(&response(status), 1, created, now, 0.5),
            in_5s,
            "{status}"
        );
    }
    assert_eq!(
        p.decide(&AttemptResult::Network("refused".into()), 1, created, now, 0.5),
        in_5s
    );
    // Retry-After is honoured when longer than the backoff, capped at an hour.
    let later = |secs| AttemptResult::Response {
        status: 429,
        retry_after: Some(Duration::from_secs(secs)),
    };
    assert_eq!(
        p.decide(&later(120), 1, created, now, 0.5),
        DeliveryDecision::Retry(now + chrono::Duration::seconds(120))
    );
    assert_eq!(p.decide(&later(1), 1, created, now, 0.5), in_5s);
    assert_eq!(
        p.decide(&later(86_400), 1, created, now, 0.5),
        DeliveryDecision::Retry(now + chrono::Duration::seconds(3600))
    );
    // Retries go on for 24 hours, then the next failure ends it.
    let almost = created + chrono::Duration::hours(24) - chrono::Duration::seconds(1);
    assert!(matches!(
        p.decide(&response(503), 30, created, almost, 0.5),
        DeliveryDecision::Retry(_)
    ));
    let day = created + chrono::Duration::hours(24);
    assert_eq!(
        p.decide(&response(503), 31, created, day, 0.5),
        DeliveryDecision::Failed
    );
    assert_eq!(
        p.decide(&response(200), 31, created, day, 0.5),
        DeliveryDecision::Delivered
    );
}

/// A sender answering from a script (then 200), recording every request.
#[derive(Default)]
struct ScriptedSender {
    replies: Mutex<VecDeque<AttemptResult>>,
    sent: Mutex<Vec<WebhookRequest>>,
}

#[async_trait]
impl HttpSender for ScriptedSender {
    async fn send(&self, request: &WebhookRequest) -> AttemptResult {
        self.sent.lock().unwrap().push(request.clone());
        self.replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(AttemptResult::Response {
                status: 200,
                retry_after: None,
            })
    }
}

struct Fixture {
    services: Services,
    deliverer: WebhookDeliverer,
    sender: Arc<ScriptedSender>,
    clock: Arc<FixedClock>,
    user: genonaut_domain::ids::UserId,
}

async fn fixture() -> Fixture {
    let store = InMemoryStore::new();
    let clock = Arc::new(FixedClock::default());
    let services = Services::new(store.repositories(), clock.clone());
    let sender = Arc::new(ScriptedSender::default());
    let deliverer = WebhookDeliverer::new(
        store.repositories().webhooks,
        sender.clone(),
        clock.clone(),
        Arc::new(SeqEntropy::seeded(11)),
        WebhookSecret::parse(SECRET).unwrap(),
        DeliveryPolicy::default(),
    );
    let user = services
        .users
        .create(NewUser {
            username: Username::parse("hooked").unwrap(),
            email: Email::parse("hooked@example.com").unwrap(),
            preferences: JsonObject::new(),
        })
        .await
        .unwrap()
        .id;
    Fixture {
        services,
        deliverer,
        sender,
        clock,
        user,
    }
}

impl Fixture {
    async fn job(&self, webhook: Option<Webhook>) -> GenerationJob {
        self.services
            .jobs
            .create(NewJob {
                user_id: self.user,
                job_type: JobType::Text,
                prompt: "a poem".into(),
                parameters: JsonObject::new(),
                priority: 0,
                start_deadline_seconds: None,
                timeout_seconds: None,
                webhook,
            })
            .await
            .unwrap()
    }

    async fn set(&self, job: &GenerationJob, status: JobStatus) {
        self.services
            .jobs
            .set_status(
                job.id,
                StatusChange {
                    status,
                    error_message: (status == JobStatus::Failed).then(|| "boom".into()),
                },
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn only_the_filtered_events_of_jobs_with_a_webhook_are_delivered_signed() {
    let f = fixture().await;
    let plain = f.job(None).await;
    let hooked = f
        .job(Some(Webhook::parse("https://example.com/hook", None).unwrap()))
        .await;
    assert_eq!(
        hooked.webhook.as_ref().unwrap().events,
        DEFAULT_WEBHOOK_EVENTS.to_vec()
    );
    for job in [&plain, &hooked] {
        f.set(job, JobStatus::Running).await;
        f.set(job, JobStatus::Completed).await;
    }
    let done = f.deliverer.deliver_due(10).await.unwrap();
    assert_eq!(done.len(), 1, "only the hooked job's completion");
    assert_eq!(done[0].1, AttemptOutcome::Delivered);
    let sent = f.sender.sent.lock().unwrap().clone();
    let request = &sent[0];
    assert_eq!(request.url, "https://example.com/hook");
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["type"], "completed");
    assert_eq!(body["job_id"], hooked.id.0);
    let expected = WebhookSecret::parse(SECRET)
        .unwrap()
        .sign(&request.id, request.timestamp, &request.body);
    assert_eq!(request.signature, expected);
    let listed = f.services.jobs.webhook_deliveries(hooked.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, DeliveryStatus::Delivered);
    assert_eq!(listed[0].webhook_id, request.id);
    assert_eq!(listed[0].last_status, Some(200));
    assert!(
        f.services
            .jobs
            .webhook_deliveries(plain.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        f.deliverer.deliver_due(10).await.unwrap().is_empty(),
        "delivered once"
    );
}

#[tokio::test]
async fn retries_keep_the_webhook_id_and_a_job_is_delivered_in_order() {
    let f = fixture().await;
    let every = Webhook::parse(
        "https://example.com/hook",
        Some(&["started".into(), "completed".into()]),
    )
    .unwrap();
    let job = f.job(Some(every)).await;
    f.set(&job, JobStatus::Running).await;
    f.set(&job, JobStatus::Completed).await;
    f.sender.replies.lock().unwrap().extend([
        AttemptResult::Response {
            status: 500,
            retry_after: None,
        },
        AttemptResult::Network("connection refused".into()),
    ]);
    // `started` fails; `completed` must wait for it.
    let first = f.deliverer.deliver_due(10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0.event.kind, JobEventKind::Started);
    assert_eq!(first[0].1, AttemptOutcome::Retrying);
    assert!(
        f.deliverer.deliver_due(10).await.unwrap().is_empty(),
        "not due yet"
    );
    let listed = f.services.jobs.webhook_deliveries(job.id).await.unwrap();
    assert_eq!(listed[0].last_status, Some(500));
    assert_eq!(listed[0].last_error.as_deref(), Some("HTTP 500"));
    assert!(listed[0].next_attempt_at.is_some());
    f.clock.advance(chrono::Duration::minutes(1));
    let second = f.deliverer.deliver_due(10).await.unwrap();
    assert_eq!(
        (second[0].0.event.kind, second[0].1),
        (JobEventKind::Started, AttemptOutcome::Retrying)
    );
    f.clock.advance(chrono::Duration::minutes(1));
    let third = f.deliverer.deliver_due(10).await.unwrap();
    assert_eq!(
        (third[0].0.event.kind, third[0].1),
        (JobEventKind::Started, AttemptOutcome::Delivered)
    );
    let fourth = f.deliverer.deliver_due(10).await.unwrap();
    assert_eq!(
        (fourth[0].0.event.kind, fourth[0].1),
        (JobEventKind::Completed, AttemptOutcome::Delivered)
    );
    let sent = f.sender.sent.lock().unwrap().clone();
    let ids: Vec<&str> = sent.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    assert_ne!(ids[2], ids[3]);
    let listed = f.services.jobs.webhook_deliveries(job.id).await.unwrap();
    assert_eq!(listed[0].attempts, 3);
    assert_eq!(listed[1].attempts, 1);
}

#[tokio::test]
async fn a_client_error_ends_a_delivery_as_failed_and_the_next_one_proceeds() {
    let f = fixture().await;
    let job = f
        .job(Some(
            Webhook::parse(
                "https://example.com/gone",
                Some(&["started".into(), "failed".into()]),
            )
            .unwrap(),
        ))
        .await;
    f.set(&job, JobStatus::Running).await;
    f.set(&job, JobStatus::Failed).await;
    f.sender
        .replies
        .lock()
        .unwrap()
        .push_back(AttemptResult::Response {
            status: 410,
            retry_after: None,
        });
    let first = f.deliverer.deliver_due(10).await.unwrap();
    assert_eq!(first[0].1, AttemptOutcome::Failed);
    let second = f.deliverer.deliver_due(10).await.unwrap();
    assert_eq!(
        (second[0].0.event.kind, second[0].1),
        (JobEventKind::Failed, AttemptOutcome::Delivered)
    );
    let listed = f.services.jobs.webhook_deliveries(job.id).await.unwrap();
    assert_eq!(listed[0].status, DeliveryStatus::Failed);
    assert_eq!(listed[0].last_status, Some(410));
    assert_eq!(listed[0].next_attempt_at, None);
}
