//! Use-case services: the business rules of every API operation, over the ports.
//!
//! Services check existence, activity and business rules in the order the API contract
//! specifies, and produce the exact messages clients rely on. They never talk to a database
//! directly.

mod content;
mod experiments;
pub mod generation;
mod interactions;
mod jobs;
mod keys;
mod recommendations;
mod recommender;
mod semantic;
mod system;
mod tickets;
mod users;
pub mod webhooks;

pub use content::ContentService;
pub use experiments::ExperimentService;
pub use interactions::{ContentInteractionStats, InteractionService, InteractionTypeCounts};
pub use jobs::{JobService, StatusChange};
pub use keys::{CreatedKey, KeyRefusal, KeyService, hash as hash_key, parse as parse_key};
pub use recommendations::{GenerateRequest, RecommendationService};
pub use recommender::{MaintenanceConfig, RecommenderService};
pub use semantic::{EMBED_BATCH, SemanticService, SemanticStatus, embedding_text};
pub use system::SystemService;
pub use tickets::{IssuedTicket, TICKET_TTL_SECS, TicketService};
pub use users::UserService;
pub use webhooks::{AttemptOutcome, WebhookDeliverer};

use std::sync::Arc;

use crate::model::Timestamp;
use crate::ports::{Clock, Generator, JobDispatch, JobEventSource, Repositories};

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
    /// The recommender's maintenance (derived-state builds).
    pub recommender: RecommenderService,
    /// Health and counters.
    pub system: SystemService,
    /// Item embeddings: semantic search, embedding neighbours, taste vectors.
    pub semantic: SemanticService,
    /// Online experiments.
    pub experiments: ExperimentService,
}

impl Services {
    /// Wires the services to `repos`, reading time from `clock`.
    pub fn new(repos: Repositories, clock: Arc<dyn Clock>) -> Self {
        let users = UserService::new(repos.users.clone(), clock.clone());
        let semantic = SemanticService::new(repos.embeddings.clone(), repos.content.clone(), clock.clone());
        let mut recommendations = RecommendationService::new(
            repos.recommendations.clone(),
            repos.content.clone(),
            repos.recommender.clone(),
            users.clone(),
            clock.clone(),
        );
        recommendations.semantic = Some(semantic.clone());
        let recommendations = recommendations.with_experiments(repos.experiments.clone());
        Services {
            content: ContentService::new(repos.content.clone(), users.clone(), clock.clone()),
            interactions: InteractionService::new(
                repos.interactions.clone(),
                repos.content.clone(),
                users.clone(),
                clock.clone(),
            ),
            recommendations,
            recommender: RecommenderService::new(
                repos.recommender_builds.clone(),
                clock.clone(),
                MaintenanceConfig::default(),
            ),
            jobs: JobService::new(
                repos.jobs.clone(),
                repos.job_events.clone(),
                repos.content.clone(),
                users.clone(),
                clock.clone(),
            )
            .with_outbox(repos.webhooks.clone()),
            system: SystemService::new(repos.system.clone()),
            semantic,
            experiments: ExperimentService::new(repos.experiments.clone(), clock.clone()),
            users,
        }
    }
}

impl Services {
    /// Lets `queue/process` hand claimed jobs to a worker of this process.
    pub fn with_dispatch(mut self, dispatch: Arc<dyn JobDispatch>) -> Self {
        self.jobs.dispatch = Some(dispatch);
        self
    }

    /// Uses `semantic` for item embeddings (a service with a model, or one saying why there
    /// is none).
    pub fn with_semantic(mut self, semantic: SemanticService) -> Self {
        self.recommendations.semantic = Some(semantic.clone());
        self.semantic = semantic;
        self
    }

    /// Checks job parameters with `generator` at submission ([`Generator::validate`]).
    pub fn with_generator(mut self, generator: Arc<dyn Generator>) -> Self {
        self.jobs.generator = Some(generator);
        self
    }

    /// Lets clients follow jobs live (WebSocket).
    pub fn with_live_events(mut self, events: Arc<dyn JobEventSource>) -> Self {
        self.jobs.live = Some(events);
        self
    }
}

/// `now − days`, for the "recent" listings.
pub(crate) fn days_ago(now: Timestamp, days: i64) -> Timestamp {
    now.checked_sub_signed(chrono::Duration::days(days))
        .unwrap_or(Timestamp::MIN)
}
