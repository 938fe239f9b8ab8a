//! Use-case rules against the in-memory adapters (no database, milliseconds).
//! The same scenarios run against PostgreSQL in `genonaut-db`'s tests.

use std::sync::Arc;

use genonaut_domain::services::Services;
use genonaut_domain::testing::{FixedClock, InMemoryStore};

async fn in_memory() -> (Services, ()) {
    (
        Services::new(
            InMemoryStore::new().repositories(),
            Arc::new(FixedClock::default()),
        ),
        (),
    )
}

genonaut_domain::service_scenarios!(in_memory());

#[tokio::test]
async fn the_queue_serves_users_round_robin() {
    let now = genonaut_domain::ports::Clock::now(&FixedClock::default());
    genonaut_domain::testing::scenarios::the_queue_serves_users_round_robin(
        InMemoryStore::new().repositories(),
        now,
    )
    .await;
}

#[tokio::test]
async fn experiment_engagement_counts_only_within_the_window() {
    let clock = Arc::new(FixedClock::default());
    let services = Services::new(InMemoryStore::new().repositories(), clock.clone());
    genonaut_domain::testing::scenarios::experiment_engagement_counts_only_within_the_window(
        services, &clock,
    )
    .await;
}

#[tokio::test]
async fn idempotent_submission_creates_once_replays_and_expires() {
    let clock = Arc::new(FixedClock::default());
    let services = Services::new(InMemoryStore::new().repositories(), clock.clone());
    genonaut_domain::testing::scenarios::idempotent_submission_creates_once_replays_and_expires(
        services, &clock,
    )
    .await;
}

#[tokio::test]
async fn the_queue_caps_running_jobs_per_user() {
    let now = genonaut_domain::ports::Clock::now(&FixedClock::default());
    genonaut_domain::testing::scenarios::the_queue_caps_running_jobs_per_user(
        InMemoryStore::new().repositories(),
        now,
    )
    .await;
}

/// A generator that knows one workflow.
struct OneWorkflow;

#[async_trait::async_trait]
impl genonaut_domain::ports::Generator for OneWorkflow {
    fn name(&self) -> &str {
        "one"
    }

    fn validate(
        &self,
        _: genonaut_domain::model::JobType,
        parameters: &genonaut_domain::model::JsonObject,
    ) -> Result<(), genonaut_domain::ports::Refusal> {
        match parameters.get("workflow").and_then(|v| v.as_str()) {
            None | Some("default") => Ok(()),
            Some(other) => Err(genonaut_domain::ports::Refusal {
                parameter: "workflow".into(),
                message: format!("Unknown workflow '{other}'"),
            }),
        }
    }

    async fn generate(
        &self,
        _: &genonaut_domain::ports::GenerationRequest,
        _: &dyn genonaut_domain::ports::GenerationControl,
    ) -> Result<genonaut_domain::ports::Artifact, genonaut_domain::ports::GenerationError> {
        Err(genonaut_domain::ports::GenerationError::Permanent(
            "not here".into(),
        ))
    }
}

#[tokio::test]
async fn the_generator_refuses_parameters_at_submission() {
    use genonaut_domain::model::{JobType, NewJob, NewUser};
    use genonaut_domain::values::{Email, Username};
    use genonaut_domain::{DomainError, Invalid};

    let services = Services::new(
        InMemoryStore::new().repositories(),
        Arc::new(FixedClock::default()),
    )
    .with_generator(Arc::new(OneWorkflow));
    let user = services
        .users
        .create(NewUser {
            username: Username::parse("painter").unwrap(),
            email: Email::parse("painter@example.com").unwrap(),
            preferences: Default::default(),
        })
        .await
        .unwrap();
    let job = |workflow: &str| NewJob {
        user_id: user.id,
        job_type: JobType::Image,
        prompt: "a fox".into(),
        parameters: serde_json::json!({"workflow": workflow})
            .as_object()
            .cloned()
            .unwrap(),
        priority: 0,
        start_deadline_seconds: None,
        timeout_seconds: None,
        webhook: None,
    };
    let refused = services.jobs.create(job("landscape")).await.unwrap_err();
    assert!(
        matches!(&refused, DomainError::Invalid { field, reason: Invalid::Parameter(words) }
            if field == &["parameters", "workflow"] && words == "Unknown workflow 'landscape'"),
        "{refused:?}"
    );
    assert_eq!(
        services.jobs.stats(None).await.unwrap().total,
        0,
        "nothing stored"
    );
    let created = services.jobs.create(job("default")).await.unwrap();
    let changed = services
        .jobs
        .update_parameters(created.id, job("landscape").parameters.into())
        .await
        .unwrap_err();
    assert!(matches!(changed, DomainError::Invalid { .. }), "{changed:?}");
}
