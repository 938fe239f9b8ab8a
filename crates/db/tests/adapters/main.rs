//! The PostgreSQL adapters against a real database: every test gets a fresh, migrated schema.
//!
//! The service scenarios shared with the in-memory fakes run here first (so the fakes and the
//! adapters provably agree); adapter-specific behaviour (constraints, transactions, indexes,
//! id ranges) follows.

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "test helpers fail loudly")]

use std::sync::Arc;

use genonaut_db::testing::TestDb;
use genonaut_domain::services::Services;
use genonaut_domain::testing::FixedClock;

async fn postgres() -> (Services, TestDb) {
    let db = TestDb::new().await;
    (
        Services::new(db.repositories(), Arc::new(FixedClock::default())),
        db,
    )
}

genonaut_domain::service_scenarios!(postgres());

mod queue;
mod recommender;
mod specific;
mod webhooks;

#[tokio::test]
async fn experiment_engagement_counts_only_within_the_window() {
    let db = TestDb::new().await;
    let clock = Arc::new(FixedClock::default());
    let services = Services::new(db.repositories(), clock.clone());
    genonaut_domain::testing::scenarios::experiment_engagement_counts_only_within_the_window(
        services, &clock,
    )
    .await;
}

#[tokio::test]
async fn idempotent_submission_creates_once_replays_and_expires() {
    let db = TestDb::new().await;
    let clock = Arc::new(FixedClock::default());
    let services = Services::new(db.repositories(), clock.clone());
    genonaut_domain::testing::scenarios::idempotent_submission_creates_once_replays_and_expires(
        services, &clock,
    )
    .await;
}
