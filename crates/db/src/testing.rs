//! A fresh, migrated PostgreSQL schema per test (feature `test-util`).
//!
//! Tests run in parallel on one database; each [`TestDb`] creates its own schema named
//! `gt_<unix time>_<pid>_<n>`, migrates it, and drops it when dropped. Schemas left behind by
//! killed test runs are swept when a process creates its first fixture. If PostgreSQL is not
//! reachable the fixture panics with instructions — tests never silently skip.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::OnceCell;

use crate::admin::{connect, ensure_database};
use crate::pool::parse_config;
use crate::{PgPool, PoolSettings, SchemaName, migrate, repositories};

/// Where tests find PostgreSQL: `TEST_DATABASE_URL`, default
/// `postgres://postgres@127.0.0.1:5432/genonaut_test` (created if missing).
pub fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/genonaut_test".to_owned())
}

static PREPARED: OnceCell<()> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);
const LEFTOVER_AGE: Duration = Duration::from_secs(3 * 3600);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

async fn prepare(url: &str) {
    PREPARED
        .get_or_init(|| async {
            if let Err(e) = ensure_database(url).await {
                panic!(
                    "PostgreSQL is required for this test and is not reachable at {url}: {e}\n\
                     Start it (see README: `pg_ctlcluster --skip-systemctl-redirect <version> main start`) \
                     or point TEST_DATABASE_URL at a server."
                );
            }
            sweep_leftovers(url).await;
        })
        .await;
}

/// Drops test schemas older than a few hours (left by killed runs).
async fn sweep_leftovers(url: &str) {
    let Ok(config) = parse_config(url) else { return };
    let Ok(client) = connect(&config).await else {
        return;
    };
    let Ok(rows) = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gt\\_%'",
            &[],
        )
        .await
    else {
        return;
    };
    let cutoff = unix_now().saturating_sub(LEFTOVER_AGE.as_secs());
    for row in rows {
        let name: String = row.get(0);
        let created = name
            .split('_')
            .nth(1)
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        if created < cutoff {
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .await;
        }
    }
}

/// A migrated schema of its own, dropped on `Drop`.
pub struct TestDb {
    /// Database URL.
    pub url: String,
    /// The schema.
    pub schema: SchemaName,
    /// A pool over the schema.
    pub pool: PgPool,
}

impl TestDb {
    /// Creates and migrates a fresh schema. Panics (with instructions) if PostgreSQL is absent.
    pub async fn new() -> Self {
        let url = test_database_url();
        prepare(&url).await;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let raw = format!("gt_{}_{}_{}", unix_now(), std::process::id(), n);
        let schema = match SchemaName::parse(&raw) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        if let Err(e) = migrate::migrate(&url, &schema).await {
            panic!("migrating test schema {schema}: {e}");
        }
        let settings = PoolSettings {
            max_size: 4,
            ..PoolSettings::default()
        };
        let pool = match PgPool::new(&url, &schema, &settings) {
            Ok(p) => p,
            Err(e) => panic!("test pool: {e}"),
        };
        TestDb { url, schema, pool }
    }

    /// Repository adapters over this schema.
    pub fn repositories(&self) -> genonaut_domain::ports::Repositories {
        repositories(&self.pool)
    }

    /// A plain connection to run assertions in SQL (search_path set to the schema).
    pub async fn client(&self) -> tokio_postgres::Client {
        let mut config = match parse_config(&self.url) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        config.options(format!("-c search_path={},public", self.schema));
        match connect(&config).await {
            Ok(c) => c,
            Err(e) => panic!("test client: {e}"),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.pool.close();
        let url = self.url.clone();
        let schema = self.schema.clone();
        // Drop may run inside or outside a runtime; use a private one on its own thread.
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                let _ = crate::admin::drop_schema(&url, &schema).await;
            });
        });
        let _ = handle.join();
    }
}

/// The webhook claim's planner settings and statement text (`$1` = now, `$2` = now,
/// `$3` = limit, `$4` = hold), for tests of its plan.
pub fn webhook_claim_sql() -> (&'static str, String) {
    crate::repos::claim_sql()
}
