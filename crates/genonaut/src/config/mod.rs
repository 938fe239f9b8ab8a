//! Configuration: one typed struct, read from the environment (and `.env`), overridable by
//! command-line flags. `genonaut --help` lists every variable; `.env.example` documents them.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{ArgAction, Args, ValueEnum};
use genonaut_db::{PoolSettings, SchemaName};
use genonaut_http::Rate;
use secrecy::{ExposeSecret, SecretString};

mod jobs;

pub use jobs::{ComfyUiSettings, GeneratorKind, JobsArgs, JobsConfig, OpenAiSettings, WebhooksConfig};

/// Whether to start a private PostgreSQL when none answers at `DATABASE_URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrivatePostgres {
    /// Start one under the data directory if PostgreSQL binaries are installed.
    Auto,
    /// Never; fail with a message naming `DATABASE_URL`.
    Never,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Database settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL (may contain a password; never logged).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/genonaut",
        hide_env_values = true
    )]
    pub database_url: String,
    /// Comma-separated schemas to serve (each an independent data set).
    #[arg(
        long,
        env = "GENONAUT_SCHEMAS",
        default_value = "app,demo,test",
        value_delimiter = ','
    )]
    pub schemas: Vec<String>,
    /// Schema used by requests without `X-Genonaut-Schema`.
    #[arg(long, env = "GENONAUT_DEFAULT_SCHEMA", default_value = "app")]
    pub default_schema: String,
    /// Maximum connections per schema pool.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,
    /// How long a request waits for a pooled connection before a 503 (ms).
    #[arg(long, env = "DB_POOL_TIMEOUT_MS", default_value_t = 5_000)]
    pub pool_timeout_ms: u64,
    /// How long opening a connection may take (ms).
    #[arg(long, env = "DB_CONNECT_TIMEOUT_MS", default_value_t = 5_000)]
    pub connect_timeout_ms: u64,
    /// Server-side `statement_timeout` of every connection (ms).
    #[arg(long, env = "DB_STATEMENT_TIMEOUT_MS", default_value_t = 15_000)]
    pub statement_timeout_ms: u64,
    /// Start a private PostgreSQL under the data directory when none answers.
    #[arg(long, env = "GENONAUT_PRIVATE_POSTGRES", value_enum, default_value = "auto")]
    pub private_postgres: PrivatePostgres,
    /// Directory for local state (private PostgreSQL cluster, generated media).
    #[arg(long, env = "GENONAUT_DATA_DIR", default_value = ".genonaut")]
    pub data_dir: PathBuf,
}

/// Sentence-embedding model settings shared by `serve` and `recs embed`.
#[derive(Debug, Clone, Args)]
pub struct EmbedArgs {
    /// Folder of the sentence-embedding model (all-MiniLM-L6-v2: config.json, tokenizer.json,
    /// model.safetensors; `scripts/fetch-model.sh` fetches it). Unset or incomplete: no
    /// embeddings — content and similar items fall back to tags, semantic search is refused.
    #[arg(long, env = "GENONAUT_EMBED_MODEL_DIR")]
    pub embed_model_dir: Option<PathBuf>,
    /// Name stored with every vector (`content_embeddings.model`).
    #[arg(long, env = "GENONAUT_EMBED_MODEL_NAME", default_value = "all-MiniLM-L6-v2")]
    pub embed_model_name: String,
    /// How often each serving process embeds new or changed items and reads vectors other
    /// processes wrote (ms).
    #[arg(long, env = "GENONAUT_EMBED_POLL_MS", default_value_t = 1_000)]
    pub embed_poll_ms: u64,
}

/// Validated embedding settings.
#[derive(Debug, Clone)]
pub struct EmbedConfig {
    /// Model folder (`None`: embeddings off).
    pub model_dir: Option<PathBuf>,
    /// Name stored with each vector.
    pub model_name: String,
    /// Poll interval of the embedding loop.
    pub poll: Duration,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        EmbedConfig {
            model_dir: None,
            model_name: "all-MiniLM-L6-v2".into(),
            poll: Duration::from_secs(1),
        }
    }
}

impl From<EmbedArgs> for EmbedConfig {
    fn from(a: EmbedArgs) -> Self {
        EmbedConfig {
            model_dir: a.embed_model_dir.filter(|d| !d.as_os_str().is_empty()),
            model_name: a.embed_model_name,
            poll: Duration::from_millis(a.embed_poll_ms.max(50)),
        }
    }
}

/// Settings of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jobs: JobsArgs,
    #[command(flatten)]
    pub embed: EmbedArgs,
    /// Address to listen on.
    #[arg(long, env = "API_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 = any free port).
    #[arg(long, env = "API_PORT", default_value_t = 8000)]
    pub port: u16,
    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "API_WORKERS")]
    pub api_workers: Option<usize>,
    /// Maximum request body size in bytes.
    #[arg(long, env = "API_BODY_LIMIT_BYTES", default_value_t = 1_048_576)]
    pub body_limit: usize,
    /// Allowed CORS origins, comma-separated, or `*` for any.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        default_value = "*",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Apply pending migrations to every served schema at start-up.
    #[arg(long, env = "GENONAUT_AUTO_MIGRATE", default_value_t = true, action = ArgAction::Set)]
    pub auto_migrate: bool,
    /// Seed the demo schema with generated data at start-up if it is empty.
    #[arg(long, env = "GENONAUT_SEED_DEMO", default_value_t = true, action = ArgAction::Set)]
    pub seed_demo: bool,
    /// Which served schema holds the demo data.
    #[arg(long, env = "GENONAUT_DEMO_SCHEMA", default_value = "demo")]
    pub demo_schema: String,
    /// Seconds to let in-flight requests finish on shutdown.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Require API keys (`on`/`off`). With `off` every route is open (local demos, benchmarks).
    #[arg(long, env = "API_AUTH", default_value = "on", value_parser = clap::builder::BoolishValueParser::new(), action = ArgAction::Set)]
    pub auth: bool,
    /// Seconds a verified API key is remembered (revocations take effect within this).
    #[arg(long, env = "API_KEY_CACHE_SECS", default_value_t = 5)]
    pub key_cache_secs: u64,
    /// Requests per second allowed per API key (0 = unlimited).
    #[arg(long, env = "RATE_LIMIT_PER_KEY", default_value_t = 100)]
    pub rate_per_key: u32,
    /// Requests allowed at once per API key (burst).
    #[arg(long, env = "RATE_LIMIT_KEY_BURST", default_value_t = 200)]
    pub burst_per_key: u32,
    /// Requests per second allowed per client IP without a key (0 = unlimited). Unset: 20 with
    /// `API_AUTH=on`, unlimited with `API_AUTH=off` (the previous service's clients had no
    /// limit; docs/decisions.md).
    #[arg(long, env = "RATE_LIMIT_PER_IP")]
    pub rate_per_ip: Option<u32>,
    /// Requests allowed at once per client IP without a key (burst; default twice the rate).
    #[arg(long, env = "RATE_LIMIT_IP_BURST")]
    pub burst_per_ip: Option<u32>,
    /// Secret key signing media URLs (`media_url` of content; any string, 32+ random
    /// characters recommended; never logged). Unset: a random key per process, so signed URLs
    /// stop working when the server restarts and differ between instances.
    #[arg(long, env = "GENONAUT_MEDIA_KEY", hide_env_values = true)]
    pub media_key: Option<String>,
    /// Seconds a signed media URL stays valid (rounded up to the minute).
    #[arg(long, env = "GENONAUT_MEDIA_URL_TTL_SECS", default_value_t = 3600)]
    pub media_url_ttl_secs: u64,
    /// Seconds a client may take to send a request's headers.
    #[arg(long, env = "API_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    pub request_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, env = "API_KEEP_ALIVE_SECS", default_value_t = 30)]
    pub keep_alive_secs: u64,
}

/// Validated database configuration.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Connection URL.
    pub url: SecretString,
    /// Served schemas, in order.
    pub schemas: Vec<SchemaName>,
    /// Default schema.
    pub default_schema: SchemaName,
    /// Pool settings.
    pub pool: PoolSettings,
    /// Private PostgreSQL policy.
    pub private_postgres: PrivatePostgres,
    /// Local state directory.
    pub data_dir: PathBuf,
}

impl DatabaseConfig {
    /// The URL with any password replaced by `***`, for messages.
    pub fn redacted_url(&self) -> String {
        redact(self.url.expose_secret())
    }
}

/// Replaces the password of a URL with `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl TryFrom<DatabaseArgs> for DatabaseConfig {
    type Error = anyhow::Error;

    fn try_from(a: DatabaseArgs) -> anyhow::Result<Self> {
        let mut schemas = Vec::new();
        for raw in a.schemas.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let name = SchemaName::parse(raw).context("GENONAUT_SCHEMAS")?;
            if !schemas.contains(&name) {
                schemas.push(name);
            }
        }
        if schemas.is_empty() {
            bail!("GENONAUT_SCHEMAS names no schema");
        }
        let default_schema = SchemaName::parse(a.default_schema.trim()).context("GENONAUT_DEFAULT_SCHEMA")?;
        if !schemas.contains(&default_schema) {
            bail!("GENONAUT_DEFAULT_SCHEMA '{default_schema}' is not among GENONAUT_SCHEMAS");
        }
        if a.pool_size == 0 {
            bail!("DB_POOL_SIZE must be at least 1");
        }
        Ok(DatabaseConfig {
            url: SecretString::from(a.database_url),
            schemas,
            default_schema,
            pool: PoolSettings {
                max_size: a.pool_size,
                wait_timeout: Duration::from_millis(a.pool_timeout_ms),
                connect_timeout: Duration::from_millis(a.connect_timeout_ms),
                statement_timeout: Duration::from_millis(a.statement_timeout_ms),
                // `serve` sets its HTTP worker shares; other commands use one pool.
                workers: 0,
                background: 1,
            },
            private_postgres: a.private_postgres,
            data_dir: a.data_dir,
        })
    }
}

/// Validated configuration of `serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database.
    pub database: DatabaseConfig,
    /// Listen address.
    pub host: String,
    /// Listen port (0 = any).
    pub port: u16,
    /// HTTP worker threads.
    pub workers: Option<usize>,
    /// Body limit in bytes.
    pub body_limit: usize,
    /// CORS origins (`None` = any).
    pub cors_origins: Option<Vec<String>>,
    /// Migrate at start-up.
    pub auto_migrate: bool,
    /// Demo schema to seed at start-up (if served and seeding is on).
    pub seed_demo: Option<SchemaName>,
    /// Graceful shutdown window.
    pub shutdown_timeout: Duration,
    /// Job runner.
    pub jobs: JobsConfig,
    /// Sentence embeddings.
    pub embed: EmbedConfig,
    /// Require API keys.
    pub auth: bool,
    /// How long verified keys are cached.
    pub key_cache: Duration,
    /// Rate limit per key.
    pub per_key: Option<Rate>,
    /// Rate limit per IP (requests without a key).
    pub per_ip: Option<Rate>,
    /// Time to receive a request's headers.
    pub request_timeout: Duration,
    /// Idle keep-alive time.
    pub keep_alive: Duration,
    /// Key of signed media URLs (`None`: random per process).
    pub media_key: Option<SecretString>,
    /// Validity of signed media URLs.
    pub media_url_ttl: Duration,
}

/// A rate from `per_second` and `burst`; 0 per second = unlimited.
fn rate(per_second: u32, burst: u32) -> Option<Rate> {
    let per_second = NonZeroU32::new(per_second)?;
    Some(Rate {
        per_second,
        burst: NonZeroU32::new(burst).unwrap_or(per_second),
    })
}

/// The per-IP limit: as configured; unset, 20/s (burst 40) with keys required and none without
/// them (`API_AUTH=off` is the previous service's mode, whose clients met no limit).
fn ip_rate(auth: bool, per_second: Option<u32>, burst: Option<u32>) -> Option<Rate> {
    let per_second = match per_second {
        Some(n) => n,
        None if auth => 20,
        None => return None,
    };
    rate(per_second, burst.unwrap_or(per_second.saturating_mul(2)))
}

impl TryFrom<ServeArgs> for Config {
    type Error = anyhow::Error;

    fn try_from(a: ServeArgs) -> anyhow::Result<Self> {
        let database = DatabaseConfig::try_from(a.database)?;
        let jobs = JobsConfig::from_args(a.jobs, &database.data_dir)?;
        let demo = SchemaName::parse(a.demo_schema.trim()).context("GENONAUT_DEMO_SCHEMA")?;
        let seed_demo = (a.seed_demo && database.schemas.contains(&demo)).then_some(demo);
        let origins: Vec<String> = a
            .cors_origins
            .into_iter()
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let cors_origins = if origins.is_empty() || origins.iter().any(|o| o == "*") {
            None
        } else {
            Some(origins)
        };
        if a.body_limit < 1024 {
            bail!("API_BODY_LIMIT_BYTES must be at least 1024");
        }
        Ok(Config {
            database,
            host: a.host,
            port: a.port,
            workers: a.api_workers.filter(|w| *w > 0),
            body_limit: a.body_limit,
            cors_origins,
            auto_migrate: a.auto_migrate,
            seed_demo,
            shutdown_timeout: Duration::from_secs(a.shutdown_timeout_secs),
            jobs,
            embed: a.embed.into(),
            auth: a.auth,
            key_cache: Duration::from_secs(a.key_cache_secs),
            per_key: rate(a.rate_per_key, a.burst_per_key),
            per_ip: ip_rate(a.auth, a.rate_per_ip, a.burst_per_ip),
            request_timeout: Duration::from_secs(a.request_timeout_secs.max(1)),
            keep_alive: Duration::from_secs(a.keep_alive_secs),
            media_key: a.media_key.filter(|k| !k.is_empty()).map(SecretString::from),
            media_url_ttl: Duration::from_secs(a.media_url_ttl_secs.max(1)),
        })
    }
}

#[cfg(test)]
mod tests;
