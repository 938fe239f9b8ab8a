//! Wiring: pools → adapters → services → HTTP, and the start-up sequence.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use anyhow::Context;
use chrono::{SubsecRound, Utc};
use genonaut_db::{EventHub, PgPool, SchemaName, migrate, seed};
use genonaut_domain::ports::SystemClock;
use genonaut_domain::services::Services;
use genonaut_domain::synthetic;
use genonaut_http::{ApiState, HttpSettings, Tenant};
use genonaut_jobs::runner::Runner;
use secrecy::ExposeSecret;

use crate::config::{Config, DatabaseConfig};
use crate::postgres;

/// One pool per served schema, in configuration order.
pub fn pools(config: &DatabaseConfig) -> anyhow::Result<Vec<PgPool>> {
    config
        .schemas
        .iter()
        .map(|schema| PgPool::new(config.url.expose_secret(), schema, &config.pool).map_err(Into::into))
        .collect()
}

/// Makes the database ready: a server answers (private one if needed), the database exists,
/// and — when enabled — every served schema is migrated.
pub async fn prepare_database(config: &mut DatabaseConfig, auto_migrate: bool) -> anyhow::Result<()> {
    postgres::ensure_server(config).await?;
    let url = config.url.expose_secret().to_owned();
    if genonaut_db::admin::ensure_database(&url).await? {
        tracing::info!(url = %config.redacted_url(), "created the database");
    }
    for schema in &config.schemas {
        if auto_migrate {
            let applied = migrate::migrate(&url, schema).await?;
            if !applied.is_empty() {
                tracing::info!(%schema, migrations = ?applied, "migrated");
            }
        } else {
            let pending = migrate::pending(&url, schema).await?;
            anyhow::ensure!(
                pending.is_empty(),
                "schema {schema} has pending migrations {pending:?}; run `genonaut migrate` (GENONAUT_AUTO_MIGRATE=false)"
            );
        }
    }
    Ok(())
}

/// Seeds `schema` with the demo data set unless it already holds data.
pub async fn seed_demo(config: &DatabaseConfig, schema: &SchemaName) -> anyhow::Result<()> {
    let pool = PgPool::new(config.url.expose_secret(), schema, &config.pool)?;
    if !seed::is_empty(&pool).await? {
        return Ok(());
    }
    let today = Utc::now()
        .naive_utc()
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .trunc_subsecs(0);
    let data = synthetic::generate(&synthetic::Spec::demo(today));
    let summary = seed::load(&pool, &data, &|_, _, _| {}).await?;
    tracing::info!(%schema, users = summary.users, items = summary.items, interactions = summary.interactions,
        millis = summary.millis as u64, "seeded the demo data set");
    pool.close();
    Ok(())
}

/// A built server: listening, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    pools: Vec<PgPool>,
    runner: Arc<Runner>,
    hub: EventHub,
}

impl Application {
    /// Prepares the database (unless told it is ready), wires every schema's services, binds
    /// the listener (port 0 picks a free port) and builds the server.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        let started = Instant::now();
        prepare_database(&mut config.database, config.auto_migrate).await?;
        if let Some(demo) = &config.seed_demo {
            seed_demo(&config.database, demo).await?;
        }
        let pools = pools(&config.database)?;
        let hub = EventHub::start(config.database.url.expose_secret())?;
        let runner = crate::jobs::runner(&config.jobs, &pools, &hub);
        let tenants = config
            .database
            .schemas
            .iter()
            .zip(&pools)
            .enumerate()
            .map(|(index, (schema, pool))| Tenant {
                name: schema.as_str().into(),
                services: Arc::new(
                    Services::new(genonaut_db::repositories(pool), Arc::new(SystemClock))
                        .with_live_events(hub.source(schema))
                        .with_dispatch(runner.dispatcher(index)),
                ),
            })
            .collect();
        let state = web::Data::new(
            ApiState::new(tenants, config.database.default_schema.as_str())
                .context("default schema is not served")?,
        );
        let settings = HttpSettings {
            body_limit: config.body_limit,
            cors_origins: config.cors_origins.clone(),
            media_dir: Some(config.jobs.media_dir.clone()),
        };
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || genonaut_http::app(state.clone(), settings.clone()))
            .shutdown_timeout(config.shutdown_timeout.as_secs())
            .listen(listener)?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        tracing::info!(
            address = %format!("http://{}:{port}", config.host),
            schemas = ?config.database.schemas.iter().map(SchemaName::as_str).collect::<Vec<_>>(),
            default = %config.database.default_schema,
            startup_ms = started.elapsed().as_millis() as u64,
            "ready"
        );
        if config.jobs.workers > 0 {
            runner.start();
        }
        Ok(Application {
            port,
            server: server.run(),
            pools,
            runner,
            hub,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGINT/SIGTERM or [`handle`](Self::handle)): the server drains
    /// in-flight requests, the job runner finishes or releases its jobs, then the pools close.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.runner.shutdown().await;
        drop(self.hub);
        for pool in &self.pools {
            pool.close();
        }
        result
    }

    /// Whether this process's job-event listener is connected.
    pub fn listening(&self) -> bool {
        self.hub.is_connected()
    }
}
