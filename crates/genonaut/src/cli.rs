//! The command line: `serve` (default), `worker`, `migrate`, `db init`, `seed`, `eval`, `recs`.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use genonaut_db::{SchemaName, admin};
use secrecy::ExposeSecret;

use genonaut_domain::recommender::eval::Split;
use genonaut_domain::synthetic::History;

use crate::app::{Application, prepare_database, seed_demo};
use crate::config::{Config, DatabaseArgs, DatabaseConfig, JobsArgs, JobsConfig, LogFormat, ServeArgs};
use crate::keys::KeysCommand;
use crate::recs;

/// Genonaut: recommendations and content generation over PostgreSQL.
///
/// Every option can also be set with the environment variable shown (or in `.env`).
#[derive(Debug, Parser)]
#[command(name = "genonaut", version, about)]
pub struct Cli {
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default): migrates and seeds the demo schema first.
    Serve(Box<ServeArgs>),
    /// Apply pending migrations to every served schema (or one).
    Migrate(MigrateArgs),
    /// Database administration.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Load the demo data set into a schema, or with `--synthetic` a generated data set of any
    /// size with planted structure (for offline evaluation and benchmarks).
    Seed(SeedArgs),
    /// Evaluate every recommendation algorithm offline on a schema's data: hide each user's
    /// last taste (or the newest interactions), rank the whole catalogue, and print
    /// precision, recall, NDCG, hit rate and coverage at k against popularity and random.
    Eval(EvalArgs),
    /// The recommender's derived state (popularity, item neighbours, tag statistics).
    Recs {
        #[command(subcommand)]
        command: RecsCommand,
    },
    /// API keys (stored in the default schema; shown once on creation, kept only as a hash).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run generation-job workers only (no HTTP). Any number of worker processes, on any
    /// number of machines, share the queue through PostgreSQL.
    Worker(WorkerArgs),
    /// Job webhooks.
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

/// `webhooks` sub-commands.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Print a fresh signing secret (`whsec_<base64>`, 32 random bytes) once: set it as
    /// GENONAUT_WEBHOOK_SECRET on every server and worker, and give it to your receivers.
    Secret,
}

/// `worker` options.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jobs: JobsArgs,
}

/// `migrate` options.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Only this schema.
    #[arg(long)]
    pub schema: Option<String>,
}

/// `db` sub-commands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create the database if missing, migrate every served schema, and create the
    /// `genonaut_admin` / `genonaut_readwrite` / `genonaut_readonly` roles with their grants.
    /// Idempotent.
    Init(DatabaseArgs),
}

/// `seed` options.
#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Schema to load into (created and migrated if missing; the demo set needs a served one).
    #[arg(long, default_value = "demo")]
    pub schema: String,
    /// Load a generated data set of the given size instead of the demo set (the schema must
    /// be empty).
    #[arg(long)]
    pub synthetic: bool,
    /// Users of the synthetic set.
    #[arg(long, default_value_t = 5_000, requires = "synthetic")]
    pub users: usize,
    /// Items of the synthetic set.
    #[arg(long, default_value_t = 20_000, requires = "synthetic")]
    pub items: usize,
    /// Interactions of the synthetic set.
    #[arg(long, default_value_t = 500_000, requires = "synthetic")]
    pub interactions: usize,
    /// Seed of the synthetic set (same seed, same data).
    #[arg(long, default_value_t = 42, requires = "synthetic")]
    pub seed: u64,
    /// How the synthetic set's activity spreads over time: `recent` (steady, the last 90
    /// days) or `bursty` (three years, each user active in a few bursts, like public rating logs).
    #[arg(long, value_enum, default_value = "recent", requires = "synthetic")]
    pub history: HistoryArg,
    /// Load a rating data set from this folder instead (the schema must be empty): MovieLens
    /// `ratings.csv` + `movies.csv`, or `u.data` + `u.item`.
    #[arg(long, value_name = "DIR", conflicts_with = "synthetic")]
    pub import: Option<std::path::PathBuf>,
    /// Where the demo set's media files are written (as `serve` serves them); default
    /// `<data dir>/media`.
    #[arg(long, env = "GENONAUT_MEDIA_DIR")]
    pub media_dir: Option<std::path::PathBuf>,
}

/// `seed --history`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum HistoryArg {
    /// Steady activity over the last 90 days.
    Recent,
    /// Long, bursty histories over three years.
    Bursty,
}

/// How `eval` hides data.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SplitArg {
    /// Each user's most recent liked item.
    Last,
    /// Everything after a cut-off time (see `--test-fraction`).
    Time,
}

/// `eval` options.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Schema to evaluate on (default: GENONAUT_DEFAULT_SCHEMA).
    #[arg(long)]
    pub schema: Option<String>,
    /// Length of the recommendation lists.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// What to hide.
    #[arg(long, value_enum, default_value = "last")]
    pub split: SplitArg,
    /// With `--split time`: the newest fraction of interactions hidden.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Evaluate a deterministic sample of this many users (0 = all).
    #[arg(long, default_value_t = 0)]
    pub users: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `recs` sub-commands.
#[derive(Debug, Subcommand)]
pub enum RecsCommand {
    /// Build the derived state now (incremental unless `--full`); waits for the result.
    Rebuild(RecsArgs),
    /// Show the last build, staleness and any pending or running build.
    Status(RecsArgs),
    /// Compute the sentence embedding of every item that has none yet (or whose text
    /// changed), in batches, with a progress bar. Idempotent: a second run has nothing to do.
    Embed(RecsEmbedArgs),
}

/// `recs embed` options.
#[derive(Debug, Args)]
pub struct RecsEmbedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub embed: crate::config::EmbedArgs,
    /// Schema (default: GENONAUT_DEFAULT_SCHEMA).
    #[arg(long)]
    pub schema: Option<String>,
    /// Items per model call.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
}

/// `recs` options.
#[derive(Debug, Args)]
pub struct RecsArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Schema (default: GENONAUT_DEFAULT_SCHEMA).
    #[arg(long)]
    pub schema: Option<String>,
    /// Recompute everything instead of only items with new interactions.
    #[arg(long)]
    pub full: bool,
}

/// The database configuration narrowed to one schema (any valid name), prepared and migrated.
async fn one_schema(
    args: DatabaseArgs,
    schema: Option<&str>,
) -> anyhow::Result<(DatabaseConfig, SchemaName)> {
    let mut config = DatabaseConfig::try_from(args)?;
    let schema = match schema {
        Some(name) => SchemaName::parse(name)?,
        None => config.default_schema.clone(),
    };
    config.schemas = vec![schema.clone()];
    prepare_database(&mut config, true).await?;
    Ok((config, schema))
}

fn served(config: &DatabaseConfig, name: &str) -> anyhow::Result<SchemaName> {
    let schema = SchemaName::parse(name)?;
    anyhow::ensure!(
        config.schemas.contains(&schema),
        "schema {schema} is not in GENONAUT_SCHEMAS"
    );
    Ok(schema)
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Migrate(args)) => {
            let mut config = DatabaseConfig::try_from(args.database)?;
            if let Some(only) = &args.schema {
                config.schemas = vec![served(&config, only)?];
            }
            prepare_database(&mut config, true).await?;
            for schema in &config.schemas {
                println!("{schema}: up to date");
            }
            Ok(())
        }
        Some(Command::Db {
            command: DbCommand::Init(args),
        }) => {
            let mut config = DatabaseConfig::try_from(args)?;
            prepare_database(&mut config, true).await?;
            admin::init_roles(config.url.expose_secret(), &config.schemas)
                .await
                .context("creating roles")?;
            println!(
                "database ready; schemas {}; roles {}, {}, {} granted",
                config
                    .schemas
                    .iter()
                    .map(SchemaName::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                admin::ROLE_ADMIN,
                admin::ROLE_READ_WRITE,
                admin::ROLE_READ_ONLY
            );
            Ok(())
        }
        Some(Command::Worker(args)) => worker(args).await,
        Some(Command::Keys { command }) => crate::keys::run(command).await,
        Some(Command::Webhooks {
            command: WebhooksCommand::Secret,
        }) => {
            println!(
                "{}",
                genonaut_domain::model::WebhookSecret::generate(&genonaut_domain::ports::OsEntropy)?
            );
            Ok(())
        }
        Some(Command::Seed(args)) if args.synthetic => {
            let size = recs::SyntheticSize {
                users: args.users,
                items: args.items,
                interactions: args.interactions,
                seed: args.seed,
                history: match args.history {
                    HistoryArg::Recent => History::Recent,
                    HistoryArg::Bursty => History::Bursty,
                },
            };
            let (config, schema) = one_schema(args.database, Some(&args.schema)).await?;
            recs::seed_synthetic(&config, &schema, size).await
        }
        Some(Command::Seed(SeedArgs {
            database,
            schema,
            import: Some(dir),
            ..
        })) => {
            let (config, schema) = one_schema(database, Some(&schema)).await?;
            recs::seed_import(&config, &schema, &dir).await
        }
        Some(Command::Seed(args)) => {
            let mut config = DatabaseConfig::try_from(args.database)?;
            let schema = served(&config, &args.schema)?;
            config.schemas = vec![schema.clone()];
            prepare_database(&mut config, true).await?;
            let media = args.media_dir.unwrap_or_else(|| config.data_dir.join("media"));
            seed_demo(&config, &schema, Some(&media)).await?;
            println!("{schema}: demo data present");
            Ok(())
        }
        Some(Command::Eval(args)) => {
            let options = recs::EvalOptions {
                k: args.k.max(1),
                split: match args.split {
                    SplitArg::Last => Split::LeaveLastOut,
                    SplitArg::Time => Split::Time(args.test_fraction.clamp(0.01, 0.99)),
                },
                users: args.users,
                json: args.json,
            };
            let (config, schema) = one_schema(args.database, args.schema.as_deref()).await?;
            recs::eval(&config, &schema, options).await
        }
        Some(Command::Recs { command }) => match command {
            RecsCommand::Rebuild(args) => {
                let (config, schema) = one_schema(args.database, args.schema.as_deref()).await?;
                recs::rebuild(&config, &schema, args.full).await
            }
            RecsCommand::Status(args) => {
                let (config, schema) = one_schema(args.database, args.schema.as_deref()).await?;
                recs::status(&config, &schema).await
            }
            RecsCommand::Embed(args) => {
                let (config, schema) = one_schema(args.database, args.schema.as_deref()).await?;
                recs::embed(&config, &schema, &args.embed.into(), args.batch).await
            }
        },
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::try_from(args)?;
    let app = Application::build(config).await?;
    app.run_until_stopped().await?;
    Ok(())
}

async fn worker(args: WorkerArgs) -> anyhow::Result<()> {
    let mut database = DatabaseConfig::try_from(args.database)?;
    let jobs = JobsConfig::from_args(args.jobs, &database.data_dir)?;
    anyhow::ensure!(
        jobs.workers > 0,
        "GENONAUT_WORKERS must be at least 1 for `genonaut worker`"
    );
    prepare_database(&mut database, true).await?;
    let core = crate::app::Core::new(&database, &jobs)?;
    core.start();
    shutdown_signal().await;
    tracing::info!("stopping workers");
    core.stop().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_parses_with_defaults() {
        use clap::Parser;
        for args in [
            vec!["genonaut"],
            vec!["genonaut", "serve"],
            vec!["genonaut", "worker"],
            vec!["genonaut", "migrate"],
            vec!["genonaut", "db", "init"],
            vec!["genonaut", "seed", "--schema", "demo"],
            vec![
                "genonaut",
                "seed",
                "--synthetic",
                "--users",
                "10",
                "--schema",
                "eval1",
            ],
            vec!["genonaut", "eval", "--schema", "demo", "--k", "5", "--json"],
            vec!["genonaut", "eval", "--split", "time", "--test-fraction", "0.1"],
            vec!["genonaut", "recs", "rebuild", "--full"],
            vec!["genonaut", "recs", "status", "--schema", "demo"],
        ] {
            assert!(super::Cli::try_parse_from(&args).is_ok(), "{args:?}");
        }
        assert!(
            super::Cli::try_parse_from(["genonaut", "seed", "--users", "10"]).is_err(),
            "sizes only with --synthetic"
        );
    }
}
