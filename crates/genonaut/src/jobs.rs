//! Wiring of the job runner: generator, media store, queues and live events of every schema.

use std::sync::Arc;

use anyhow::Context as _;

use genonaut_db::{EventHub, PgPool};
use genonaut_domain::ports::{
    Generator, OsEntropy, QueueSignal, RecommenderBuildStore, RetryPolicy, SystemClock,
};
use genonaut_domain::services::{MaintenanceConfig, RecommenderService, WebhookDeliverer};
use genonaut_jobs::comfyui::{ComfyUiConfig, ComfyUiGenerator, Workflows};
use genonaut_jobs::media::FsMediaStore;
use genonaut_jobs::offline::{NoopGenerator, OfflineGenerator};
use genonaut_jobs::openai::{OpenAiConfig, OpenAiGenerator};
use genonaut_jobs::retry::Retries;
use genonaut_jobs::runner::{Runner, RunnerConfig, SchemaQueue};
use genonaut_jobs::webhooks::{HyperSender, WebhookTenant, WebhookWorker, WebhookWorkerConfig};
use secrecy::ExposeSecret;

use crate::config::{GeneratorKind, JobsConfig};

/// The configured generator (fails when the ComfyUI settings or workflows are unusable).
pub fn generator(config: &JobsConfig) -> anyhow::Result<Arc<dyn Generator>> {
    let offline: Arc<dyn Generator> = Arc::new(OfflineGenerator::new(config.step_delay));
    Ok(match config.generator {
        GeneratorKind::Offline => offline,
        GeneratorKind::Noop => Arc::new(NoopGenerator),
        GeneratorKind::Comfyui => {
            let settings = &config.comfyui;
            let workflows = Workflows::load(&settings.workflows)
                .map_err(|e| anyhow::anyhow!("COMFYUI_WORKFLOWS: {e}"))?;
            tracing::info!(url = %settings.url, workflows = ?workflows.names(), "ComfyUI generator");
            Arc::new(
                ComfyUiGenerator::new(
                    ComfyUiConfig {
                        url: settings.url.clone(),
                        timeout: settings.timeout,
                        retries: Retries {
                            max_retries: settings.max_retries,
                            base: settings.retry_base,
                        },
                    },
                    workflows,
                    offline,
                )
                .map_err(anyhow::Error::msg)?,
            )
        }
        GeneratorKind::Openai => Arc::new(OpenAiGenerator::new(
            OpenAiConfig {
                base_url: config.openai.base_url.clone(),
                api_key: config
                    .openai
                    .api_key
                    .as_ref()
                    .map(|k| k.expose_secret().to_owned()),
                text_model: config.openai.model.clone(),
                image_model: config.openai.image_model.clone(),
                timeout: config.openai.timeout,
                max_retries: config.openai.max_retries,
                retry_base: std::time::Duration::from_secs(1),
            },
            offline,
        )),
    })
}

/// The recommender's maintenance over one schema's store.
pub fn recommender(config: &JobsConfig, store: Arc<dyn RecommenderBuildStore>) -> RecommenderService {
    RecommenderService::new(
        store,
        Arc::new(SystemClock),
        MaintenanceConfig {
            refresh: config.recs_refresh,
            ..MaintenanceConfig::default()
        },
    )
}

/// A runner over every schema's queue (not started), running jobs with `generator`.
pub fn runner(
    config: &JobsConfig,
    generator: Arc<dyn Generator>,
    pools: &[PgPool],
    hub: &EventHub,
) -> Arc<Runner> {
    let tenants = pools
        .iter()
        .map(|pool| {
            let repos = genonaut_db::repositories(pool);
            SchemaQueue {
                name: pool.schema().to_string(),
                queue: repos.queue,
                events: Some(hub.source(pool.schema())),
                recommender: Some(recommender(config, repos.recommender_builds)),
                interactions: Some(repos.interactions),
            }
        })
        .collect();
    let hub = hub.clone();
    let signals = Arc::new(move || hub.signal() as Arc<dyn QueueSignal>);
    let runner_config = RunnerConfig {
        workers: config.workers,
        lease: config.lease,
        heartbeat: config.lease / 3,
        retry: RetryPolicy {
            base: config.retry_base,
            ..RetryPolicy::default()
        },
        reap_every: config.lease / 2,
        maintenance_every: config.recs_check,
        shutdown_grace: config.shutdown_grace,
        max_running_per_user: config.max_running_per_user,
        ..RunnerConfig::default()
    };
    Runner::new(
        tenants,
        generator,
        Arc::new(FsMediaStore::new(&config.media_dir)),
        Arc::new(SystemClock),
        signals,
        runner_config,
    )
}

/// Concurrent webhook delivery tasks of a process (each uses one background connection while
/// it claims or records).
pub const WEBHOOK_TASKS: usize = 2;

/// The webhook deliverer over every schema's outbox (not started); `None` without a signing
/// secret (no job can ask for a webhook then).
pub fn webhooks(
    config: &JobsConfig,
    pools: &[PgPool],
    hub: &EventHub,
) -> anyhow::Result<Option<Arc<WebhookWorker>>> {
    let Some(secret) = config.webhooks.secret.clone() else {
        return Ok(None);
    };
    let policy = config.webhooks.policy.clone();
    let sender = Arc::new(
        HyperSender::new(policy.timeout, config.webhooks.allow_private)
            .context("building the webhook client's TLS configuration")?,
    );
    let tenants = pools
        .iter()
        .map(|pool| WebhookTenant {
            name: pool.schema().to_string(),
            deliverer: WebhookDeliverer::new(
                genonaut_db::repositories(pool).webhooks,
                sender.clone(),
                Arc::new(SystemClock),
                Arc::new(OsEntropy),
                secret.clone(),
                policy.clone(),
            ),
        })
        .collect();
    let hub = hub.clone();
    Ok(Some(WebhookWorker::new(
        tenants,
        Arc::new(move || hub.webhook_signal()),
        WebhookWorkerConfig {
            tasks: WEBHOOK_TASKS,
            ..WebhookWorkerConfig::default()
        },
    )))
}
