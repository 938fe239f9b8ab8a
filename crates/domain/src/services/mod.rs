//! Use-case services: the business rules of every API operation, over the ports.
//!
//! Services check existence, activity and business rules in the order the API contract
//! specifies, and produce the exact messages clients rely on. They never talk to a database
//! directly.

mod content;
mod interactions;
mod jobs;
mod recommendations;
mod system;
mod users;

pub use content::ContentService;
pub use interactions::{ContentInteractionStats, InteractionService, InteractionTypeCounts};
pub use jobs::{JobService, StatusChange};
pub use recommendations::{GenerateRequest, RecommendationService};
pub use system::SystemService;
pub use users::UserService;

use std::sync::Arc;

use crate::model::Timestamp;
use crate::ports::{Clock, Repositories};

/// Every service over one set of repositories (one data store).
#[derive(Clone)]
pub struct Services {
    /// Users.
    pub users: UserService,
    /// Content.
    pub content: ContentService,
    /// Interactions.
    pub interactions: InteractionService,
    /// Recommendations.
    pub recommendations: RecommendationService,
    /// Generation jobs.
    pub jobs: JobService,
    /// Health and counters.
    pub system: SystemService,
}

impl Services {
    /// Wires the services to `repos`, reading time from `clock`.
    pub fn new(repos: Repositories, clock: Arc<dyn Clock>) -> Self {
        let users = UserService::new(repos.users.clone(), clock.clone());
        Services {
            content: ContentService::new(repos.content.clone(), users.clone(), clock.clone()),
            interactions: InteractionService::new(
                repos.interactions.clone(),
                repos.content.clone(),
                users.clone(),
                clock.clone(),
            ),
            recommendations: RecommendationService::new(
                repos.recommendations.clone(),
                repos.content.clone(),
                repos.interactions.clone(),
                users.clone(),
                clock.clone(),
            ),
            jobs: JobService::new(
                repos.jobs.clone(),
                repos.content.clone(),
                users.clone(),
                clock.clone(),
            ),
            system: SystemService::new(repos.system.clone()),
            users,
        }
    }
}

/// `now − days`, for the "recent" listings.
pub(crate) fn days_ago(now: Timestamp, days: i64) -> Timestamp {
    now.checked_sub_signed(chrono::Duration::days(days))
        .unwrap_or(Timestamp::MIN)
}
