//! The runner against the in-memory queue: outcomes, retries, cancellation, shutdown.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use genonaut_domain::ids::JobId;
use genonaut_domain::model::{
    ContentType, GenerationJob, JobStatus, JobType, JsonObject, NewContent, NewJob, NewUser, Progress,
    Timestamp,
};
use genonaut_domain::ports::{
    Artifact, GenerationControl, GenerationError, GenerationRequest, Generator, JobQueue, Lease, Output,
    RetryPolicy, SystemClock,
};
use genonaut_domain::services::Services;
use genonaut_domain::testing::InMemoryStore;
use genonaut_domain::values::{Email, Username};
use genonaut_domain::{DomainError, DomainResult, Rule};
use genonaut_jobs::media::FsMediaStore;
use genonaut_jobs::offline::{NoopGenerator, OfflineGenerator};
use genonaut_jobs::runner::{Polling, Runner, RunnerConfig, SchemaQueue};

fn config() -> RunnerConfig {
    RunnerConfig {
        workers: 2,
        lease: Duration::from_secs(5),
        heartbeat: Duration::from_millis(50),
        poll: Duration::from_millis(10),
        batch: 1,
        retry: RetryPolicy {
            base: Duration::from_millis(20),
            max: Duration::from_millis(100),
        },
        reap_every: Duration::from_millis(50),
        maintenance_every: Duration::from_millis(20),
        counts_every: Duration::from_millis(10),
        shutdown_grace: Duration::from_millis(100),
        name: "test".into(),
        max_running_per_user: None,
    }
}

struct Setup {
    services: Services,
    store: InMemoryStore,
    media_dir: std::path::PathBuf,
}

async fn setup() -> Setup {
    let store = InMemoryStore::new();
    let services = Services::new(store.repositories(), Arc::new(SystemClock));
    services
        .users
        .create(NewUser {
            username: Username::parse("maker").unwrap(),
            email: Email::parse("maker@example.com").unwrap(),
            preferences: JsonObject::new(),
        })
        .await
        .unwrap();
    let media_dir = std::env::temp_dir().join(format!(
        "genonaut-jobs-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    Setup {
        services,
        store,
        media_dir,
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn runner(setup: &Setup, generator: Arc<dyn Generator>, config: RunnerConfig) -> Arc<Runner> {
    let tenant = SchemaQueue {
        name: "app".into(),
        queue: setup.store.repositories().queue,
        events: None,
        recommender: None,
        interactions: None,
    };
    Runner::new(
        vec![tenant],
        generator,
        Arc::new(FsMediaStore::new(&setup.media_dir)),
        Arc::new(SystemClock),
        Arc::new(|| Arc::new(Polling) as Arc<_>),
        config,
    )
}

async fn job(setup: &Setup, job_type: JobType, prompt: &str, parameters: serde_json::Value) -> JobId {
    let parameters = parameters.as_object().cloned().unwrap_or_default();
    let new = NewJob {
        user_id: 1.into(),
        job_type,
        prompt: prompt.into(),
        parameters,
        priority: 0,
        start_deadline_seconds: None,
        timeout_seconds: None,
        webhook: None,
    };
    setup.services.jobs.create(new).await.unwrap().id
}

async fn wait_for(setup: &Setup, id: JobId, status: JobStatus) -> genonaut_domain::model::GenerationJob {
    for _ in 0..500 {
        let job = setup.services.jobs.get(id).await.unwrap();
        if job.status == status {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "job {id} never reached {status}: {:?}",
        setup.services.jobs.get(id).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_of_every_type_complete_with_their_content() {
    let setup = setup().await;
    let runner = runner(&setup, Arc::new(OfflineGenerator::new(Duration::ZERO)), config());
    let text = job(
        &setup,
        JobType::Text,
        "a lighthouse keeper and her clockwork fox",
        serde_json::json!({"seed": 7}),
    )
    .await;
    let image = job(
        &setup,
        JobType::Image,
        "sunset over the dunes",
        serde_json::json!({"width": 64, "height": 48}),
    )
    .await;
    let audio = job(
        &setup,
        JobType::Audio,
        "a calm morning",
        serde_json::json!({"duration": 2}),
    )
    .await;
    let video = job(
        &setup,
        JobType::Video,
        "night sky",
        serde_json::json!({"frames": 4, "width": 32, "height": 32}),
    )
    .await;
    runner.start();
    for (id, kind, prefix) in [
        (text, ContentType::Text, ""),
        (image, ContentType::Image, "/media/"),
        (audio, ContentType::Audio, "/media/"),
        (video, ContentType::Video, "/media/"),
    ] {
        let done = wait_for(&setup, id, JobStatus::Completed).await;
        assert_eq!(done.progress, 1.0);
        let content = setup
            .services
            .content
            .get(done.result_content_id.unwrap())
            .await
            .unwrap();
        assert_eq!(content.content_type, kind);
        assert_eq!(content.creator_id, 1.into());
        assert_eq!(content.item_metadata["job_id"], serde_json::json!(id.0));
        assert_eq!(content.item_metadata["generator"], serde_json::json!("offline"));
        assert!(content.item_metadata["timings"]["generation_ms"].is_i64());
        assert!(content.content_data.starts_with(prefix));
    }
    let story = setup
        .services
        .content
        .get(
            wait_for(&setup, text, JobStatus::Completed)
                .await
                .result_content_id
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(
        story.content_data.contains("lighthouse") || story.content_data.contains("clockwork"),
        "{}",
        story.content_data
    );
    assert_eq!(story.title, "A lighthouse keeper and her clockwork fox");
    let events = setup.services.jobs.events_since(text, 0).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"queued"));
    assert_eq!(kinds.last(), Some(&"completed"));
    assert!(kinds.contains(&"started") && kinds.contains(&"progress"));
    assert!(
        events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "gap-free sequence"
    );
    runner.shutdown().await;
    let _ = std::fs::remove_dir_all(&setup.media_dir);
}

/// Fails with a transient error `failures` times, then succeeds.
struct Flaky {
    failures: u32,
    calls: AtomicU32,
}

#[async_trait]
impl Generator for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    async fn generate(
        &self,
        r: &GenerationRequest,
        _: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
            return Err(GenerationError::Transient("model overloaded".into()));
        }
        Ok(Artifact {
            content_type: r.job_type.content_type(),
            output: Output::Text("ok".into()),
            metadata: JsonObject::new(),
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_failures_are_retried_with_backoff_then_succeed() {
    let setup = setup().await;
    let flaky = Arc::new(Flaky {
        failures: 2,
        calls: AtomicU32::new(0),
    });
    let runner = runner(&setup, flaky.clone(), config());
    let id = job(&setup, JobType::Text, "retry me", serde_json::json!({})).await;
    runner.start();
    let done = wait_for(&setup, id, JobStatus::Completed).await;
    assert_eq!((done.attempts, flaky.calls.load(Ordering::SeqCst)), (3, 3));
    let kinds: Vec<String> = setup
        .services
        .jobs
        .events_since(id, 0)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "retrying").count(), 2, "{kinds:?}");
    runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_fail_for_good_after_max_attempts() {
    let setup = setup().await;
    let runner = runner(
        &setup,
        Arc::new(Flaky {
            failures: 99,
            calls: AtomicU32::new(0),
        }),
        config(),
    );
    let id = job(&setup, JobType::Text, "never works", serde_json::json!({})).await;
    runner.start();
    let failed = wait_for(&setup, id, JobStatus::Failed).await;
    assert_eq!(failed.attempts, 3);
    assert_eq!(failed.error_message.as_deref(), Some("model overloaded"));
    assert!(failed.result_content_id.is_none());
    runner.shutdown().await;
}

/// Runs until told to stop, recording that it was stopped.
struct Endless {
    stopped: Arc<Mutex<bool>>,
}

#[async_trait]
impl Generator for Endless {
    fn name(&self) -> &str {
        "endless"
    }
    async fn generate(
        &self,
        _: &GenerationRequest,
        control: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        let mut step = 0;
        loop {
            step += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            let progress = genonaut_domain::model::Progress {
                step,
                total: 1000,
                message: None,
                preview: None,
            };
            if !control.progress(progress).await {
                *self.stopped.lock().unwrap() = true;
                return Err(GenerationError::Stopped);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_running_job_stops_its_generator() {
    let setup = setup().await;
    let stopped = Arc::new(Mutex::new(false));
    let runner = runner(
        &setup,
        Arc::new(Endless {
            stopped: stopped.clone(),
        }),
        config(),
    );
    let id = job(&setup, JobType::Text, "forever", serde_json::json!({})).await;
    runner.start();
    wait_for(&setup, id, JobStatus::Running).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let cancelled = setup.services.jobs.cancel(id).await.unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    for _ in 0..200 {
        if *stopped.lock().unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(*stopped.lock().unwrap(), "the generator was told to stop");
    assert_eq!(
        setup.services.jobs.get(id).await.unwrap().status,
        JobStatus::Cancelled
    );
    let again = setup.services.jobs.cancel(id).await.unwrap_err();
    assert!(
        matches!(again, DomainError::Rule(Rule::JobFinished(JobStatus::Cancelled))),
        "{again:?}"
    );
    runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_pending_job_never_starts() {
    let setup = setup().await;
    let flaky = Arc::new(Flaky {
        failures: 0,
        calls: AtomicU32::new(0),
    });
    let runner = runner(&setup, flaky.clone(), config());
    let id = job(&setup, JobType::Text, "never", serde_json::json!({})).await;
    setup.services.jobs.cancel(id).await.unwrap();
    runner.start();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 0);
    assert_eq!(setup.services.jobs.get(id).await.unwrap().attempts, 0);
    runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_longer_than_its_timeout_is_stopped_and_fails_without_retry() {
    let setup = setup().await;
    let stopped = Arc::new(Mutex::new(false));
    let runner = runner(
        &setup,
        Arc::new(Endless {
            stopped: stopped.clone(),
        }),
        config(),
    );
    let new = NewJob {
        user_id: 1.into(),
        job_type: JobType::Text,
        prompt: "too long".into(),
        parameters: JsonObject::new(),
        priority: 0,
        start_deadline_seconds: None,
        timeout_seconds: Some(1),
        webhook: None,
    };
    let id = setup.services.jobs.create(new).await.unwrap().id;
    runner.start();
    let failed = wait_for(&setup, id, JobStatus::Failed).await;
    assert!(*stopped.lock().unwrap(), "the generator was told to stop");
    assert_eq!(failed.attempts, 1, "no retry: {failed:?}");
    assert!(
        failed
            .error_message
            .as_deref()
            .unwrap_or_default()
            .contains("timeout_seconds (1 s)"),
        "{failed:?}"
    );
    runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_start_deadline_passed_never_starts_and_ends_cancelled() {
    let setup = setup().await;
    let flaky = Arc::new(Flaky {
        failures: 0,
        calls: AtomicU32::new(0),
    });
    // No worker runs: the job waits until its deadline passes, then the sweep cancels it.
    let runner = runner(
        &setup,
        flaky.clone(),
        RunnerConfig {
            workers: 0,
            ..config()
        },
    );
    let new = NewJob {
        user_id: 1.into(),
        job_type: JobType::Text,
        prompt: "too late".into(),
        parameters: JsonObject::new(),
        priority: 0,
        start_deadline_seconds: Some(1),
        timeout_seconds: None,
        webhook: None,
    };
    let id = setup.services.jobs.create(new).await.unwrap().id;
    runner.start();
    let cancelled = wait_for_long(&setup, id, JobStatus::Cancelled).await;
    assert_eq!(
        cancelled.error_message.as_deref(),
        Some(genonaut_domain::model::START_DEADLINE_PASSED)
    );
    assert_eq!((cancelled.attempts, flaky.calls.load(Ordering::SeqCst)), (0, 0));
    runner.shutdown().await;
}

async fn wait_for_long(setup: &Setup, id: JobId, status: JobStatus) -> genonaut_domain::model::GenerationJob {
    for _ in 0..30 {
        let job = setup.services.jobs.get(id).await.unwrap();
        if job.status == status {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} never reached {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_releases_the_lease_of_an_unfinished_job() {
    let setup = setup().await;
    let runner = runner(
        &setup,
        Arc::new(Endless {
            stopped: Arc::new(Mutex::new(false)),
        }),
        config(),
    );
    let id = job(&setup, JobType::Text, "long", serde_json::json!({})).await;
    runner.start();
    wait_for(&setup, id, JobStatus::Running).await;
    runner.shutdown().await;
    let job = setup.services.jobs.get(id).await.unwrap();
    assert_eq!(
        (job.status, job.attempts),
        (JobStatus::Pending, 0),
        "back in the queue, attempt not counted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn higher_priority_runs_first_and_fifo_within_a_priority() {
    let setup = setup().await;
    let order = Arc::new(Mutex::new(Vec::new()));
    struct Recorder(Arc<Mutex<Vec<i64>>>);
    #[async_trait]
    impl Generator for Recorder {
        fn name(&self) -> &str {
            "recorder"
        }
        async fn generate(
            &self,
            r: &GenerationRequest,
            _: &dyn GenerationControl,
        ) -> Result<Artifact, GenerationError> {
            self.0.lock().unwrap().push(r.job_id);
            Ok(Artifact {
                content_type: ContentType::Text,
                output: Output::Text("x".into()),
                metadata: JsonObject::new(),
            })
        }
    }
    let mut cfg = config();
    cfg.workers = 1;
    let runner = runner(&setup, Arc::new(Recorder(order.clone())), cfg);
    let mut ids = Vec::new();
    for (prompt, priority) in [("low a", 0), ("high", 5), ("low b", 0), ("mid", 1)] {
        let new = NewJob {
            user_id: 1.into(),
            job_type: JobType::Text,
            prompt: prompt.into(),
            parameters: JsonObject::new(),
            priority,
            start_deadline_seconds: None,
            timeout_seconds: None,
            webhook: None,
        };
        ids.push(setup.services.jobs.create(new).await.unwrap().id.0);
    }
    runner.start();
    wait_for(&setup, JobId(ids[2]), JobStatus::Completed).await;
    runner.shutdown().await;
    assert_eq!(*order.lock().unwrap(), vec![ids[1], ids[3], ids[0], ids[2]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn dispatch_claims_and_runs_now() {
    let setup = setup().await;
    let mut cfg = config();
    cfg.workers = 0;
    let runner = runner(&setup, Arc::new(OfflineGenerator::new(Duration::ZERO)), cfg);
    let id = job(&setup, JobType::Text, "dispatched", serde_json::json!({})).await;
    let claimed = runner.dispatcher(0).dispatch(5).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].status, JobStatus::Running);
    wait_for(&setup, id, JobStatus::Completed).await;
    runner.shutdown().await;
}

/// The in-memory queue, counting how results are stored.
struct Counting {
    inner: Arc<dyn JobQueue>,
    batches: Mutex<Vec<usize>>,
}

#[async_trait]
impl JobQueue for Counting {
    async fn claim(
        &self,
        worker: &str,
        max: usize,
        lease: Duration,
        now: Timestamp,
        per_user: Option<u32>,
    ) -> DomainResult<Vec<GenerationJob>> {
        self.inner.claim(worker, max, lease, now, per_user).await
    }
    async fn heartbeat(&self, leases: &[Lease], until: Timestamp) -> DomainResult<Vec<Lease>> {
        self.inner.heartbeat(leases, until).await
    }
    async fn progress(&self, lease: &Lease, progress: &Progress, now: Timestamp) -> DomainResult<bool> {
        self.inner.progress(lease, progress, now).await
    }
    async fn complete(
        &self,
        lease: &Lease,
        content: NewContent,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        self.batches.lock().unwrap().push(1);
        self.inner.complete(lease, content, now).await
    }
    async fn complete_many(
        &self,
        completions: Vec<(Lease, NewContent)>,
        now: Timestamp,
    ) -> DomainResult<Vec<Option<GenerationJob>>> {
        self.batches.lock().unwrap().push(completions.len());
        self.inner.complete_many(completions, now).await
    }
    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> DomainResult<bool> {
        self.inner.fail(lease, error, retry_at, now).await
    }
    async fn release(&self, lease: &Lease, now: Timestamp) -> DomainResult<bool> {
        self.inner.release(lease, now).await
    }
    async fn reap(&self, now: Timestamp, retry: &RetryPolicy) -> DomainResult<usize> {
        self.inner.reap(now, retry).await
    }
    async fn cancel_overdue(&self, now: Timestamp) -> DomainResult<usize> {
        self.inner.cancel_overdue(now).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fast_results_are_stored_together() {
    let setup = setup().await;
    let queue = Arc::new(Counting {
        inner: setup.store.repositories().queue,
        batches: Mutex::new(Vec::new()),
    });
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(job(&setup, JobType::Text, &format!("n{i}"), serde_json::json!({})).await);
    }
    let runner = Runner::new(
        vec![SchemaQueue {
            name: "app".into(),
            queue: queue.clone(),
            events: None,
            recommender: None,
            interactions: None,
        }],
        Arc::new(NoopGenerator),
        Arc::new(FsMediaStore::new(&setup.media_dir)),
        Arc::new(SystemClock),
        Arc::new(|| Arc::new(Polling) as Arc<_>),
        RunnerConfig {
            workers: 1,
            batch: 10,
            ..config()
        },
    );
    runner.start();
    for id in &ids {
        wait_for(&setup, *id, JobStatus::Completed).await;
    }
    runner.shutdown().await;
    let batches = queue.batches.lock().unwrap().clone();
    assert_eq!(batches.iter().sum::<usize>(), 20, "{batches:?}");
    assert!(batches.len() < 20, "results were stored together: {batches:?}");
}

/// Instant for prompts starting with `fast`, a second otherwise.
struct Mixed;

#[async_trait]
impl Generator for Mixed {
    fn name(&self) -> &str {
        "mixed"
    }
    async fn generate(
        &self,
        r: &GenerationRequest,
        _: &dyn GenerationControl,
    ) -> Result<Artifact, GenerationError> {
        if !r.prompt.starts_with("fast") {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok(Artifact {
            content_type: r.job_type.content_type(),
            output: Output::Text("ok".into()),
            metadata: JsonObject::new(),
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fast_result_is_not_held_back_by_a_slow_generation_after_it() {
    let setup = setup().await;
    let fast = job(&setup, JobType::Text, "fast one", serde_json::json!({})).await;
    let slow = job(&setup, JobType::Text, "slow one", serde_json::json!({})).await;
    let runner = runner(
        &setup,
        Arc::new(Mixed),
        RunnerConfig {
            workers: 1,
            batch: 2,
            ..config()
        },
    );
    runner.start();
    wait_for(&setup, fast, JobStatus::Completed).await;
    assert_eq!(
        setup.services.jobs.get(slow).await.unwrap().status,
        JobStatus::Running,
        "the fast job was stored while the slow one still ran"
    );
    wait_for(&setup, slow, JobStatus::Completed).await;
    runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn requested_recommender_builds_run_in_the_runner() {
    let setup = setup().await;
    let repos = setup.store.repositories();
    let item = setup
        .services
        .content
        .create(genonaut_domain::model::NewContent {
            title: "a".into(),
            content_type: ContentType::Text,
            content_data: "a".into(),
            creator_id: 1.into(),
            item_metadata: JsonObject::new(),
            tags: genonaut_domain::values::Tags::default(),
            is_public: true,
            is_private: false,
        })
        .await
        .unwrap();
    setup
        .services
        .interactions
        .record(genonaut_domain::model::NewInteraction {
            user_id: 1.into(),
            content_item_id: item.id,
            interaction_type: genonaut_domain::model::InteractionType::Like,
            rating: None,
            duration: None,
            metadata: JsonObject::new(),
        })
        .await
        .unwrap();
    let recommender = genonaut_domain::services::RecommenderService::new(
        repos.recommender_builds.clone(),
        Arc::new(SystemClock),
        genonaut_domain::services::MaintenanceConfig {
            refresh: None,
            ..Default::default()
        },
    );
    recommender.request_rebuild(true).await.unwrap();
    let runner = Runner::new(
        vec![SchemaQueue {
            name: "app".into(),
            queue: repos.queue.clone(),
            events: None,
            recommender: Some(recommender.clone()),
            interactions: None,
        }],
        Arc::new(NoopGenerator),
        Arc::new(FsMediaStore::new(&setup.media_dir)),
        Arc::new(SystemClock),
        Arc::new(|| Arc::new(Polling) as Arc<_>),
        RunnerConfig {
            workers: 0,
            ..config()
        },
    );
    runner.start();
    let mut built = None;
    for _ in 0..200 {
        built = recommender.status().await.unwrap().last;
        if built.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    runner.shutdown().await;
    let built = built.expect("the requested build ran");
    assert!(built.full && built.signals == 1, "{built:?}");
    let status = recommender.status().await.unwrap();
    assert!(status.requested_at.is_none() && status.running_on.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn interaction_counts_are_checkpointed_in_the_runner_every_few_moments() {
    let setup = setup().await;
    let repos = setup.store.repositories();
    let runner = Runner::new(
        vec![SchemaQueue {
            name: "app".into(),
            queue: repos.queue.clone(),
            events: None,
            recommender: None,
            interactions: Some(repos.interactions.clone()),
        }],
        Arc::new(NoopGenerator),
        Arc::new(FsMediaStore::new(&setup.media_dir)),
        Arc::new(SystemClock),
        Arc::new(|| Arc::new(Polling) as Arc<_>),
        RunnerConfig {
            workers: 0,
            ..config()
        },
    );
    runner.start();
    for _ in 0..200 {
        if setup.store.count_checkpoints() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    runner.shutdown().await;
    let after_shutdown = setup.store.count_checkpoints();
    assert!(after_shutdown >= 3, "checkpoints: {after_shutdown}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        setup.store.count_checkpoints(),
        after_shutdown,
        "the loop stopped with the runner"
    );
}
