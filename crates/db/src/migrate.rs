//! Embedded migrations, run per schema under a PostgreSQL advisory lock.

use diesel::RunQueryDsl;
use diesel::migration::MigrationSource;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::admin::connect;
use crate::error::DbError;
use crate::pool::parse_config;
use crate::schema_name::SchemaName;

/// The SQL migrations of `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Advisory-lock key serialising database-wide setup (extensions).
const DATABASE_SETUP_LOCK: i64 = 0x6765_6e6f_6e61_7574; // "genonaut"

/// Installs the extensions every schema relies on, once per database (serialised by an
/// advisory lock, so concurrent migrators do not race).
async fn ensure_extensions(database_url: &str) -> Result<(), DbError> {
    let client = connect(&parse_config(database_url)?)
        .await
        .map_err(|e| DbError::Connect(crate::admin::pg_message(&e)))?;
    let present = client
        .query_one("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'", &[])
        .await
        .map_err(|e| DbError::query("checking extensions")(crate::admin::pg_boxed(e)))?
        .get::<_, i64>(0);
    if present == 0 {
        // A transaction-scoped lock is held until COMMIT, so a concurrent migrator sees the
        // committed extension once it gets the lock.
        client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({DATABASE_SETUP_LOCK}); \
                 CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public; COMMIT;"
            ))
            .await
            .map_err(|e| DbError::query("installing the pg_trgm extension")(crate::admin::pg_boxed(e)))?;
    }
    Ok(())
}

async fn schema_connection(database_url: &str, schema: &SchemaName) -> Result<AsyncPgConnection, DbError> {
    let mut config = parse_config(database_url)?;
    config.options(format!("-c search_path={schema},public"));
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| DbError::Connect(crate::admin::pg_message(&e)))?;
    AsyncPgConnection::try_from_client_and_connection(client, connection)
        .await
        .map_err(|e| DbError::Connect(e.to_string()))
}

/// Creates `schema` if needed and applies every pending migration to it, holding an advisory
/// lock for that schema so concurrent processes migrate it once. Returns the versions applied.
pub async fn migrate(database_url: &str, schema: &SchemaName) -> Result<Vec<String>, DbError> {
    ensure_extensions(database_url).await?;
    let connection = schema_connection(database_url, schema).await?;
    let schema = schema.clone();
    let failed = {
        let schema = schema.to_string();
        move |message: String| DbError::Migration {
            schema: schema.clone(),
            message,
        }
    };
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(connection);
        diesel::sql_query(format!(
            "SELECT pg_advisory_lock(hashtextextended('genonaut.migrate.{schema}', 0))"
        ))
        .execute(&mut conn)
        .map_err(|e| failed(e.to_string()))?;
        diesel::sql_query(format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&mut conn)
            .map_err(|e| failed(e.to_string()))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| failed(e.to_string()))?
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
        diesel::sql_query("SELECT pg_advisory_unlock_all()")
            .execute(&mut conn)
            .map_err(|e| failed(e.to_string()))?;
        Ok(applied)
    })
    .await
    .map_err(|e| DbError::Migration {
        schema: String::from("?"),
        message: e.to_string(),
    })?
}

/// Versions of migrations not yet applied to `schema` (all of them if it does not exist).
pub async fn pending(database_url: &str, schema: &SchemaName) -> Result<Vec<String>, DbError> {
    let client = connect(&parse_config(database_url)?)
        .await
        .map_err(|e| DbError::Connect(crate::admin::pg_message(&e)))?;
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_namespace WHERE nspname = $1",
            &[&schema.as_str()],
        )
        .await
        .map_err(|e| DbError::query("looking up the schema")(crate::admin::pg_boxed(e)))?
        .is_some();
    if !exists {
        // Never let the harness create its bookkeeping table elsewhere on the search path.
        return MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
            .map(|all| all.iter().map(|m| m.name().version().to_string()).collect())
            .map_err(|e| DbError::Migration {
                schema: schema.to_string(),
                message: e.to_string(),
            });
    }
    let connection = schema_connection(database_url, schema).await?;
    let schema_name = schema.to_string();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(connection);
        conn.pending_migrations(MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().version().to_string()).collect())
            .map_err(|e| DbError::Migration {
                schema: schema_name,
                message: e.to_string(),
            })
    })
    .await
    .map_err(|e| DbError::Migration {
        schema: String::from("?"),
        message: e.to_string(),
    })?
}
