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
