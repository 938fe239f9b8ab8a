//! The one error type every port and service speaks.

use std::fmt;

use crate::ids::{ContentId, UserId};
use crate::model::JobStatus;

/// The kinds of stored entity (a [`NotFound::Id`] names one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A user account.
    User,
    /// A content item.
    ContentItem,
    /// A recorded user interaction.
    UserInteraction,
    /// A stored recommendation.
    Recommendation,
    /// A generation job.
    GenerationJob,
    /// An online experiment.
    Experiment,
}

/// Which uniqueness rule an operation would break (or which race it lost). The words a client
/// reads are the HTTP adapter's; the database adapter maps constraint names to these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// A username in use; `Some`: the one asked for (an update).
    Username(Option<String>),
    /// An e-mail address in use; `Some`: the one asked for (an update).
    Email(Option<String>),
    /// An experiment name in use; `Some`: the one asked for.
    ExperimentName(Option<String>),
    /// An identical interaction was recorded at the same instant.
    SameInstantInteraction,
    /// An API key prefix in use (the key service draws another; never reaches a client).
    KeyPrefix,
    /// A job changed between its read and its write, again and again.
    JobChanged,
    /// A recommender build is already running, on this worker.
    BuildRunning(String),
    /// Another uniqueness rule.
    Duplicate,
}

/// What could not be found. The words a client reads are the HTTP adapter's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotFound {
    /// A stored entity, addressed by its id (as written by the caller).
    Id {
        /// Which kind of entity.
        entity: Entity,
        /// The id asked for.
        id: String,
    },
    /// A user, addressed by username.
    Username(String),
    /// A user, addressed by e-mail address.
    Email(String),
    /// An experiment, addressed by name.
    ExperimentName(String),
    /// An API key, addressed by its public prefix.
    ApiKey(String),
    /// API keys at all: authentication is off, so there are none.
    KeysDisabled,
    /// The newest interaction of one type between a user and an item.
    InteractionBetween {
        /// The user.
        user: UserId,
        /// The item.
        content: ContentId,
        /// The interaction type, as asked for.
        interaction_type: String,
    },
}

/// What a user cannot do while inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactiveAction {
    /// Submit generation jobs.
    CreateJobs,
    /// Receive stored recommendations.
    CreateRecommendations,
    /// Read or generate recommendations.
    ReadRecommendations,
    /// Record interactions.
    RecordInteractions,
}

/// Why one element of a bulk recommendation request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkProblem {
    /// Its user does not exist.
    UserMissing(UserId),
    /// Its user is inactive.
    UserInactive(UserId),
    /// Its item does not exist.
    ContentMissing(ContentId),
    /// Its algorithm version is blank.
    EmptyAlgorithmVersion,
}

/// Which business rule forbids an operation. The words a client reads are the HTTP
/// adapter's; the database adapter maps constraint names to these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A referenced creator (user) does not exist.
    CreatorMissing,
    /// A referenced user does not exist.
    UserMissing,
    /// A referenced content item does not exist.
    ContentMissing,
    /// Another referenced row does not exist.
    ReferenceMissing,
    /// A stored value is outside what the database allows.
    OutOfRange,
    /// An item cannot be both public and private.
    PublicAndPrivate,
    /// A title is blank.
    EmptyTitle,
    /// Content data is blank.
    EmptyContentData,
    /// A prompt is blank.
    EmptyPrompt,
    /// An algorithm version is blank.
    EmptyAlgorithmVersion,
    /// The user is inactive, and this needs an active one.
    InactiveUser(InactiveAction),
    /// Only pending jobs can be changed.
    JobNotPending,
    /// Pending and running jobs cannot be deleted.
    JobActive,
    /// A finished job cannot be cancelled (its status).
    JobFinished(JobStatus),
    /// A job set to failed needs an error message.
    ErrorMessageRequired,
    /// One element of a bulk request (its position) is refused.
    Bulk(usize, BulkProblem),
    /// An idempotency key was reused with a different request.
    IdempotencyKeyReused,
    /// Semantic search is unavailable (why: no model loaded, …).
    SemanticSearchUnavailable(String),
    /// A key cannot revoke itself.
    RevokeOwnKey,
}

/// What is wrong with a field only the domain can judge (reported at its location). The words
/// a client reads are the HTTP adapter's; the bounds are the domain's constants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// An API key's name is blank or longer than its maximum.
    KeyName {
        /// The maximum length, in characters.
        max: usize,
    },
    /// An API key's expiry is not in the future.
    ExpiryNotInFuture,
    /// An experiment's name is blank or longer than its maximum.
    ExperimentName {
        /// The maximum length, in characters.
        max: usize,
    },
    /// An experiment's name has a character other than ASCII letters, digits, `-`, `_`, `.`.
    ExperimentNameCharacters,
    /// An experiment's description is longer than its maximum.
    ExperimentDescription {
        /// The maximum length, in characters.
        max: usize,
    },
    /// An experiment has too few or too many variants.
    VariantCount {
        /// The fewest allowed.
        min: usize,
        /// The most allowed.
        max: usize,
    },
    /// A variant's name is blank or longer than its maximum.
    VariantName {
        /// The maximum length, in characters.
        max: usize,
    },
    /// Two variants share a name (the repeated one).
    DuplicateVariant(String),
    /// A variant names no known algorithm (the label asked for).
    UnknownAlgorithm(String),
    /// A variant's weight is not a finite number greater than 0.
    VariantWeight,
    /// The variants' weights add up to infinity.
    WeightSum,
    /// An engagement window outside 1 to `max` hours.
    EngagementWindow {
        /// The longest allowed, in hours.
        max: i32,
    },
    /// A webhook URL longer than its maximum.
    WebhookUrlTooLong {
        /// The maximum length, in characters.
        max: usize,
    },
    /// A webhook URL the URL parser refuses (its reason).
    WebhookUrl(String),
    /// A webhook URL with a scheme other than `http`/`https`.
    WebhookScheme,
    /// A webhook URL without a host.
    WebhookHost,
    /// A webhook URL without a port (explicit or the scheme's default).
    WebhookPort,
    /// An empty webhook events filter.
    NoWebhookEvents,
    /// A webhook events filter naming an unknown event (as written).
    UnknownWebhookEvent(String),
    /// A generation parameter the generator refuses, in the generator's own words (they depend
    /// on the generator behind the port, e.g. a ComfyUI workflow's node).
    Parameter(String),
}

/// Why a use case could not be carried out.
///
/// `NotFound`, `Rule` and `Conflict` name what happened; the words a client reads are the HTTP
/// adapter's. `Unexpected` keeps its source for the log and is never shown to a client.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The addressed or referenced entity does not exist (HTTP 404 by default).
    #[error("not found: {0:?}")]
    NotFound(NotFound),
    /// A business rule forbids the operation (HTTP 422 with a string detail).
    #[error("rule: {0:?}")]
    Rule(Rule),
    /// The operation would violate a uniqueness rule, or lost a race (HTTP 422 with a string
    /// detail worded by the HTTP adapter).
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A field of the request is invalid in a way only the domain can tell
    /// (HTTP 422 with a validation list located at `field`).
    #[error("{}: {reason:?}", field.join("."))]
    Invalid {
        /// Location of the offending value, e.g. `["variants", "1", "weight"]` as text parts.
        field: Vec<String>,
        /// What is wrong with it.
        reason: Invalid,
    },
    /// A dependency (the database) is unavailable or overloaded (HTTP 503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the source is logged, the client gets an opaque 500.
    #[error("unexpected error: {context}")]
    Unexpected {
        /// What was being done.
        context: String,
        /// The underlying cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl DomainError {
    /// The value at `field` (its location parts) is invalid for `reason`.
    pub fn invalid(field: &[&str], reason: Invalid) -> Self {
        DomainError::Invalid {
            field: field.iter().map(|f| (*f).to_owned()).collect(),
            reason,
        }
    }

    /// The `entity` with `id` does not exist.
    pub fn not_found(entity: Entity, id: impl fmt::Display) -> Self {
        DomainError::NotFound(NotFound::Id {
            entity,
            id: id.to_string(),
        })
    }

    /// Wraps an unexpected failure with context.
    pub fn unexpected(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        DomainError::Unexpected {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// Displays an error with all its sources, `a: b: c` — the one form in which the workspace logs
/// an error chain.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

/// Result alias used by every port and service.
pub type DomainResult<T> = Result<T, DomainError>;
