//! Translation of database failures into domain errors, at the seam.
//!
//! Constraint violations become the business errors the API documents; connectivity problems
//! and pool exhaustion become `Unavailable`; everything else is `Unexpected` with context, for
//! the log only. No SQL or driver text ever reaches a client through these.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use genonaut_domain::{Conflict, DomainError, Rule};

/// Errors of administrative operations (database creation, migrations, roles).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Could not connect.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    /// A statement failed.
    #[error("{context}: {source}")]
    Query {
        /// What was being done.
        context: String,
        /// Cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Migrations failed.
    #[error("migrating schema {schema}: {message}")]
    Migration {
        /// Schema being migrated.
        schema: String,
        /// Cause.
        message: String,
    },
    /// A configuration value is invalid.
    #[error("{0}")]
    Config(String),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::Query {
            context: "database statement".into(),
            source: Box::new(e),
        }
    }
}

impl DbError {
    pub(crate) fn query(
        context: impl Into<String>,
    ) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> DbError {
        let context = context.into();
        move |source| DbError::Query { context, source }
    }
}

/// The domain errors of the constraints whose violation is a client's mistake.
fn constraint_error(constraint: &str) -> Option<DomainError> {
    Some(match constraint {
        "ix_users_username" => DomainError::Conflict(Conflict::Username(None)),
        "ix_users_email" => DomainError::Conflict(Conflict::Email(None)),
        "ix_experiments_name" => DomainError::Conflict(Conflict::ExperimentName(None)),
        "unique_user_content_interaction" => DomainError::Conflict(Conflict::SameInstantInteraction),
        "content_items_creator_id_fkey" => DomainError::Rule(Rule::CreatorMissing),
        "user_interactions_user_id_fkey"
        | "recommendations_user_id_fkey"
        | "generation_jobs_user_id_fkey" => DomainError::Rule(Rule::UserMissing),
        "user_interactions_content_item_id_fkey"
        | "recommendations_content_item_id_fkey"
        | "generation_jobs_result_content_id_fkey" => DomainError::Rule(Rule::ContentMissing),
        "content_items_not_public_and_private" => DomainError::Rule(Rule::PublicAndPrivate),
        _ => return None,
    })
}

/// Classifies a diesel error. `context` names the operation for the log.
pub(crate) fn map_diesel(context: &'static str, err: DieselError) -> DomainError {
    if let DieselError::DatabaseError(kind, info) = &err {
        if let Some(error) = info.constraint_name().and_then(constraint_error) {
            return error;
        }
        match kind {
            DatabaseErrorKind::UniqueViolation => return DomainError::Conflict(Conflict::Duplicate),
            DatabaseErrorKind::ForeignKeyViolation => {
                return DomainError::Rule(Rule::ReferenceMissing);
            }
            DatabaseErrorKind::CheckViolation => {
                return DomainError::Rule(Rule::OutOfRange);
            }
            DatabaseErrorKind::SerializationFailure => {
                return DomainError::Unavailable("concurrent update, retry the request".into());
            }
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                return DomainError::Unavailable("database connection lost".into());
            }
            DatabaseErrorKind::ReadOnlyTransaction => {
                return DomainError::Unavailable("database is read-only".into());
            }
            _ => {}
        }
        let message = info.message();
        if message.starts_with("canceling statement due to statement timeout") {
            return DomainError::Unavailable("the database did not answer in time".into());
        }
        if message.starts_with("terminating connection")
            || message.starts_with("the database system is")
            || message.contains("connection to server")
        {
            return DomainError::Unavailable("database unavailable".into());
        }
    }
    if matches!(err, DieselError::BrokenTransactionManager) {
        return DomainError::Unavailable("database connection lost".into());
    }
    DomainError::unexpected(context, err)
}

/// Closure form of [`map_diesel`] for `map_err`.
pub(crate) fn db(context: &'static str) -> impl FnOnce(DieselError) -> DomainError {
    move |err| map_diesel(context, err)
}

/// Pool checkout failures: the database is down or every connection is busy.
pub(crate) fn map_pool(
    err: deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>,
) -> DomainError {
    use deadpool::managed::PoolError;
    match err {
        PoolError::Timeout(_) => DomainError::Unavailable("all database connections are busy".into()),
        PoolError::Backend(e) => {
            tracing::warn!(error = %e, "cannot open a database connection");
            DomainError::Unavailable("database unavailable".into())
        }
        PoolError::Closed => DomainError::Unavailable("database pool closed".into()),
        PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            DomainError::unexpected("database pool", err.to_string())
        }
    }
}
