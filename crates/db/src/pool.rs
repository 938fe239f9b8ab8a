//! One deadpool pool of diesel-async connections per PostgreSQL schema.

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use futures_util::FutureExt;
use genonaut_domain::DomainResult;

use crate::error::{DbError, map_pool};
use crate::schema_name::SchemaName;

/// Connection and pool settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Maximum open connections of each schema's pool.
    pub max_size: usize,
    /// How long a request waits for a free connection before failing with 503.
    pub wait_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// Server-side limit for every statement (`statement_timeout`).
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_size: 16,
            wait_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(15),
        }
    }
}

/// A pool whose connections all have `search_path = <schema>, public`.
#[derive(Clone)]
pub struct PgPool {
    pool: Pool<AsyncPgConnection>,
    schema: SchemaName,
}

/// A checked-out connection.
pub type PgConn = Object<AsyncPgConnection>;

impl PgPool {
    /// Builds the pool (connections open lazily, on first use).
    pub fn new(database_url: &str, schema: &SchemaName, settings: &PoolSettings) -> Result<Self, DbError> {
        let base = parse_config(database_url)?;
        let statement_timeout_ms = settings.statement_timeout.as_millis();
        let connect_timeout = settings.connect_timeout;
        let schema_for_setup = schema.clone();
        let mut config = ManagerConfig::default();
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(move |_url| {
            let mut cfg = base.clone();
            cfg.options(format!(
                "-c search_path={schema_for_setup},public -c statement_timeout={statement_timeout_ms}"
            ));
            cfg.connect_timeout(connect_timeout);
            async move {
                let (client, connection) = cfg
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
            .boxed()
        });
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
        let pool = Pool::builder(manager)
            .max_size(settings.max_size)
            .wait_timeout(Some(settings.wait_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Config(format!("database pool: {e}")))?;
        Ok(PgPool {
            pool,
            schema: schema.clone(),
        })
    }

    /// Checks out a connection; an unreachable database or exhausted pool is `Unavailable`.
    pub async fn get(&self) -> DomainResult<PgConn> {
        self.pool.get().await.map_err(map_pool)
    }

    /// The schema this pool serves.
    pub fn schema(&self) -> &SchemaName {
        &self.schema
    }

    /// Connections in use and requests waiting for one.
    pub fn usage(&self) -> PoolUsage {
        let status = self.pool.status();
        PoolUsage {
            size: status.size,
            available: status.available,
            waiting: status.waiting,
            max_size: status.max_size,
        }
    }

    /// Closes the pool (idle connections are dropped; further checkouts fail).
    pub fn close(&self) {
        self.pool.close();
    }
}

/// A snapshot of a pool's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Open connections.
    pub size: usize,
    /// Idle open connections.
    pub available: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
    /// Upper bound.
    pub max_size: usize,
}

/// Parses a `postgres://` URL or key=value connection string.
pub(crate) fn parse_config(database_url: &str) -> Result<tokio_postgres::Config, DbError> {
    database_url
        .parse::<tokio_postgres::Config>()
        .map_err(|e| DbError::Config(format!("invalid DATABASE_URL: {e}")))
}
