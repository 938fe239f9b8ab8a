//! The command line: `serve` (default), `migrate`, `db init`, `seed`.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use genonaut_db::{SchemaName, admin};
use secrecy::ExposeSecret;

use crate::app::{Application, prepare_database, seed_demo};
use crate::config::{Config, DatabaseArgs, DatabaseConfig, LogFormat, ServeArgs};

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
