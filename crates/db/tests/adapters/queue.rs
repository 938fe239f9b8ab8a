//! The PostgreSQL job queue: claims, leases, fencing, retries, cancellation, events, LISTEN.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use genonaut_db::EventHub;
use genonaut_db::testing::TestDb;
use genonaut_domain::ids::{JobId, UserId};
use genonaut_domain::model::*;
use genonaut_domain::ports::{Clock, Lease, Repositories, RetryPolicy, SubscriptionItem, SystemClock};
use genonaut_domain::values::{Email, Tags, Username};

fn now() -> NaiveDateTime {
    SystemClock.now()
}

async fn with_user(db: &TestDb) -> (Repositories, UserId) {
    let repos = db.repositories();
    let user = repos
        .users
        .insert(
            NewUser {
                username: Username::parse("worker").unwrap(),
                email: Email::parse("w@example.com").unwrap(),
                preferences: JsonObject::new(),
            },
            now(),
        )
        .await
        .unwrap();
    (repos, user.id)
}

async fn enqueue(repos: &Repositories, user: UserId, prompt: &str, priority: i32) -> GenerationJob {
    let new = NewJob {
        user_id: user,
        job_type: JobType::Text,
        prompt: prompt.into(),
        parameters: JsonObject::new(),
        priority,
        start_deadline_seconds: None,
        timeout_seconds: None,
        webhook: None,
    };
    repos.jobs.insert(new, now()).await.unwrap()
}

fn content(user: UserId) -> NewContent {
    NewContent {
        title: "out".into(),
        content_type: ContentType::Text,
        content_data: "generated".into(),
        creator_id: user,
        item_metadata: JsonObject::new(),
        tags: Tags::default(),
        is_public: true,
        is_private: false,
    }
}

const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn claims_follow_priority_then_fifo_and_respect_run_after() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    let a = enqueue(&repos, user, "a", 0).await;
    let b = enqueue(&repos, user, "b", 5).await;
    let c = enqueue(&repos, user, "c", 0).await;
    assert_eq!(
        (a.queue_position, b.queue_position, c.queue_position),
        (Some(1), Some(1), Some(3))
    );
    assert_eq!(
        repos.jobs.get(a.id).await.unwrap().unwrap().queue_position,
        Some(2),
        "b jumped ahead"
    );
    let claimed = repos.queue.claim("w1", 2, LEASE, now(), None).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b.id, a.id]);
    assert!(
        claimed
            .iter()
            .all(|j| j.status == JobStatus::Running && j.attempts == 1 && j.started_at.is_some())
    );
    let read = repos.jobs.get(b.id).await.unwrap().unwrap();
    assert_eq!(
        read.worker_id.as_deref(),
        Some("w1"),
        "a running job names its worker"
    );
    // A failed attempt with a future retry time is not claimable before it.
    let lease = Lease::of(&claimed[0]);
    let later = now() + chrono::Duration::seconds(60);
    assert!(
        repos
            .queue
            .fail(&lease, "busy", Some(later), now())
            .await
            .unwrap()
    );
    let next = repos.queue.claim("w1", 5, LEASE, now(), None).await.unwrap();
    assert_eq!(next.iter().map(|j| j.id).collect::<Vec<_>>(), vec![c.id]);
    let events = repos.job_events.events_since(b.id, 0).await.unwrap();
    let kinds: Vec<JobEventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            JobEventKind::Queued,
            JobEventKind::Started,
            JobEventKind::Retrying
        ]
    );
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(events[1].data["attempt"], serde_json::json!(1));
    assert_eq!(events[2].data["error_message"], serde_json::json!("busy"));
}

#[tokio::test]
async fn concurrent_claimers_never_take_the_same_job() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    for i in 0..200 {
        enqueue(&repos, user, &format!("job {i}"), 0).await;
    }
    let claimers = (0..4).map(|w| {
        let queue = repos.queue.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = queue
                    .claim(&format!("w{w}"), 7, LEASE, now(), None)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|j| j.id));
            }
        })
    });
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.unwrap());
    }
    let distinct: HashSet<JobId> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (200, 200));
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_cannot_write() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    let job = enqueue(&repos, user, "fenced", 0).await;
    let short = Duration::from_millis(1);
    let first = repos
        .queue
        .claim("dead", 1, short, now(), None)
        .await
        .unwrap()
        .remove(0);
    let stale = Lease::of(&first);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let retry = RetryPolicy {
        base: Duration::ZERO,
        max: Duration::ZERO,
    };
    assert_eq!(repos.queue.reap(now(), &retry).await.unwrap(), 1);
    let rescued = repos
        .queue
        .claim("alive", 1, LEASE, now(), None)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(rescued.attempts, 2);
    // The dead worker wakes up: every write is refused, nothing is stored.
    assert!(
        repos
            .queue
            .heartbeat(std::slice::from_ref(&stale), now())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !repos
            .queue
            .progress(
                &stale,
                &Progress {
                    step: 1,
                    total: 2,
                    message: None,
                    preview: None,
                },
                now()
            )
            .await
            .unwrap()
    );
    assert!(
        repos
            .queue
            .complete(&stale, content(user), now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(!repos.queue.fail(&stale, "late", None, now()).await.unwrap());
    assert!(!repos.queue.release(&stale, now()).await.unwrap());
    let stats = repos.content.stats().await.unwrap();
    assert_eq!(stats.total, 0, "the stale completion stored no content");
    // The rescuer completes exactly once.
    let done = repos
        .queue
        .complete(&Lease::of(&rescued), content(user), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Completed);
    assert!(done.result_content_id.is_some());
    assert_eq!(repos.content.stats().await.unwrap().total, 1);
    let again = repos
        .queue
        .complete(&Lease::of(&rescued), content(user), now())
        .await
        .unwrap();
    assert!(again.is_none(), "completing twice stores nothing");
    assert_eq!(
        repos.jobs.get(job.id).await.unwrap().unwrap().status,
        JobStatus::Completed
    );
}

#[tokio::test]
async fn completing_many_links_each_job_to_its_own_item_and_skips_lost_leases() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    for i in 0..4 {
        enqueue(&repos, user, &format!("p{i}"), 0).await;
    }
    let claimed = repos.queue.claim("w", 4, LEASE, now(), None).await.unwrap();
    assert_eq!(claimed.len(), 4);
    let mut completions: Vec<(Lease, NewContent)> = claimed
        .iter()
        .map(|job| {
            let mut c = content(user);
            c.title = format!("result of {}", job.prompt);
            (Lease::of(job), c)
        })
        .collect();
    completions[1].0.attempt += 1; // a lease this worker does not hold
    let done = repos.queue.complete_many(completions, now()).await.unwrap();
    assert_eq!(
        done.iter().map(Option::is_some).collect::<Vec<_>>(),
        [true, false, true, true]
    );
    for (job, result) in claimed.iter().zip(&done) {
        let Some(result) = result else { continue };
        assert_eq!(result.id, job.id, "results come back in input order");
        assert_eq!(result.status, JobStatus::Completed);
        let item = repos
            .content
            .get(result.result_content_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(item.title, format!("result of {}", job.prompt));
        let events = repos.job_events.events_since(job.id, 0).await.unwrap();
        assert_eq!(events.last().unwrap().kind, JobEventKind::Completed);
        assert_eq!(events.last().unwrap().seq, result.event_seq);
    }
    assert_eq!(
        repos.content.stats().await.unwrap().total,
        3,
        "the lost lease stored nothing"
    );
    assert_eq!(
        repos.jobs.get(claimed[1].id).await.unwrap().unwrap().status,
        JobStatus::Running
    );
}

#[tokio::test]
async fn the_reaper_fails_jobs_that_used_every_attempt_and_heartbeats_keep_leases() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    let job = enqueue(&repos, user, "doomed", 0).await;
    let retry = RetryPolicy {
        base: Duration::ZERO,
        max: Duration::ZERO,
    };
    for attempt in 1..=3 {
        let claimed = repos
            .queue
            .claim("w", 1, Duration::from_millis(1), now(), None)
            .await
            .unwrap();
        assert_eq!(claimed[0].attempts, attempt);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(repos.queue.reap(now(), &retry).await.unwrap(), 1);
    }
    let failed = repos.jobs.get(job.id).await.unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(failed.error_message.unwrap().contains("lease expired"));
    // A renewed lease is not reaped.
    let kept = enqueue(&repos, user, "kept", 0).await;
    let claimed = repos
        .queue
        .claim("w", 1, Duration::from_millis(50), now(), None)
        .await
        .unwrap()
        .remove(0);
    let held = repos
        .queue
        .heartbeat(&[Lease::of(&claimed)], now() + chrono::Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(held, vec![Lease::of(&claimed)]);
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(repos.queue.reap(now(), &retry).await.unwrap(), 0);
    assert_eq!(
        repos.jobs.get(kept.id).await.unwrap().unwrap().status,
        JobStatus::Running
    );
}

#[tokio::test]
async fn release_requeues_without_counting_the_attempt_and_retries_back_off() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    let job = enqueue(&repos, user, "released", 0).await;
    let claimed = repos
        .queue
        .claim("w", 1, LEASE, now(), None)
        .await
        .unwrap()
        .remove(0);
    assert!(repos.queue.release(&Lease::of(&claimed), now()).await.unwrap());
    let back = repos.jobs.get(job.id).await.unwrap().unwrap();
    assert_eq!(
        (back.status, back.attempts, back.queue_position),
        (JobStatus::Pending, 0, Some(1))
    );
    let retry = RetryPolicy {
        base: Duration::from_secs(10),
        max: Duration::from_secs(60),
    };
    let claimed = repos
        .queue
        .claim("w", 1, Duration::from_millis(1), now(), None)
        .await
        .unwrap()
        .remove(0);
    tokio::time::sleep(Duration::from_millis(10)).await;
    repos.queue.reap(now(), &retry).await.unwrap();
    assert!(
        repos
            .queue
            .claim("w", 1, LEASE, now(), None)
            .await
            .unwrap()
            .is_empty(),
        "backing off"
    );
    let soon = now() + chrono::Duration::seconds(11);
    let again = repos.queue.claim("w", 1, LEASE, soon, None).await.unwrap();
    assert_eq!(again[0].attempts, claimed.attempts + 1);
}

#[tokio::test]
async fn cancellation_races() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    // Pending: cancelled at once, never claimed.
    let pending = enqueue(&repos, user, "pending", 0).await;
    assert!(
        matches!(repos.jobs.cancel(pending.id, now()).await.unwrap(), CancelOutcome::Cancelled(j) if j.status == JobStatus::Cancelled)
    );
    assert!(
        repos
            .queue
            .claim("w", 5, LEASE, now(), None)
            .await
            .unwrap()
            .is_empty()
    );
    // Running, cancelled before it finishes: the completion is refused, nothing stored.
    let running = enqueue(&repos, user, "running", 0).await;
    let claimed = repos
        .queue
        .claim("w", 1, LEASE, now(), None)
        .await
        .unwrap()
        .remove(0);
    assert!(matches!(
        repos.jobs.cancel(running.id, now()).await.unwrap(),
        CancelOutcome::Cancelled(_)
    ));
    assert!(
        repos
            .queue
            .complete(&Lease::of(&claimed), content(user), now())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(repos.content.stats().await.unwrap().total, 0);
    // Finished before the cancel lands: stays completed.
    let finished = enqueue(&repos, user, "finished", 0).await;
    let claimed = repos
        .queue
        .claim("w", 1, LEASE, now(), None)
        .await
        .unwrap()
        .remove(0);
    repos
        .queue
        .complete(&Lease::of(&claimed), content(user), now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        repos.jobs.cancel(finished.id, now()).await.unwrap(),
        CancelOutcome::AlreadyFinished(JobStatus::Completed)
    );
    assert_eq!(
        repos.jobs.get(finished.id).await.unwrap().unwrap().status,
        JobStatus::Completed
    );
    assert_eq!(
        repos.jobs.cancel(JobId(999_999), now()).await.unwrap(),
        CancelOutcome::NotFound
    );
}

async fn next_event(sub: &mut Box<dyn genonaut_domain::ports::JobSubscription>) -> SubscriptionItem {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an event within 10 s")
        .expect("feed open")
}

async fn connected(hub: &EventHub) {
    for _ in 0..200 {
        if hub.is_connected() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the listener never connected");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_reach_subscribers_and_survive_a_dropped_listener() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    let hub = EventHub::start(&db.url).unwrap();
    connected(&hub).await;
    let job = enqueue(&repos, user, "watched", 0).await;
    let mut sub = hub.source(&db.schema).subscribe(job.id);
    let claimed = repos
        .queue
        .claim("w", 1, LEASE, now(), None)
        .await
        .unwrap()
        .remove(0);
    let SubscriptionItem::Event(started) = next_event(&mut sub).await else {
        panic!("expected an event")
    };
    assert_eq!(
        (started.kind, started.seq, started.job_id),
        (JobEventKind::Started, 2, job.id)
    );
    // Kill the listener's connection: it reconnects and tells subscribers to re-sync.
    let client = db.client().await;
    let killed = client
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            &[&genonaut_db::events::LISTENER_APPLICATION],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert!(killed >= 1);
    let mut resynced = false;
    for _ in 0..3 {
        if next_event(&mut sub).await == SubscriptionItem::Resync {
            resynced = true;
            break;
        }
    }
    assert!(
        resynced,
        "subscribers are told to re-read the log after a reconnect"
    );
    connected(&hub).await;
    repos
        .queue
        .progress(
            &Lease::of(&claimed),
            &Progress {
                step: 1,
                total: 2,
                message: None,
                preview: None,
            },
            now(),
        )
        .await
        .unwrap();
    repos
        .queue
        .complete(&Lease::of(&claimed), content(user), now())
        .await
        .unwrap()
        .unwrap();
    let mut kinds = Vec::new();
    while kinds.last() != Some(&JobEventKind::Completed) {
        if let SubscriptionItem::Event(e) = next_event(&mut sub).await {
            kinds.push(e.kind);
        }
    }
    assert_eq!(
        kinds,
        [JobEventKind::Progress, JobEventKind::Completed],
        "events resume after the reconnect"
    );
    let other = hub.source(&db.schema).subscribe(JobId(424_242));
    drop(other);
    let _ = Arc::new(());
}

#[tokio::test]
async fn a_job_past_its_start_deadline_is_never_claimed_and_ends_cancelled() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    let t = now();
    let new = |prompt: &str, deadline: Option<i32>| NewJob {
        user_id: user,
        job_type: JobType::Text,
        prompt: prompt.into(),
        parameters: JsonObject::new(),
        priority: 0,
        start_deadline_seconds: deadline,
        timeout_seconds: Some(90),
        webhook: None,
    };
    let late = repos.jobs.insert(new("late", Some(60)), t).await.unwrap();
    let open = repos.jobs.insert(new("open", None), t).await.unwrap();
    assert_eq!(late.start_deadline_at, Some(t + chrono::Duration::seconds(60)));
    assert_eq!((late.timeout_seconds, open.start_deadline_at), (Some(90), None));

    // Past the deadline nothing starts it, even before the sweep ran.
    let after = t + chrono::Duration::seconds(61);
    let claimed = repos.queue.claim("w", 10, LEASE, after, None).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), [open.id]);

    assert_eq!(
        repos
            .queue
            .cancel_overdue(t + chrono::Duration::seconds(59))
            .await
            .unwrap(),
        0
    );
    assert_eq!(repos.queue.cancel_overdue(after).await.unwrap(), 1);
    assert_eq!(repos.queue.cancel_overdue(after).await.unwrap(), 0, "once");
    let job = repos.jobs.get(late.id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    assert_eq!(job.error_message.as_deref(), Some(START_DEADLINE_PASSED));
    assert_eq!(
        (job.attempts, job.started_at, job.completed_at),
        (0, None, Some(after))
    );
    let events = repos.job_events.events_since(late.id, 0).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.kind, JobEventKind::Cancelled);
    assert_eq!(
        last.data.get("error_message"),
        Some(&serde_json::json!(START_DEADLINE_PASSED))
    );
    // A running job is not touched by the sweep.
    assert_eq!(
        repos.jobs.get(open.id).await.unwrap().unwrap().status,
        JobStatus::Running
    );
}

#[tokio::test]
async fn the_queue_serves_users_round_robin() {
    let db = TestDb::new().await;
    genonaut_domain::testing::scenarios::the_queue_serves_users_round_robin(db.repositories(), now()).await;
}

#[tokio::test]
async fn the_queue_caps_running_jobs_per_user() {
    let db = TestDb::new().await;
    genonaut_domain::testing::scenarios::the_queue_caps_running_jobs_per_user(db.repositories(), now()).await;
}

#[tokio::test]
async fn the_per_user_cap_holds_under_concurrent_claimers() {
    let db = TestDb::new().await;
    let (repos, user) = with_user(&db).await;
    for i in 0..20 {
        enqueue(&repos, user, &format!("j{i}"), 0).await;
    }
    let claims = (0..6).map(|w| {
        let queue = repos.queue.clone();
        tokio::spawn(async move {
            queue
                .claim(&format!("w{w}"), 3, LEASE, now(), Some(2))
                .await
                .unwrap()
        })
    });
    let mut claimed = 0;
    for claim in claims {
        claimed += claim.await.unwrap().len();
    }
    assert_eq!(claimed, 2, "six concurrent claimers, a cap of 2");
    let stats = repos.jobs.queue_counts().await.unwrap();
    assert_eq!(stats, (18, 2));
}
