//! The one error type every port and service speaks.

use std::fmt;

/// The kinds of stored entity, named as clients see them in error messages
/// (`"User with id 7 not found"`).
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
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::User => "User",
            Entity::ContentItem => "ContentItem",
            Entity::UserInteraction => "UserInteraction",
            Entity::Recommendation => "Recommendation",
            Entity::GenerationJob => "GenerationJob",
        })
    }
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

/// Why a use case could not be carried out.
///
/// `NotFound` and `Rule` carry the exact message a client is shown, `Conflict` names the rule; `Unexpected` keeps its source
/// for the log and is never shown to a client.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The addressed or referenced entity does not exist (HTTP 404 by default).
    #[error("{0}")]
    NotFound(String),
    /// A business rule forbids the operation (HTTP 422 with a string detail).
    #[error("{0}")]
    Rule(String),
    /// The operation would violate a uniqueness rule, or lost a race (HTTP 422 with a string
    /// detail worded by the HTTP adapter).
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A field of the request is invalid in a way only the domain can tell
    /// (HTTP 422 with a validation list located at `field`).
    #[error("{}: {message}", field.join("."))]
    Invalid {
        /// Location of the offending value, e.g. `["recommendations", 3, "user_id"]` as text parts.
        field: Vec<String>,
        /// Human readable reason.
        message: String,
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
    /// `"<Entity> with id <id> not found"`.
    pub fn not_found(entity: Entity, id: impl fmt::Display) -> Self {
        DomainError::NotFound(format!("{entity} with id {id} not found"))
    }

    /// A business-rule violation with the given message.
    pub fn rule(message: impl Into<String>) -> Self {
        DomainError::Rule(message.into())
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
