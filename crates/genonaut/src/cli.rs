//! The command line: `serve` (default), `migrate`, `db init`, `seed`.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use genonaut_db::{SchemaName, admin};
use secrecy::ExposeSecret;

use crate::app::{Application, prepare_database, seed_demo};
use crate::config::{Config, DatabaseArgs, DatabaseConfig, JobsArgs, JobsConfig, LogFormat, ServeArgs};

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
    /// Load the demo data set into a schema.
    Seed(SeedArgs),
    /// Run generation-job workers only (no HTTP). Any number of worker processes, on any
    /// number of machines, share the queue through PostgreSQL.
    Worker(WorkerArgs),
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
    /// Schema to load into (must be served).
    #[arg(long, default_value = "demo")]
    pub schema: String,
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
        Some(Command::Seed(args)) => {
            let mut config = DatabaseConfig::try_from(args.database)?;
            let schema = served(&config, &args.schema)?;
            config.schemas = vec![schema.clone()];
            prepare_database(&mut config, true).await?;
            seed_demo(&config, &schema).await?;
            println!("{schema}: demo data present");
            Ok(())
        }
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
    let pools = crate::app::pools(&database)?;
    let hub = genonaut_db::EventHub::start(database.url.expose_secret())?;
    let runner = crate::jobs::runner(&jobs, &pools, &hub);
    runner.start();
    shutdown_signal().await;
    tracing::info!("stopping workers");
    runner.shutdown().await;
    for pool in &pools {
        pool.close();
    }
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
        ] {
            assert!(super::Cli::try_parse_from(&args).is_ok(), "{args:?}");
        }
    }
}
