//! The zero-config fallback: with no server at `DATABASE_URL`, a private cluster is started
//! under the data directory (as an unprivileged user when running as root) and used.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::net::TcpListener;

use genonaut::config::{DatabaseConfig, PrivatePostgres};
use genonaut::postgres::{PrivateCluster, ensure_server, find_binaries};
use genonaut_db::{PoolSettings, SchemaName};
use secrecy::{ExposeSecret, SecretString};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_cluster_is_started_when_no_server_answers() {
    let binaries = find_binaries().expect("PostgreSQL's initdb and pg_ctl are required for this test");
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut config = DatabaseConfig {
        url: SecretString::from(format!("postgres://postgres@127.0.0.1:{port}/genonaut")),
        schemas: vec![SchemaName::parse("app").unwrap()],
        default_schema: SchemaName::parse("app").unwrap(),
        pool: PoolSettings::default(),
        private_postgres: PrivatePostgres::Auto,
        data_dir: data_dir.path().to_path_buf(),
    };
    ensure_server(&mut config).await.unwrap();
    let cluster = PrivateCluster::new(data_dir.path().join("postgres"), port, binaries);
    assert!(
        cluster.dir.join("PG_VERSION").is_file(),
        "initialised under the data directory"
    );
    assert!(matches!(
        genonaut_db::admin::probe(config.url.expose_secret())
            .await
            .unwrap(),
        genonaut_db::admin::Probe::ServerAnswered
    ));
    assert!(
        genonaut_db::admin::ensure_database(config.url.expose_secret())
            .await
            .unwrap(),
        "database created"
    );
    cluster.stop().unwrap();
}

#[tokio::test]
async fn with_the_fallback_disabled_the_error_names_database_url() {
    let port = free_port();
    let mut config = DatabaseConfig {
        url: SecretString::from(format!("postgres://postgres:hunter2@127.0.0.1:{port}/genonaut")),
        schemas: vec![SchemaName::parse("app").unwrap()],
        default_schema: SchemaName::parse("app").unwrap(),
        pool: PoolSettings::default(),
        private_postgres: PrivatePostgres::Never,
        data_dir: std::env::temp_dir(),
    };
    let err = ensure_server(&mut config).await.unwrap_err().to_string();
    assert!(err.contains("DATABASE_URL") && !err.contains("hunter2"), "{err}");
}
