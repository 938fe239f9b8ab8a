//! The webhook outbox in PostgreSQL: rows written by the event's own statement (only for the
//! kinds a job asked for), claims in `seq` order per job, `SKIP LOCKED` between deliverers.

use std::sync::Arc;

use chrono::NaiveDate;
use genonaut_db::testing::TestDb;
use genonaut_domain::ids::JobId;
use genonaut_domain::model::*;
use genonaut_domain::ports::{AttemptRecord, Clock};
use genonaut_domain::services::{Services, StatusChange};
use genonaut_domain::testing::FixedClock;
use genonaut_domain::values::{Email, Username};

fn ts() -> Timestamp {
    NaiveDate::from_ymd_opt(2025, 3, 1)
        .and_then(|d| d.and_hms_micro_opt(10, 0, 0, 0))
        .unwrap()
}

async fn setup() -> (TestDb, Services, Arc<FixedClock>, genonaut_domain::ids::UserId) {
    let db = TestDb::new().await;
    let clock = Arc::new(FixedClock::at(ts()));
    let services = Services::new(db.repositories(), clock.clone());
    let user = services
        .users
        .create(NewUser {
            username: Username::parse("hooks").unwrap(),
            email: Email::parse("hooks@example.com").unwrap(),
            preferences: JsonObject::new(),
        })
        .await
        .unwrap()
        .id;
    (db, services, clock, user)
}

async fn job(
    services: &Services,
    user: genonaut_domain::ids::UserId,
    webhook: Option<Webhook>,
) -> GenerationJob {
    services
        .jobs
        .create(NewJob {
            user_id: user,
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

async fn set(services: &Services, id: JobId, status: JobStatus) {
    services
        .jobs
        .set_status(
            id,
            StatusChange {
                status,
                error_message: None,
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn outbox_rows_are_written_with_their_events_only_for_the_kinds_asked_for() {
    let (db, services, _, user) = setup().await;
    let hook = Webhook::parse(
        "https://example.com/h",
        Some(&["started".into(), "completed".into()]),
    )
    .unwrap();
    let hooked = job(&services, user, Some(hook.clone())).await;
    assert_eq!(hooked.webhook.as_ref(), Some(&hook));
    assert_eq!(services.jobs.get(hooked.id).await.unwrap().webhook, Some(hook));
    let plain = job(&services, user, None).await;
    assert_eq!(plain.webhook, None);
    for id in [hooked.id, plain.id] {
        set(&services, id, JobStatus::Running).await;
        set(&services, id, JobStatus::Pending).await;
        set(&services, id, JobStatus::Completed).await;
    }
    let listed = services.jobs.webhook_deliveries(hooked.id).await.unwrap();
    let kinds: Vec<(JobEventKind, i64)> = listed.iter().map(|d| (d.event, d.seq)).collect();
    // queued (1) is not asked for, started (2) is, queued again (3) is not, completed (4) is.
    assert_eq!(
        kinds,
        vec![(JobEventKind::Started, 2), (JobEventKind::Completed, 4)]
    );
    assert!(
        listed
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending && d.attempts == 0)
    );
    assert!(listed[0].webhook_id.starts_with("msg_"));
    assert_ne!(listed[0].webhook_id, listed[1].webhook_id);
    assert!(
        services
            .jobs
            .webhook_deliveries(plain.id)
            .await
            .unwrap()
            .is_empty()
    );
    let client = db.client().await;
    let rows: i64 = client
        .query_one("SELECT count(*) FROM webhook_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 2);
    // Each delivery's event exists, with the same kind.
    let joined: i64 = client
        .query_one(
            "SELECT count(*) FROM webhook_deliveries d JOIN job_events e USING (job_id, seq) \
             WHERE e.event_type = d.event_type",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(joined, 2);
    assert!(matches!(
        services.jobs.webhook_deliveries(JobId(999_999)).await,
        Err(genonaut_domain::DomainError::NotFound(_))
    ));
}

#[tokio::test]
async fn claims_go_in_seq_order_per_job_and_skip_locked_rows() {
    let (db, services, clock, user) = setup().await;
    let outbox = db.repositories().webhooks;
    let every = || {
        Webhook::parse(
            "https://example.com/h",
            Some(&["started".into(), "completed".into(), "cancelled".into()]),
        )
        .unwrap()
    };
    let a = job(&services, user, Some(every())).await;
    let b = job(&services, user, Some(every())).await;
    for id in [a.id, b.id] {
        set(&services, id, JobStatus::Running).await;
        set(&services, id, JobStatus::Completed).await;
    }
    let now = clock.now() + chrono::Duration::seconds(1);
    let hold = now + chrono::Duration::seconds(60);
    // One per job: each job's `started`.
    let first = outbox.claim(now, hold, 10).await.unwrap();
    let mut got: Vec<(i64, JobEventKind, i32)> = first
        .iter()
        .map(|d| (d.event.job_id.0, d.event.kind, d.attempts))
        .collect();
    got.sort_unstable();
    assert_eq!(
        got,
        vec![
            (a.id.0, JobEventKind::Started, 1),
            (b.id.0, JobEventKind::Started, 1)
        ]
    );
    assert_eq!(first[0].url, "https://example.com/h");
    assert_eq!(first[0].event.message()["type"], "started");
    // Claimed rows are hidden until the hold ends, and the next of each job waits.
    assert!(outbox.claim(now, hold, 10).await.unwrap().is_empty());
    let a_started = first.iter().find(|d| d.event.job_id == a.id).unwrap();
    outbox
        .finish(&[(
            a_started.key(),
            AttemptRecord {
                status: DeliveryStatus::Delivered,
                last_status: Some(200),
                last_error: None,
                next_attempt_at: None,
                delivered_at: Some(now),
            },
        )])
        .await
        .unwrap();
    let next = outbox.claim(now, hold, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].event.job_id, next[0].event.kind),
        (a.id, JobEventKind::Completed)
    );
    // After the hold, b's `started` is due again (a deliverer died mid-attempt): attempt 2.
    let after = hold + chrono::Duration::seconds(1);
    let mut locker = db.client().await;
    let tx = locker.transaction().await.unwrap();
    // Another deliverer holds b's row: it is skipped, not waited for.
    tx.execute(
        "SELECT seq FROM webhook_deliveries WHERE job_id = $1 AND seq = 2 FOR UPDATE",
        &[&i32::try_from(b.id.0).unwrap()],
    )
    .await
    .unwrap();
    let skipped = outbox.claim(after, after, 10).await.unwrap();
    assert!(
        skipped.iter().all(|d| d.event.job_id != b.id),
        "a locked row was claimed: {skipped:?}"
    );
    tx.rollback().await.unwrap();
    // Held for a day: only recording the attempt ends the hold.
    let retried = outbox
        .claim(after, after + chrono::Duration::days(1), 10)
        .await
        .unwrap();
    let b_started = retried.iter().find(|d| d.event.job_id == b.id).unwrap();
    assert_eq!(
        (b_started.event.kind, b_started.attempts),
        (JobEventKind::Started, 2)
    );
    assert_eq!(
        b_started.webhook_id,
        first.iter().find(|d| d.event.job_id == b.id).unwrap().webhook_id
    );

    // Several attempts are recorded in one step, each as its own record says.
    let a_completed = retried.iter().find(|d| d.event.job_id == a.id).unwrap();
    let later = after + chrono::Duration::seconds(30);
    outbox
        .finish(&[
            (
                b_started.key(),
                AttemptRecord {
                    status: DeliveryStatus::Pending,
                    last_status: Some(503),
                    last_error: Some("HTTP 503".into()),
                    next_attempt_at: Some(later),
                    delivered_at: None,
                },
            ),
            (
                a_completed.key(),
                AttemptRecord {
                    status: DeliveryStatus::Failed,
                    last_status: Some(410),
                    last_error: Some("HTTP 410".into()),
                    next_attempt_at: None,
                    delivered_at: None,
                },
            ),
        ])
        .await
        .unwrap();
    let b_rows = outbox.deliveries(b.id).await.unwrap();
    assert_eq!(
        (b_rows[0].status, b_rows[0].last_status, b_rows[0].next_attempt_at),
        (DeliveryStatus::Pending, Some(503), Some(later))
    );
    let a_rows = outbox.deliveries(a.id).await.unwrap();
    let completed = a_rows
        .iter()
        .find(|d| d.event == JobEventKind::Completed)
        .unwrap();
    assert_eq!(
        (completed.status, completed.last_error.as_deref()),
        (DeliveryStatus::Failed, Some("HTTP 410"))
    );
    // Recording the attempt ended its hold: the retry is due at its time, not before.
    let before = later - chrono::Duration::seconds(1);
    assert!(
        outbox
            .claim(before, before, 10)
            .await
            .unwrap()
            .iter()
            .all(|d| d.event.job_id != b.id)
    );
    let third = outbox.claim(later, later, 10).await.unwrap();
    assert_eq!(
        third
            .iter()
            .map(|d| (d.event.job_id, d.event.kind, d.attempts))
            .collect::<Vec<_>>(),
        vec![(b.id, JobEventKind::Started, 3)]
    );
}

#[tokio::test]
async fn the_claim_planned_on_an_empty_outbox_probes_each_job_by_its_key() {
    // The claim is a prepared statement with a generic plan, made once per connection — on a
    // new install, while the outbox is empty. That plan must not depend on the statistics:
    // the in-order check probes `(job_id, seq)` of the one job, never the due index (a scan
    // of every pending delivery for each due one).
    let db = TestDb::new().await;
    let (settings, claim) = genonaut_db::testing::webhook_claim_sql();
    let mut client = db.client().await;
    let tx = client.transaction().await.unwrap();
    tx.execute(settings, &[]).await.unwrap();
    tx.batch_execute(&format!("PREPARE claim AS {claim}"))
        .await
        .unwrap();
    let plan: Vec<String> = tx
        .query(
            "EXPLAIN EXECUTE claim(now()::timestamp, now()::timestamp, 32, now()::timestamp)",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect();
    // Ended before asserting: the schema is dropped on the test's thread after it.
    tx.rollback().await.unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("using ix_webhook_deliveries_due on webhook_deliveries d"),
        "due rows come from the due index in order:\n{plan}"
    );
    assert!(
        plan.contains("using webhook_deliveries_pkey on webhook_deliveries e"),
        "the in-order check probes the job's key:\n{plan}"
    );
    assert!(
        !plan.contains("ix_webhook_deliveries_due on webhook_deliveries e"),
        "the in-order check must not scan the due index:\n{plan}"
    );
    assert!(plan.contains("Limit"), "the scan stops at the limit:\n{plan}");
}
