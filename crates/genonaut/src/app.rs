//! Wiring: pools → adapters → services → HTTP, and the start-up sequence.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use anyhow::Context;
use chrono::{SubsecRound, Utc};
use genonaut_db::{EventHub, PgPool, SchemaName, migrate, seed};
use genonaut_domain::ports::{Generator, OsEntropy, SystemClock};
use genonaut_domain::services::Services;
use genonaut_domain::services::{KeyService, TicketService};
use genonaut_domain::synthetic;
use genonaut_http::media::MediaSigner;
use genonaut_http::{Access, AccessSettings, ApiState, HttpSettings, Metrics, Tenant};
use genonaut_jobs::runner::Runner;
use genonaut_jobs::webhooks::WebhookWorker;
use secrecy::ExposeSecret;

use crate::config::{Config, DatabaseConfig, JobsConfig};
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

/// Seeds `schema` with the demo data set unless it already holds data, and — given a media
/// directory — writes the demo items' media files that are missing there (small, deterministic
/// pictures, animations and sounds from the offline generators), so no demo path is a 404.
pub async fn seed_demo(
    config: &DatabaseConfig,
    schema: &SchemaName,
    media_dir: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let pool = PgPool::new(config.url.expose_secret(), schema, &config.pool)?;
    let today = Utc::now()
        .naive_utc()
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .trunc_subsecs(0);
    // The data set is deterministic (its seed is fixed): the same items, types and paths
    // every time, so the media can be (re)made for a schema seeded earlier.
    let data = synthetic::generate(&synthetic::Spec::demo(today));
    if seed::is_empty(&pool).await? {
        let summary = seed::load(&pool, &data, &|_, _, _| {}).await?;
        tracing::info!(%schema, users = summary.users, items = summary.items, interactions = summary.interactions,
            millis = summary.millis as u64, "seeded the demo data set");
    }
    pool.close();
    if let Some(dir) = media_dir {
        let dir = dir.to_owned();
        let started = Instant::now();
        let written = tokio::task::spawn_blocking(move || {
            let items = data.items.iter().enumerate().map(|(i, item)| {
                (
                    item.content_data.as_str(),
                    item.content_type,
                    item.title.as_str(),
                    i as u64 + 1,
                )
            });
            genonaut_jobs::offline::demo::write_missing(&dir, items)
        })
        .await
        .context("writing the demo media")?
        .map_err(anyhow::Error::msg)?;
        if written > 0 {
            tracing::info!(%schema, files = written, millis = started.elapsed().as_millis() as u64, "wrote the demo media");
        }
    }
    Ok(())
}

/// The API keys, kept in the default schema.
pub fn key_service(pools: &[PgPool], config: &DatabaseConfig) -> anyhow::Result<KeyService> {
    let pool = pools
        .iter()
        .find(|p| p.schema() == &config.default_schema)
        .context("default schema is not served")?;
    Ok(KeyService::new(
        Arc::new(genonaut_db::repos::PgApiKeys::new(pool.clone())),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
    ))
}

/// Live-status tickets, kept (like the keys) in the default schema.
pub fn ticket_service(pools: &[PgPool], config: &DatabaseConfig) -> anyhow::Result<TicketService> {
    let pool = pools
        .iter()
        .find(|p| p.schema() == &config.default_schema)
        .context("default schema is not served")?;
    Ok(TicketService::new(
        Arc::new(genonaut_db::repos::PgTickets::new(pool.clone())),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
    ))
}

/// With authentication on and no usable admin key, creates one and prints it once — on the
/// terminal (stderr), never in the logs.
async fn announce_first_admin_key(keys: &KeyService) -> anyhow::Result<()> {
    if keys.has_admin().await? {
        return Ok(());
    }
    let created = keys
        .create("initial admin", genonaut_domain::model::Scope::Admin, None, None)
        .await?;
    tracing::warn!(prefix = %created.key.prefix, "no admin API key existed: created one (shown once on stderr)");
    eprintln!(
        "\n  Created the first admin API key (shown only now; store it safely):\n\n    {}\n\n  \
         Use it as `Authorization: Bearer <key>`; create others with `genonaut keys create`.\n",
        created.secret
    );
    Ok(())
}

/// The metrics registry: HTTP metrics, pool usage per schema, and the job runner's metrics.
fn metrics(pools: &[PgPool], runner: &Arc<Runner>, webhooks: Option<&Arc<WebhookWorker>>) -> Metrics {
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    let pools = pools.to_vec();
    let runner = runner.clone();
    let webhooks = webhooks.cloned();
    Metrics::new(move |registry| {
        let connections = Family::<Vec<(&'static str, String)>, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Pool connections per schema and state (in_use, idle, waiting = requests waiting, max)",
            connections.clone(),
        );
        runner.register_metrics(registry);
        if let Some(webhooks) = &webhooks {
            webhooks.register_metrics(registry);
        }
        Some(Arc::new(move || {
            for pool in &pools {
                let usage = pool.usage();
                let schema = pool.schema().to_string();
                let set = |state: &'static str, n: usize| {
                    connections
                        .get_or_create(&vec![("schema", schema.clone()), ("state", state.to_owned())])
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                };
                set("in_use", usage.size.saturating_sub(usage.available));
                set("idle", usage.available);
                set("waiting", usage.waiting);
                set("max", usage.max_size);
            }
        }))
    })
}

/// What `serve` and `worker` both run: a pool per schema, the job-event listener and the job
/// runner (its workers, lease reaper, maintenance loops and recommender builds).
pub struct Core {
    /// One pool per served schema, in configuration order.
    pub pools: Vec<PgPool>,
    /// The job-event listener (LISTEN/NOTIFY).
    pub hub: EventHub,
    /// What turns jobs into content (also asked by the job service to check parameters).
    pub generator: Arc<dyn Generator>,
    /// The job runner (not yet started).
    pub runner: Arc<Runner>,
    /// Delivers job webhooks (`None` without `GENONAUT_WEBHOOK_SECRET`; not yet started).
    pub webhooks: Option<Arc<WebhookWorker>>,
}

impl Core {
    /// Opens the pools and the listener and builds the runner.
    pub fn new(database: &DatabaseConfig, jobs: &JobsConfig) -> anyhow::Result<Self> {
        let pools = pools(database)?;
        let hub = EventHub::start(database.url.expose_secret())?;
        let generator = crate::jobs::generator(jobs)?;
        let runner = crate::jobs::runner(jobs, generator.clone(), &pools, &hub);
        let webhooks = crate::jobs::webhooks(jobs, &pools, &hub)?;
        Ok(Core {
            pools,
            hub,
            generator,
            runner,
            webhooks,
        })
    }

    /// Starts the job workers and the webhook deliveries.
    pub fn start(&self) {
        self.runner.start();
        if let Some(webhooks) = &self.webhooks {
            webhooks.start();
        }
    }

    /// Stops in order: the runner finishes or releases its jobs, the webhook deliveries end,
    /// then the listener and the pools close.
    pub async fn stop(self) {
        self.runner.shutdown().await;
        if let Some(webhooks) = &self.webhooks {
            webhooks.shutdown().await;
        }
        drop(self.hub);
        for pool in &self.pools {
            pool.close();
        }
    }
}

/// A built server: listening, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    core: Core,
    /// Each schema's embedding loop.
    embedders: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Prepares the database (unless told it is ready), wires every schema's services, binds
    /// the listener (port 0 picks a free port) and builds the server.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        let started = Instant::now();
        prepare_database(&mut config.database, config.auto_migrate).await?;
        if let Some(demo) = &config.seed_demo {
            seed_demo(&config.database, demo, Some(&config.jobs.media_dir)).await?;
        }
        // Each HTTP worker thread gets its own share of every pool (genonaut_db::pin_thread).
        let workers = config
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
        config.database.pool.workers = workers;
        // Everything else (job runner, recommender refresh) has its own connections: one per
        // job worker and one for the refresh, so jobs never wait for requests nor the reverse.
        config.database.pool.background = config.jobs.workers
            + 1
            + if config.jobs.webhooks.secret.is_some() {
                crate::jobs::WEBHOOK_TASKS
            } else {
                0
            };
        let core = Core::new(&config.database, &config.jobs)?;
        let Core {
            pools,
            hub,
            generator,
            runner,
            webhooks,
        } = &core;
        let model = crate::embed::load(&config.embed).await;
        let mut embedders = Vec::new();
        let tenants = config
            .database
            .schemas
            .iter()
            .zip(pools)
            .enumerate()
            .map(|(index, (schema, pool))| {
                let services = Services::new(genonaut_db::repositories(pool), Arc::new(SystemClock));
                let semantic = crate::embed::attach(services.semantic.clone(), &model);
                embedders.push(tokio::spawn(crate::embed::keep_current(
                    schema.to_string(),
                    semantic.clone(),
                    config.embed.poll,
                )));
                Tenant {
                    name: schema.as_str().into(),
                    services: Arc::new(
                        services
                            .with_semantic(semantic)
                            .with_live_events(hub.source(schema))
                            .with_generator(generator.clone())
                            .with_dispatch(runner.dispatcher(index)),
                    ),
                }
            })
            .collect();
        let state = web::Data::new(
            ApiState::new(tenants, config.database.default_schema.as_str())
                .context("default schema is not served")?,
        );
        // Generated media are served from here; it must exist before the file service starts.
        std::fs::create_dir_all(&config.jobs.media_dir)
            .with_context(|| format!("creating the media directory {}", config.jobs.media_dir.display()))?;
        let keys = key_service(pools, &config.database)?;
        if config.auth {
            announce_first_admin_key(&keys).await?;
        } else {
            tracing::warn!("API_AUTH=off: every route is open to anyone who can reach the server");
        }
        let media_signer = match &config.media_key {
            Some(key) => MediaSigner::new(key.expose_secret().as_bytes(), config.media_url_ttl),
            None => {
                tracing::warn!(
                    "GENONAUT_MEDIA_KEY is not set: signed media URLs use a random key of this process \
                     and stop working when it restarts (set the variable to keep them, and to share them between instances)"
                );
                MediaSigner::random(config.media_url_ttl).map_err(anyhow::Error::msg)?
            }
        };
        let settings = HttpSettings {
            body_limit: config.body_limit,
            cors_origins: config.cors_origins.clone(),
            media_dir: Some(config.jobs.media_dir.clone()),
            media_signer: Some(Arc::new(media_signer)),
            access: Access::new(AccessSettings {
                keys: config.auth.then_some(keys),
                cache_ttl: config.key_cache,
                per_key: config.per_key,
                per_ip: config.per_ip,
                tickets: Some(ticket_service(pools, &config.database)?),
            }),
            metrics: Arc::new(metrics(pools, runner, webhooks.as_ref())),
            webhooks: genonaut_http::WebhookSettings {
                enabled: config.jobs.webhooks.secret.is_some(),
                allow_private: config.jobs.webhooks.allow_private,
            },
            listener: Some({
                let hub = hub.clone();
                genonaut_http::ListenerProbe(Arc::new(move || hub.is_connected()))
            }),
        };
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .with_context(|| format!("binding {}:{}", config.host, config.port))?;
        let port = listener.local_addr()?.port();
        // The factory runs once on each worker thread as it starts: that thread becomes worker
        // `n` of the pools, so its requests use connections driven on the same thread.
        let started_workers = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let server = HttpServer::new(move || {
            genonaut_db::pin_thread(started_workers.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            genonaut_http::app(state.clone(), settings.clone())
        })
        .workers(workers)
        .shutdown_timeout(config.shutdown_timeout.as_secs())
        .client_request_timeout(config.request_timeout)
        .keep_alive(config.keep_alive)
        .listen(listener)?;
        tracing::info!(
            address = %format!("http://{}:{port}", config.host),
            schemas = ?config.database.schemas.iter().map(SchemaName::as_str).collect::<Vec<_>>(),
            default = %config.database.default_schema,
            startup_ms = started.elapsed().as_millis() as u64,
            "ready"
        );
        if config.jobs.workers > 0 {
            core.start();
        }
        Ok(Application {
            port,
            server: server.run(),
            core,
            embedders,
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
        for task in &self.embedders {
            task.abort();
        }
        self.core.stop().await;
        result
    }

    /// Whether this process's job-event listener is connected.
    pub fn listening(&self) -> bool {
        self.core.hub.is_connected()
    }
}
