use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;
use genonaut_domain::DomainResult;
use genonaut_domain::ports::{GlobalStats, StoreInfo, SystemRepository};

use crate::PgPool;
use crate::error::db;
use crate::prepared::{Statement, statement};

statement!(
    /// The health check's round trip.
    Ping = "SELECT 1"
);

/// Store-wide queries in PostgreSQL.
#[derive(Clone)]
pub struct PgSystem {
    pool: PgPool,
}

impl PgSystem {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgSystem { pool }
    }
}

#[derive(QueryableByName)]
struct StatsRow {
    #[diesel(sql_type = BigInt)]
    users: i64,
    #[diesel(sql_type = BigInt)]
    active_users: i64,
    #[diesel(sql_type = BigInt)]
    content: i64,
    #[diesel(sql_type = BigInt)]
    public_content: i64,
    #[diesel(sql_type = BigInt)]
    private_content: i64,
    #[diesel(sql_type = BigInt)]
    interactions: i64,
    #[diesel(sql_type = BigInt)]
    recommendations: i64,
    #[diesel(sql_type = BigInt)]
    served_recommendations: i64,
    #[diesel(sql_type = BigInt)]
    jobs: i64,
    #[diesel(sql_type = BigInt)]
    running_jobs: i64,
    #[diesel(sql_type = BigInt)]
    completed_jobs: i64,
    #[diesel(sql_type = BigInt)]
    failed_jobs: i64,
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = Nullable<Text>)]
    version: Option<String>,
}

#[derive(QueryableByName)]
struct SizeRow {
    #[diesel(sql_type = Text)]
    relname: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

#[async_trait]
impl SystemRepository for PgSystem {
    async fn ping(&self) -> DomainResult<()> {
        let mut conn = self.pool.get().await?;
        Ping::with_binds(|q| q)
            .execute(&mut conn)
            .await
            .map_err(db("pinging the database"))?;
        Ok(())
    }

    async fn global_stats(&self) -> DomainResult<GlobalStats> {
        let mut conn = self.pool.get().await?;
        // Items and interactions from their counters (migrations `content_counts*`,
        // `interaction_counts`); users, recommendations and jobs are counted.
        let r: StatsRow = diesel::sql_query(
            "SELECT u.users, u.active_users, c.content, c.public_content, c.private_content, \
                    interaction_count(NULL) AS interactions, \
                    r.recommendations, r.served_recommendations, \
                    j.jobs, j.running_jobs, j.completed_jobs, j.failed_jobs \
             FROM (SELECT count(*) AS users, count(*) FILTER (WHERE is_active) AS active_users FROM users) u, \
                  (SELECT coalesce(sum(n), 0)::int8 AS content, \
                          coalesce(sum(n) FILTER (WHERE listed), 0)::int8 AS public_content, \
                          coalesce(sum(n) FILTER (WHERE private), 0)::int8 AS private_content \
                   FROM content_counts) c, \
                  (SELECT count(*) AS recommendations, \
                          count(*) FILTER (WHERE is_served) AS served_recommendations FROM recommendations) r, \
                  (SELECT count(*) AS jobs, \
                          count(*) FILTER (WHERE status = 'running') AS running_jobs, \
                          count(*) FILTER (WHERE status = 'completed') AS completed_jobs, \
                          count(*) FILTER (WHERE status = 'failed') AS failed_jobs FROM generation_jobs) j",
        )
        .get_result(&mut conn)
        .await
        .map_err(db("computing global statistics"))?;
        Ok(GlobalStats {
            users: r.users,
            active_users: r.active_users,
            content: r.content,
            public_content: r.public_content,
            private_content: r.private_content,
            interactions: r.interactions,
            recommendations: r.recommendations,
            served_recommendations: r.served_recommendations,
            jobs: r.jobs,
            running_jobs: r.running_jobs,
            completed_jobs: r.completed_jobs,
            failed_jobs: r.failed_jobs,
        })
    }

    async fn info(&self) -> DomainResult<StoreInfo> {
        let mut conn = self.pool.get().await?;
        let version: VersionRow =
            diesel::sql_query("SELECT max(version)::text AS version FROM __diesel_schema_migrations")
                .get_result(&mut conn)
                .await
                .map_err(db("reading the migration version"))?;
        let sizes: Vec<SizeRow> = diesel::sql_query(
            "SELECT c.relname::text AS relname, greatest(c.reltuples, 0)::int8 AS rows \
             FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' \
               AND c.relname IN ('users', 'content_items', 'user_interactions', 'recommendations', 'generation_jobs') \
             ORDER BY c.relname",
        )
        .load(&mut conn)
        .await
        .map_err(db("reading table sizes"))?;
        Ok(StoreInfo {
            migration_version: version.version,
            approximate_rows: sizes.into_iter().map(|s| (s.relname, s.rows)).collect(),
        })
    }
}
