//! Job runner settings (`serve` and `worker`): workers, leases, the generator and its
//! servers, webhooks.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{ArgAction, Args, ValueEnum};
use secrecy::SecretString;

/// Which generator runs jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GeneratorKind {
    /// Built-in, deterministic, no network.
    Offline,
    /// An OpenAI-compatible server (text and images; audio and video stay offline).
    Openai,
    /// A ComfyUI server running workflow templates (images; text, audio and video stay
    /// offline).
    Comfyui,
    /// Instant tiny outputs (benchmarks).
    Noop,
}

/// Job runner settings shared by `serve` and `worker`.
#[derive(Debug, Clone, Args)]
pub struct JobsArgs {
    /// In-process job workers (0 disables running jobs in this process).
    #[arg(long, env = "GENONAUT_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Seconds a job's lease lasts; a worker that stops renewing loses the job after this.
    #[arg(long, env = "GENONAUT_LEASE_SECS", default_value_t = 30)]
    pub lease_secs: u64,
    /// Base of the exponential backoff between attempts (seconds).
    #[arg(long, env = "GENONAUT_RETRY_BASE_SECS", default_value_t = 2)]
    pub retry_base_secs: u64,
    /// Seconds running jobs may take to finish on shutdown before their leases are released.
    #[arg(long, env = "GENONAUT_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Most jobs of one user running at once, across every worker process (unlimited if unset).
    #[arg(long, env = "GENONAUT_MAX_RUNNING_PER_USER", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_running_per_user: Option<u32>,
    /// The generator.
    #[arg(long, env = "GENONAUT_GENERATOR", value_enum, default_value = "offline")]
    pub generator: GeneratorKind,
    /// Pause per step of the offline generator, so progress is visible (ms).
    #[arg(long, env = "GENONAUT_GENERATION_STEP_MS", default_value_t = 150)]
    pub step_ms: u64,
    /// Directory of generated media files (served under /media/); default `<data dir>/media`.
    #[arg(long, env = "GENONAUT_MEDIA_DIR")]
    pub media_dir: Option<PathBuf>,
    /// OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 (Ollama) or https://api.openai.com/v1.
    #[arg(long, env = "OPENAI_BASE_URL", default_value = "http://127.0.0.1:11434/v1")]
    pub openai_base_url: String,
    /// API key for the OpenAI-compatible server (never logged).
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,
    /// Chat model for text jobs.
    #[arg(long, env = "OPENAI_MODEL", default_value = "llama3.2")]
    pub openai_model: String,
    /// Image model; unset: image jobs use the offline generator.
    #[arg(long, env = "OPENAI_IMAGE_MODEL")]
    pub openai_image_model: Option<String>,
    /// Time limit of one generation request (seconds).
    #[arg(long, env = "OPENAI_TIMEOUT_SECS", default_value_t = 120)]
    pub openai_timeout_secs: u64,
    /// Retries of one request on 429, 5xx and network errors.
    #[arg(long, env = "OPENAI_MAX_RETRIES", default_value_t = 3)]
    pub openai_max_retries: u32,
    /// ComfyUI server (GENONAUT_GENERATOR=comfyui), plain http://.
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub comfyui_url: String,
    /// Folder of ComfyUI workflow templates (*.json in ComfyUI's API format with
    /// placeholders); `parameters.workflow` names one by file stem.
    #[arg(long, env = "COMFYUI_WORKFLOWS", default_value = "examples/comfyui")]
    pub comfyui_workflows: PathBuf,
    /// Time limit of one request to ComfyUI (seconds).
    #[arg(long, env = "COMFYUI_TIMEOUT_SECS", default_value_t = 60)]
    pub comfyui_timeout_secs: u64,
    /// Retries of one request to ComfyUI on 429, 5xx and network errors.
    #[arg(long, env = "COMFYUI_MAX_RETRIES", default_value_t = 3)]
    pub comfyui_max_retries: u32,
    /// Seconds after which the recommender's derived state is refreshed when interactions
    /// arrived since its last build (0 disables scheduled builds; requested ones still run).
    #[arg(long, env = "GENONAUT_RECS_REFRESH_SECS", default_value_t = 300)]
    pub recs_refresh_secs: u64,
    /// Signing secret of job webhooks, `whsec_<base64>` (`genonaut webhooks secret` makes one;
    /// never logged). Unset: jobs asking for a webhook are refused (422).
    #[arg(long, env = "GENONAUT_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Let webhooks target loopback, private, link-local and other internal addresses (local
    /// receivers, tests). Off: such targets are refused at submission and at delivery.
    #[arg(long, env = "GENONAUT_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, value_parser = clap::builder::BoolishValueParser::new(), action = ArgAction::Set)]
    pub webhook_allow_private: bool,
}

/// Validated job runner configuration.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// In-process workers.
    pub workers: usize,
    /// Lease length.
    pub lease: Duration,
    /// Backoff base.
    pub retry_base: Duration,
    /// Shutdown grace.
    pub shutdown_grace: Duration,
    /// Per-user cap on running jobs.
    pub max_running_per_user: Option<u32>,
    /// Generator.
    pub generator: GeneratorKind,
    /// Offline step pause.
    pub step_delay: Duration,
    /// Media directory.
    pub media_dir: PathBuf,
    /// OpenAI settings.
    pub openai: OpenAiSettings,
    /// ComfyUI settings.
    pub comfyui: ComfyUiSettings,
    /// Scheduled refresh of the recommender's derived state (`None`: only on request).
    pub recs_refresh: Option<Duration>,
    /// How often workers check for a requested or due recommender build.
    pub recs_check: Duration,
    /// Webhooks of jobs.
    pub webhooks: WebhooksConfig,
}

/// Webhook settings.
#[derive(Debug, Clone, Default)]
pub struct WebhooksConfig {
    /// Signing secret (`None`: webhooks refused).
    pub secret: Option<genonaut_domain::model::WebhookSecret>,
    /// Whether internal addresses may be targeted.
    pub allow_private: bool,
    /// Retry schedule and limits.
    pub policy: genonaut_domain::model::DeliveryPolicy,
}

/// OpenAI-compatible server settings.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// Base URL.
    pub base_url: String,
    /// API key (secret).
    pub api_key: Option<SecretString>,
    /// Chat model.
    pub model: String,
    /// Image model.
    pub image_model: Option<String>,
    /// Request timeout.
    pub timeout: Duration,
    /// Retries.
    pub max_retries: u32,
}

/// ComfyUI server settings.
#[derive(Debug, Clone)]
pub struct ComfyUiSettings {
    /// Base URL.
    pub url: String,
    /// Folder of workflow templates.
    pub workflows: PathBuf,
    /// Request timeout.
    pub timeout: Duration,
    /// Retries.
    pub max_retries: u32,
    /// First pause between retries (doubles).
    pub retry_base: Duration,
}

impl JobsConfig {
    /// Validates `args`; media default under `data_dir`.
    pub fn from_args(a: JobsArgs, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        if a.lease_secs < 3 {
            bail!("GENONAUT_LEASE_SECS must be at least 3");
        }
        Ok(JobsConfig {
            workers: a.workers,
            lease: Duration::from_secs(a.lease_secs),
            retry_base: Duration::from_secs(a.retry_base_secs.max(1)),
            shutdown_grace: Duration::from_secs(a.shutdown_grace_secs),
            max_running_per_user: a.max_running_per_user,
            generator: a.generator,
            step_delay: Duration::from_millis(a.step_ms.min(5_000)),
            media_dir: a.media_dir.unwrap_or_else(|| data_dir.join("media")),
            openai: OpenAiSettings {
                base_url: a.openai_base_url,
                api_key: a.openai_api_key.filter(|k| !k.is_empty()).map(SecretString::from),
                model: a.openai_model,
                image_model: a.openai_image_model.filter(|m| !m.is_empty()),
                timeout: Duration::from_secs(a.openai_timeout_secs.max(1)),
                max_retries: a.openai_max_retries,
            },
            comfyui: ComfyUiSettings {
                url: a.comfyui_url,
                workflows: a.comfyui_workflows,
                timeout: Duration::from_secs(a.comfyui_timeout_secs.max(1)),
                max_retries: a.comfyui_max_retries,
                retry_base: Duration::from_secs(1),
            },
            recs_refresh: (a.recs_refresh_secs > 0).then(|| Duration::from_secs(a.recs_refresh_secs)),
            recs_check: Duration::from_secs(5),
            webhooks: WebhooksConfig {
                secret: match a.webhook_secret.filter(|s| !s.trim().is_empty()) {
                    Some(raw) => Some(
                        genonaut_domain::model::WebhookSecret::parse(&raw)
                            .map_err(|e| anyhow::anyhow!("GENONAUT_WEBHOOK_SECRET: {e}"))?,
                    ),
                    None => None,
                },
                allow_private: a.webhook_allow_private,
                policy: genonaut_domain::model::DeliveryPolicy::default(),
            },
        })
    }
}
