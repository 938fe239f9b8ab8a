//! The webhook outbox (`webhook_deliveries`). Rows are inserted by the event-writing
//! statement (`emit.rs`); this adapter claims, finishes and lists them.

use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamp as SqlTimestamp, Untyped};
use diesel_async::{AsyncConnection, RunQueryDsl};
use genonaut_domain::ids::JobId;
use genonaut_domain::model::{DeliveryStatus, JobEvent, JobEventKind, Timestamp, WebhookDelivery};
use genonaut_domain::ports::{AttemptRecord, DueDelivery, WebhookOutbox};
use genonaut_domain::{DomainError, DomainResult};
use serde_json::Value;

use crate::PgPool;
use crate::error::db;
use crate::rows::{key, object};
use crate::schema::webhook_deliveries;

/// The webhook outbox in PostgreSQL.
#[derive(Clone)]
pub struct PgWebhooks {
    pool: PgPool,
}

impl PgWebhooks {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgWebhooks { pool }
    }
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = Text)]
    webhook_id: String,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = SqlTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(sql_type = Integer)]
    job_id: i32,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Jsonb)]
    data: Value,
    #[diesel(sql_type = SqlTimestamp)]
    event_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
struct DeliveryRow {
    job_id: i32,
    seq: i64,
    event_type: String,
    webhook_id: String,
    status: String,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    next_attempt_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

fn invalid(what: &str, value: &str) -> DomainError {
    DomainError::unexpected("reading webhook deliveries", format!("invalid {what} '{value}'"))
}

impl TryFrom<DeliveryRow> for WebhookDelivery {
    type Error = DomainError;

    fn try_from(r: DeliveryRow) -> Result<Self, DomainError> {
        let status = DeliveryStatus::parse(&r.status).ok_or_else(|| invalid("status", &r.status))?;
        Ok(WebhookDelivery {
            webhook_id: r.webhook_id,
            job_id: JobId::from(r.job_id),
            seq: r.seq,
            event: JobEventKind::parse(&r.event_type).ok_or_else(|| invalid("event type", &r.event_type))?,
            status,
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(r.next_attempt_at),
            delivered_at: r.delivered_at,
            created_at: r.created_at,
        })
    }
}

/// The claim: per job only the pending delivery with the lowest `seq`, if due and not held;
/// locked rows (being claimed elsewhere) are skipped; each claimed row counts an attempt and is
/// held until `hold_until`. Neither `attempts` nor `claimed_until` is indexed, so the update is
/// HOT (no index entries). Its text is fixed, so diesel prepares it once per connection and
/// reuses it — a `sql_query` is parsed and planned on every call, and planning this one took
/// 0.43 ms, more than running it (pg_stat_statements, `just bench-queue`).
struct Claim {
    now: NaiveDateTime,
    hold_until: NaiveDateTime,
    limit: i64,
}

impl QueryFragment<Pg> for Claim {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "WITH due AS ( \
               SELECT d.job_id, d.seq FROM webhook_deliveries d \
               WHERE d.status = 'pending' AND d.next_attempt_at <= ",
        );
        out.push_bind_param::<SqlTimestamp, _>(&self.now)?;
        out.push_sql(" AND (d.claimed_until IS NULL OR d.claimed_until <= ");
        out.push_bind_param::<SqlTimestamp, _>(&self.now)?;
        out.push_sql(
            ") AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                               WHERE e.job_id = d.job_id AND e.seq < d.seq \
                                 AND e.status <> 'delivered' AND e.status <> 'failed') \
               ORDER BY d.next_attempt_at LIMIT ",
        );
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(
            " FOR UPDATE OF d SKIP LOCKED) \
             UPDATE webhook_deliveries d SET attempts = d.attempts + 1, claimed_until = ",
        );
        out.push_bind_param::<SqlTimestamp, _>(&self.hold_until)?;
        out.push_sql(
            " FROM due, generation_jobs g, job_events ev \
             WHERE d.job_id = due.job_id AND d.seq = due.seq AND g.id = d.job_id \
               AND ev.job_id = d.job_id AND ev.seq = d.seq AND g.webhook IS NOT NULL \
             RETURNING d.webhook_id::text AS webhook_id, g.webhook AS url, d.attempts, d.created_at, \
                       ev.job_id, ev.seq, ev.event_type::text AS event_type, ev.data, ev.created_at AS event_at",
        );
        Ok(())
    }
}

impl QueryId for Claim {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Claim {
    type SqlType = Untyped;
}

/// The plan [`Claim`] must have whatever the statistics say: the due rows in index order (the
/// scan stops at the limit) and, per row, one probe of `(job_id, seq)` for an earlier pending
/// delivery. (That probe says "not delivered and not failed" rather than "pending" so that the
/// due index, whose predicate is `status = 'pending'`, cannot serve it: a plan made while the
/// outbox is empty otherwise scans every pending row for each due one.) Without statistics on
/// `webhook_deliveries` (a new or fast-growing outbox, before autovacuum's first ANALYZE)
/// PostgreSQL guesses `status = 'pending'` matches 0.5 % of the rows
/// and may instead materialise every pending row and compare each due row with all of them:
/// under a backlog of 3,000 deliveries one claim took 96 ms (auto_explain, `just bench-queue`),
/// not 0.6. So the claim's transaction rules out the plans that scale with the backlog, and
/// asks for the generic plan: made once per connection under these settings, then reused.
const CLAIM_PLAN: &str = "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), \
     set_config('enable_material', 'off', true), set_config('enable_hashjoin', 'off', true), \
     set_config('enable_mergejoin', 'off', true), set_config('enable_sort', 'off', true), \
     set_config('plan_cache_mode', 'force_generic_plan', true)";

/// The claim's planner settings and its statement text (`$1` = now, `$2` = now, `$3` = limit,
/// `$4` = hold), for tests that look at its plan.
#[cfg(feature = "test-util")]
pub(crate) fn claim_sql() -> (&'static str, String) {
    let now = NaiveDateTime::default();
    let sql = diesel::debug_query::<Pg, _>(&Claim {
        now,
        hold_until: now,
        limit: 0,
    })
    .to_string();
    let statement = sql.split(" -- binds:").next().unwrap_or_default().to_owned();
    (CLAIM_PLAN, statement)
}

#[async_trait]
impl WebhookOutbox for PgWebhooks {
    async fn claim(
        &self,
        now: Timestamp,
        hold_until: Timestamp,
        limit: usize,
    ) -> DomainResult<Vec<DueDelivery>> {
        let mut conn = self.pool.get().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<ClaimedRow> = conn
            .transaction::<_, diesel::result::Error, _>(async move |conn| {
                diesel::sql_query(CLAIM_PLAN).execute(conn).await?;
                Claim {
                    now,
                    hold_until,
                    limit,
                }
                .load(conn)
                .await
            })
            .await
            .map_err(db("claiming webhook deliveries"))?;
        rows.into_iter()
            .map(|r| {
                Ok(DueDelivery {
                    webhook_id: r.webhook_id,
                    url: r.url,
                    attempts: r.attempts,
                    created_at: r.created_at,
                    event: JobEvent {
                        job_id: JobId::from(r.job_id),
                        seq: r.seq,
                        kind: JobEventKind::parse(&r.event_type)
                            .ok_or_else(|| invalid("event type", &r.event_type))?,
                        at: r.event_at,
                        data: object(r.data),
                    },
                })
            })
            .collect()
    }

    async fn finish(&self, done: &[((JobId, i64), AttemptRecord)]) -> DomainResult<()> {
        // Claimed rows' jobs are the storage's own keys; anything else was never claimed.
        let done: Vec<(i32, i64, &AttemptRecord)> = done
            .iter()
            .filter_map(|((job, seq), record)| Some((key(job.0)?, *seq, record)))
            .collect();
        if done.is_empty() {
            return Ok(());
        }
        let jobs: Vec<i32> = done.iter().map(|(job, _, _)| *job).collect();
        let seqs: Vec<i64> = done.iter().map(|(_, seq, _)| *seq).collect();
        let statuses: Vec<&str> = done.iter().map(|(_, _, r)| r.status.as_str()).collect();
        let codes: Vec<Option<i32>> = done.iter().map(|(_, _, r)| r.last_status).collect();
        let errors: Vec<Option<String>> = done
            .iter()
            .map(|(_, _, r)| r.last_error.as_ref().map(|e| e.chars().take(1000).collect()))
            .collect();
        let next: Vec<Option<Timestamp>> = done.iter().map(|(_, _, r)| r.next_attempt_at).collect();
        let delivered: Vec<Option<Timestamp>> = done.iter().map(|(_, _, r)| r.delivered_at).collect();
        let mut conn = self.pool.get().await?;
        diesel::sql_query(
            "UPDATE webhook_deliveries d SET status = u.status, last_status = u.last_status, \
             last_error = u.last_error, next_attempt_at = coalesce(u.next_attempt_at, d.next_attempt_at), \
             delivered_at = u.delivered_at, claimed_until = NULL \
             FROM unnest($1::int4[], $2::bigint[], $3::text[], $4::int4[], $5::text[], $6::timestamp[], $7::timestamp[]) \
               AS u(job_id, seq, status, last_status, last_error, next_attempt_at, delivered_at) \
             WHERE d.job_id = u.job_id AND d.seq = u.seq",
        )
        .bind::<Array<Integer>, _>(jobs)
        .bind::<Array<BigInt>, _>(seqs)
        .bind::<Array<Text>, _>(statuses)
        .bind::<Array<Nullable<Integer>>, _>(codes)
        .bind::<Array<Nullable<Text>>, _>(errors)
        .bind::<Array<Nullable<SqlTimestamp>>, _>(next)
        .bind::<Array<Nullable<SqlTimestamp>>, _>(delivered)
        .execute(&mut conn)
        .await
        .map_err(db("recording webhook attempts"))?;
        Ok(())
    }

    async fn deliveries(&self, job: JobId) -> DomainResult<Vec<WebhookDelivery>> {
        use webhook_deliveries as d;
        let Some(job) = key(job.0) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.get().await?;
        let rows: Vec<DeliveryRow> = d::table
            .filter(d::job_id.eq(job))
            .order(d::seq)
            .select(DeliveryRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing webhook deliveries"))?;
        rows.into_iter().map(WebhookDelivery::try_from).collect()
    }
}
