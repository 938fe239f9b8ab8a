//! Administrative operations: reaching the server, creating the database, roles and grants.

use tokio_postgres::error::SqlState;

use crate::error::DbError;
use crate::pool::parse_config;
use crate::schema_name::SchemaName;

/// Group roles created by [`init_roles`].
pub const ROLE_ADMIN: &str = "genonaut_admin";
/// Read-write group role (what the server needs).
pub const ROLE_READ_WRITE: &str = "genonaut_readwrite";
/// Read-only group role (reporting, replicas).
pub const ROLE_READ_ONLY: &str = "genonaut_readonly";

/// What answered at a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A PostgreSQL server answered (possibly with an error such as "database does not exist").
    ServerAnswered,
    /// Nothing answered (connection refused, no route, timeout).
    NoServer(String),
}

/// Opens one plain connection (for administrative statements) and drives it in the background.
pub(crate) async fn connect(
    config: &tokio_postgres::Config,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "administrative connection ended");
        }
    });
    Ok(client)
}

fn maintenance_config(database_url: &str) -> Result<tokio_postgres::Config, DbError> {
    let mut config = parse_config(database_url)?;
    config.dbname("postgres");
    config.connect_timeout(std::time::Duration::from_secs(5));
    Ok(config)
}

/// The database name of a URL (PostgreSQL's default: the user name).
pub fn database_name(database_url: &str) -> Result<String, DbError> {
    let config = parse_config(database_url)?;
    Ok(config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres")
        .to_owned())
}

/// Whether any PostgreSQL server answers at the URL's host and port.
pub async fn probe(database_url: &str) -> Result<Probe, DbError> {
    let config = maintenance_config(database_url)?;
    match connect(&config).await {
        Ok(_) => Ok(Probe::ServerAnswered),
        Err(e) if e.code().is_some() => Ok(Probe::ServerAnswered),
        Err(e) => Ok(Probe::NoServer(e.to_string())),
    }
}

/// Creates the URL's database if it does not exist. Returns whether it was created.
/// Safe to run concurrently.
pub async fn ensure_database(database_url: &str) -> Result<bool, DbError> {
    let mut target = parse_config(database_url)?;
    target.connect_timeout(std::time::Duration::from_secs(5));
    match connect(&target).await {
        Ok(_) => return Ok(false),
        Err(e) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => {}
        Err(e) => return Err(DbError::Connect(pg_message(&e))),
    }
    let name = database_name(database_url)?;
    let admin = connect(&maintenance_config(database_url)?)
        .await
        .map_err(|e| DbError::Connect(pg_message(&e)))?;
    // Concurrent CREATE DATABASE statements fail on each other (the template is "being
    // accessed by other users"): serialise them and re-check under the lock.
    admin
        .execute(
            "SELECT pg_advisory_lock(hashtextextended('genonaut.create_database', 0))",
            &[],
        )
        .await
        .map_err(|e| DbError::query("locking for database creation")(pg_boxed(e)))?;
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .map_err(|e| DbError::query("looking up the database")(pg_boxed(e)))?
        .is_some();
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let outcome = if exists {
        Ok(false)
    } else {
        match admin.batch_execute(&format!("CREATE DATABASE {quoted}")).await {
            Ok(()) => {
                tracing::info!(database = %name, "created database");
                Ok(true)
            }
            Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => Ok(false),
            Err(e) => Err(DbError::query(format!("creating database {name}"))(pg_boxed(e))),
        }
    };
    let _ = admin.execute("SELECT pg_advisory_unlock_all()", &[]).await;
    outcome
}

/// The server's message for a tokio-postgres error (its `Display` only says "db error").
pub(crate) fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

pub(crate) fn pg_boxed(e: tokio_postgres::Error) -> Box<dyn std::error::Error + Send + Sync> {
    pg_message(&e).into()
}

/// Creates the admin, read-write and read-only group roles (if missing) and grants them what
/// they need on the database and on every given schema, including tables created later by
/// the current role. Idempotent.
pub async fn init_roles(database_url: &str, schemas: &[SchemaName]) -> Result<(), DbError> {
    let config = parse_config(database_url)?;
    let client = connect(&config)
        .await
        .map_err(|e| DbError::Connect(pg_message(&e)))?;
    let database = database_name(database_url)?.replace('"', "\"\"");
    for role in [ROLE_ADMIN, ROLE_READ_WRITE, ROLE_READ_ONLY] {
        let create = format!(
            "DO $$ BEGIN CREATE ROLE {role} NOLOGIN; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        );
        client
            .batch_execute(&create)
            .await
            .map_err(|e| DbError::query(format!("creating role {role}"))(pg_boxed(e)))?;
    }
    let mut sql = format!(
        "GRANT CONNECT, TEMPORARY ON DATABASE \"{database}\" TO {ROLE_READ_WRITE}, {ROLE_READ_ONLY};\n\
         GRANT ALL ON DATABASE \"{database}\" TO {ROLE_ADMIN};\n"
    );
    for s in schemas {
        sql.push_str(&format!(
            "GRANT ALL ON SCHEMA {s} TO {ROLE_ADMIN};\n\
             GRANT ALL ON ALL TABLES IN SCHEMA {s} TO {ROLE_ADMIN};\n\
             GRANT ALL ON ALL SEQUENCES IN SCHEMA {s} TO {ROLE_ADMIN};\n\
             GRANT USAGE ON SCHEMA {s} TO {ROLE_READ_WRITE}, {ROLE_READ_ONLY};\n\
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {ROLE_READ_WRITE};\n\
             GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {ROLE_READ_WRITE};\n\
             GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {ROLE_READ_ONLY};\n\
             ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT ALL ON TABLES TO {ROLE_ADMIN};\n\
             ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT ALL ON SEQUENCES TO {ROLE_ADMIN};\n\
             ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE_READ_WRITE};\n\
             ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {ROLE_READ_WRITE};\n\
             ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {ROLE_READ_ONLY};\n"
        ));
    }
    client
        .batch_execute(&sql)
        .await
        .map_err(|e| DbError::query("granting privileges")(pg_boxed(e)))?;
    Ok(())
}

/// Drops a schema and everything in it.
pub async fn drop_schema(database_url: &str, schema: &SchemaName) -> Result<(), DbError> {
    let client = connect(&parse_config(database_url)?)
        .await
        .map_err(|e| DbError::Connect(pg_message(&e)))?;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .map_err(|e| DbError::query(format!("dropping schema {schema}"))(pg_boxed(e)))
}
