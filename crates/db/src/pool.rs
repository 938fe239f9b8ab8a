//! One deadpool pool of diesel-async connections per PostgreSQL schema — split, in a server,
//! into one share per HTTP worker thread.
//!
//! Why the split: a tokio-postgres connection is driven by a task on the runtime that opened
//! it. actix-web runs one single-threaded runtime per worker, so with one shared pool about
//! half the requests used a connection driven by the *other* worker: every query then crossed
//! threads twice (two wake-ups, two context switches). Measured on the health route: 31.7 µs of
//! server CPU per request with two workers sharing, 24.7 µs with one worker (docs/performance.md).
//! With [`PoolSettings::workers`] > 0 the pool keeps one share per worker (a worker thread
//! declares its index with [`pin_thread`]), which split `max_size` between them, and a
//! separate share of [`PoolSettings::background`] connections for every other thread (job
//! runner, recommender refresh): background work cannot take the connections requests need,
//! nor requests those of the jobs.

use std::cell::Cell;
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
    /// Maximum open connections of each schema's pool that serve requests (with `workers` > 0,
    /// split between the workers' shares).
    pub max_size: usize,
    /// How long a request waits for a free connection before failing with 503.
    pub wait_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// Server-side limit for every statement (`statement_timeout`).
    pub statement_timeout: Duration,
    /// HTTP worker threads that get their own share of `max_size` (0 = one pool of `max_size`
    /// for every thread, as the CLI commands use).
    pub workers: usize,
    /// With `workers` > 0: connections, on top of `max_size`, for every thread that is not a
    /// worker (at least 1).
    pub background: usize,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_size: 16,
            wait_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(15),
            workers: 0,
            background: 1,
        }
    }
}

thread_local! {
    /// The worker index of this thread (see [`pin_thread`]).
    static WORKER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Declares the calling thread to be HTTP worker `index`: from now on it takes connections
/// from that worker's share of every pool (and they are driven on this thread).
pub fn pin_thread(index: usize) {
    WORKER.with(|w| w.set(Some(index)));
}

/// A pool whose connections all have `search_path = <schema>, public`.
#[derive(Clone)]
pub struct PgPool {
    /// One share per worker, then the background share; or a single shared pool.
    shares: std::sync::Arc<[Pool<AsyncPgConnection>]>,
    schema: SchemaName,
}

/// A checked-out connection.
pub type PgConn = Object<AsyncPgConnection>;

impl PgPool {
    /// Builds the pool (connections open lazily, on first use).
    pub fn new(database_url: &str, schema: &SchemaName, settings: &PoolSettings) -> Result<Self, DbError> {
        let workers = settings.workers;
        let sizes: Vec<usize> = if workers == 0 {
            vec![settings.max_size]
        } else {
            // `max_size` split between the workers as evenly as it goes (each can hold one
            // connection), then the background share.
            (0..workers)
                .map(|i| (settings.max_size / workers + usize::from(i < settings.max_size % workers)).max(1))
                .chain([settings.background.max(1)])
                .collect()
        };
        let shares = sizes
            .into_iter()
            .map(|size| Self::share(database_url, schema, settings, size))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PgPool {
            shares: shares.into(),
            schema: schema.clone(),
        })
    }

    fn share(
        database_url: &str,
        schema: &SchemaName,
        settings: &PoolSettings,
        max_size: usize,
    ) -> Result<Pool<AsyncPgConnection>, DbError> {
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
        Pool::builder(manager)
            .max_size(max_size)
            .wait_timeout(Some(settings.wait_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Config(format!("database pool: {e}")))
    }

    /// The share the calling thread takes its connections from.
    fn mine(&self) -> &Pool<AsyncPgConnection> {
        let last = self.shares.len() - 1;
        let index = match WORKER.with(Cell::get) {
            Some(worker) if last > 0 => worker % last,
            _ => last,
        };
        &self.shares[index]
    }

    /// Checks out a connection; an unreachable database or exhausted pool is `Unavailable`.
    pub async fn get(&self) -> DomainResult<PgConn> {
        self.mine().get().await.map_err(map_pool)
    }

    /// The schema this pool serves.
    pub fn schema(&self) -> &SchemaName {
        &self.schema
    }

    /// Connections in use and requests waiting for one (all shares together).
    pub fn usage(&self) -> PoolUsage {
        self.shares.iter().map(Pool::status).fold(
            PoolUsage {
                size: 0,
                available: 0,
                waiting: 0,
                max_size: 0,
            },
            |sum, s| PoolUsage {
                size: sum.size + s.size,
                available: sum.available + s.available,
                waiting: sum.waiting + s.waiting,
                max_size: sum.max_size + s.max_size,
            },
        )
    }

    /// Closes the pool (idle connections are dropped; further checkouts fail).
    pub fn close(&self) {
        for share in self.shares.iter() {
            share.close();
        }
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
