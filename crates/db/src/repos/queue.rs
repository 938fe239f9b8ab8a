use std::time::Duration;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamp as SqlTimestamp};
use diesel_async::{AsyncConnection, RunQueryDsl};
use genonaut_domain::model::{GenerationJob, NewContent, Progress, START_DEADLINE_PASSED, Timestamp};
use genonaut_domain::ports::{JobQueue, Lease, RetryPolicy};
use genonaut_domain::{DomainError, DomainResult, Rule};
use serde_json::{Value, json};

use super::emit::{emit_query, emitting, emitting_after};
use crate::PgPool;
use crate::error::db;
use crate::rows::{JobRow, convert, key};

/// The generation-job queue in PostgreSQL, for workers.
#[derive(Clone)]
pub struct PgJobQueue {
    pool: PgPool,
}

impl PgJobQueue {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgJobQueue { pool }
    }
}

fn plus(now: Timestamp, d: Duration) -> Timestamp {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(365))
}

/// The guard of every worker write: the lease's job, in the lease's attempt, still running.
const HELD: &str = "id = $3 AND attempts = $4 AND status = 'running'";

#[derive(QueryableByName)]
struct LeaseRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

#[async_trait]
impl JobQueue for PgJobQueue {
    async fn claim(
        &self,
        worker: &str,
        max: usize,
        lease: Duration,
        now: Timestamp,
        per_user: Option<u32>,
    ) -> DomainResult<Vec<GenerationJob>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await?;
        // Highest priority first, then the users' rounds (round-robin, see the insert in
        // jobs.rs), FIFO within a round; jobs locked by another claimer are skipped, so
        // concurrent workers never take the same job.
        let runnable = "status = 'pending' AND run_after <= $1 \
                        AND (start_deadline_at IS NULL OR start_deadline_at > $1)";
        let picked = match per_user {
            None => format!(
                "SELECT id FROM generation_jobs WHERE {runnable} \
                 ORDER BY priority DESC, fair_round, created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED"
            ),
            // With a cap, a user's k-th job in queue order is a candidate only while the
            // user's running jobs + k stay within it ($7).
            Some(_) => format!(
                "SELECT id FROM generation_jobs WHERE status = 'pending' AND id IN ( \
                   SELECT id FROM (SELECT c.id, c.priority, c.fair_round, c.created_at, \
                       row_number() OVER (PARTITION BY c.user_id \
                                          ORDER BY c.priority DESC, c.fair_round, c.created_at, c.id) AS k, \
                       coalesce(r.n, 0) AS running \
                     FROM generation_jobs c LEFT JOIN (SELECT user_id, count(*) AS n FROM generation_jobs \
                                                       WHERE status = 'running' GROUP BY user_id) r \
                       ON r.user_id = c.user_id \
                     WHERE {runnable}) w \
                   WHERE w.running + w.k <= $7 \
                   ORDER BY w.priority DESC, w.fair_round, w.created_at, w.id LIMIT $4) \
                 ORDER BY priority DESC, fair_round, created_at, id FOR UPDATE SKIP LOCKED"
            ),
        };
        let sql = emitting(
            &format!(
                "UPDATE generation_jobs g SET status = 'running', attempts = g.attempts + 1, \
                 started_at = coalesce(g.started_at, $1), lease_expires_at = $5, worker_id = $6, progress = 0, \
                 completed_at = NULL, error_message = NULL, event_seq = g.event_seq + 1, updated_at = $1 \
                 FROM ({picked}) picked WHERE g.id = picked.id AND $3"
            ),
            "g.*",
            "'started'",
            "jsonb_build_object('attempt', job.attempts)",
        );
        let query = emit_query(sql, &self.pool, now)
            .bind::<diesel::sql_types::Bool, _>(true)
            .bind::<diesel::sql_types::BigInt, _>(i64::try_from(max).unwrap_or(i64::MAX))
            .bind::<SqlTimestamp, _>(plus(now, lease))
            .bind::<Text, _>(worker.chars().take(100).collect::<String>());
        let rows: Vec<JobRow> = match per_user {
            None => query.load(&mut conn).await,
            // Claims of a schema with a cap take turns (a transaction-scoped advisory lock), so
            // each one counts the running jobs every earlier claim committed: the cap holds
            // across processes.
            Some(cap) => {
                let lock = format!("genonaut.claim.{}", self.pool.schema());
                let query = query.bind::<BigInt, _>(i64::from(cap));
                conn.transaction::<Vec<JobRow>, diesel::result::Error, _>(async move |conn| {
                    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                        .bind::<Text, _>(lock)
                        .execute(conn)
                        .await?;
                    query.load(conn).await
                })
                .await
            }
        }
        .map_err(db("claiming jobs"))?;
        let mut jobs: Vec<GenerationJob> = convert(rows)?;
        jobs.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.created_at.cmp(&b.created_at))
                .then(a.id.cmp(&b.id))
        });
        Ok(jobs)
    }

    async fn heartbeat(&self, leases: &[Lease], until: Timestamp) -> DomainResult<Vec<Lease>> {
        let (ids, attempts): (Vec<i32>, Vec<i32>) = leases
            .iter()
            .filter_map(|l| Some((key(l.job.0)?, l.attempt)))
            .unzip();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await?;
        let held: Vec<LeaseRow> = diesel::sql_query(
            "UPDATE generation_jobs g SET lease_expires_at = $1 FROM unnest($2::int4[], $3::int4[]) AS l(id, attempt) \
             WHERE g.id = l.id AND g.attempts = l.attempt AND g.status = 'running' RETURNING g.id, g.attempts",
        )
        .bind::<SqlTimestamp, _>(until)
        .bind::<Array<Integer>, _>(ids)
        .bind::<Array<Integer>, _>(attempts)
        .load(&mut conn)
        .await
        .map_err(db("renewing leases"))?;
        Ok(held
            .into_iter()
            .map(|r| Lease {
                job: r.id.into(),
                attempt: r.attempts,
            })
            .collect())
    }

    async fn progress(&self, lease: &Lease, progress: &Progress, now: Timestamp) -> DomainResult<bool> {
        let Some(id) = key(lease.job.0) else {
            return Ok(false);
        };
        let mut conn = self.pool.get().await?;
        let sql = emitting(
            &format!(
                "UPDATE generation_jobs SET progress = $5, event_seq = event_seq + 1, updated_at = $1 WHERE {HELD}"
            ),
            "generation_jobs.*",
            "'progress'",
            "jsonb_build_object('progress', job.progress, 'step', $6::int4, 'total', $7::int4, 'message', $8::text) \
             || jsonb_strip_nulls(jsonb_build_object('preview', $9::text))",
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Integer, _>(id)
            .bind::<Integer, _>(lease.attempt)
            .bind::<Double, _>(progress.fraction())
            .bind::<Integer, _>(i32::try_from(progress.step).unwrap_or(i32::MAX))
            .bind::<Integer, _>(i32::try_from(progress.total).unwrap_or(i32::MAX))
            .bind::<Nullable<Text>, _>(progress.message.clone())
            .bind::<Nullable<Text>, _>(progress.preview.clone())
            .load(&mut conn)
            .await
            .map_err(db("recording progress"))?;
        Ok(!rows.is_empty())
    }

    async fn complete(
        &self,
        lease: &Lease,
        content: NewContent,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        let Some(id) = key(lease.job.0) else {
            return Ok(None);
        };
        let creator = key(content.creator_id.0).ok_or_else(|| DomainError::Rule(Rule::CreatorMissing))?;
        let mut conn = self.pool.get().await?;
        // One statement: the content is stored only if the lease is still held, and the job
        // points at it; a worker that lost its lease writes nothing.
        let sql = emitting_after(
            &format!(
                "held AS (SELECT id FROM generation_jobs WHERE {HELD} FOR UPDATE), \
                 item AS (INSERT INTO content_items (title, content_type, content_data, item_metadata, creator_id, \
                          created_at, tags, quality_score, is_public, is_private, updated_at) \
                          SELECT $5, $6, $7, $8, $9, $1, $10, 0.5, $11, $12, $1 FROM held RETURNING id)"
            ),
            "UPDATE generation_jobs g SET status = 'completed', result_content_id = item.id, completed_at = $1, \
             progress = 1, lease_expires_at = NULL, worker_id = NULL, event_seq = g.event_seq + 1, updated_at = $1 \
             FROM item WHERE g.id = $3",
            "g.*",
            "'completed'",
            "jsonb_build_object('result_content_id', job.result_content_id)",
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Integer, _>(id)
            .bind::<Integer, _>(lease.attempt)
            .bind::<Text, _>(content.title)
            .bind::<Text, _>(content.content_type.as_str())
            .bind::<Text, _>(content.content_data)
            .bind::<Jsonb, _>(Value::Object(content.item_metadata))
            .bind::<Integer, _>(creator)
            .bind::<Jsonb, _>(json!(content.tags.into_inner()))
            .bind::<diesel::sql_types::Bool, _>(content.is_public)
            .bind::<diesel::sql_types::Bool, _>(content.is_private)
            .load(&mut conn)
            .await
            .map_err(db("completing a job"))?;
        rows.into_iter().next().map(GenerationJob::try_from).transpose()
    }

    async fn complete_many(
        &self,
        completions: Vec<(Lease, NewContent)>,
        now: Timestamp,
    ) -> DomainResult<Vec<Option<GenerationJob>>> {
        if completions.len() < 2 {
            let mut out = Vec::new();
            for (lease, content) in completions {
                out.push(self.complete(&lease, content, now).await?);
            }
            return Ok(out);
        }
        let order: Vec<Option<i32>> = completions.iter().map(|(l, _)| key(l.job.0)).collect();
        let mut columns = Columns::default();
        for (lease, content) in completions {
            let (Some(id), Some(creator)) = (key(lease.job.0), key(content.creator_id.0)) else {
                continue;
            };
            columns.push(id, lease.attempt, creator, content);
        }
        let mut conn = self.pool.get().await?;
        // One statement for the lot: every job still held gets its content item (ids drawn up
        // front so each job can point at its own) and is completed; lost leases write nothing.
        let sql = emitting_after(
            "input AS (SELECT * FROM unnest($3::int4[], $4::int4[], $5::text[], $6::text[], $7::text[], \
                       $8::jsonb[], $9::int4[], $10::jsonb[], $11::bool[], $12::bool[]) WITH ORDINALITY \
                       AS i(id, attempt, title, ctype, cdata, meta, creator, tags, pub, priv, ord)), \
             held AS (SELECT i.*, nextval(pg_get_serial_sequence('content_items', 'id'))::int4 AS cid \
                      FROM input i JOIN generation_jobs g ON g.id = i.id AND g.attempts = i.attempt \
                      AND g.status = 'running' ORDER BY i.ord FOR UPDATE OF g), \
             item AS (INSERT INTO content_items (id, title, content_type, content_data, item_metadata, creator_id, \
                      created_at, tags, quality_score, is_public, is_private, updated_at) \
                      SELECT cid, title, ctype, cdata, meta, creator, $1, tags, 0.5, pub, priv, $1 FROM held \
                      ORDER BY ord RETURNING id)",
            "UPDATE generation_jobs g SET status = 'completed', result_content_id = held.cid, completed_at = $1, \
             progress = 1, lease_expires_at = NULL, worker_id = NULL, event_seq = g.event_seq + 1, updated_at = $1 \
             FROM held WHERE g.id = held.id",
            "g.*",
            "'completed'",
            "jsonb_build_object('result_content_id', job.result_content_id)",
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Array<Integer>, _>(columns.ids)
            .bind::<Array<Integer>, _>(columns.attempts)
            .bind::<Array<Text>, _>(columns.titles)
            .bind::<Array<Text>, _>(columns.types)
            .bind::<Array<Text>, _>(columns.data)
            .bind::<Array<Jsonb>, _>(columns.metadata)
            .bind::<Array<Integer>, _>(columns.creators)
            .bind::<Array<Jsonb>, _>(columns.tags)
            .bind::<Array<diesel::sql_types::Bool>, _>(columns.public)
            .bind::<Array<diesel::sql_types::Bool>, _>(columns.private)
            .load(&mut conn)
            .await
            .map_err(db("completing jobs"))?;
        let mut done: std::collections::HashMap<i32, GenerationJob> = rows
            .into_iter()
            .map(|r| Ok((r.id, GenerationJob::try_from(r)?)))
            .collect::<DomainResult<_>>()?;
        Ok(order
            .into_iter()
            .map(|id| id.and_then(|id| done.remove(&id)))
            .collect())
    }

    async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> DomainResult<bool> {
        let Some(id) = key(lease.job.0) else {
            return Ok(false);
        };
        let mut conn = self.pool.get().await?;
        // Retry (back to pending at $6) while attempts remain, else fail for good.
        let sql = emitting(
            &format!(
                "UPDATE generation_jobs SET error_message = $5, updated_at = $1, event_seq = event_seq + 1, \
                 lease_expires_at = NULL, worker_id = NULL, \
                 status = CASE WHEN $6::timestamp IS NOT NULL AND attempts < max_attempts THEN 'pending' ELSE 'failed' END, \
                 run_after = coalesce($6, $1), \
                 completed_at = CASE WHEN $6::timestamp IS NOT NULL AND attempts < max_attempts THEN NULL ELSE $1 END \
                 WHERE {HELD}"
            ),
            "generation_jobs.*",
            "CASE job.status WHEN 'pending' THEN 'retrying' ELSE 'failed' END",
            "CASE job.status WHEN 'pending' THEN jsonb_build_object('attempt', job.attempts, 'error_message', job.error_message, \
             'retry_at', to_char(job.run_after, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')) \
             ELSE jsonb_build_object('error_message', job.error_message) END",
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Integer, _>(id)
            .bind::<Integer, _>(lease.attempt)
            .bind::<Text, _>(error.chars().take(2000).collect::<String>())
            .bind::<Nullable<SqlTimestamp>, _>(retry_at)
            .load(&mut conn)
            .await
            .map_err(db("failing a job"))?;
        Ok(!rows.is_empty())
    }

    async fn release(&self, lease: &Lease, now: Timestamp) -> DomainResult<bool> {
        let Some(id) = key(lease.job.0) else {
            return Ok(false);
        };
        let mut conn = self.pool.get().await?;
        let sql = emitting(
            &format!(
                "UPDATE generation_jobs SET status = 'pending', attempts = attempts - 1, run_after = $1, progress = 0, \
                 lease_expires_at = NULL, worker_id = NULL, event_seq = event_seq + 1, updated_at = $1 WHERE {HELD}"
            ),
            "generation_jobs.*",
            "'queued'",
            "'{}'::jsonb",
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Integer, _>(id)
            .bind::<Integer, _>(lease.attempt)
            .load(&mut conn)
            .await
            .map_err(db("releasing a job"))?;
        Ok(!rows.is_empty())
    }

    async fn reap(&self, now: Timestamp, retry: &RetryPolicy) -> DomainResult<usize> {
        let mut conn = self.pool.get().await?;
        let sql = emitting(
            "UPDATE generation_jobs g SET lease_expires_at = NULL, worker_id = NULL, updated_at = $1, \
             event_seq = g.event_seq + 1, error_message = 'lease expired (worker stopped responding)', \
             status = CASE WHEN g.attempts >= g.max_attempts THEN 'failed' ELSE 'pending' END, \
             completed_at = CASE WHEN g.attempts >= g.max_attempts THEN $1 ELSE NULL END, \
             run_after = $1 + least($3 * power(2, greatest(g.attempts - 1, 0)), $4) * interval '1 second' \
             FROM (SELECT id FROM generation_jobs WHERE status = 'running' AND lease_expires_at < $1 \
                   FOR UPDATE SKIP LOCKED) expired WHERE g.id = expired.id",
            "g.*",
            "CASE job.status WHEN 'pending' THEN 'retrying' ELSE 'failed' END",
            "jsonb_build_object('attempt', job.attempts, 'error_message', job.error_message)",
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Double, _>(retry.base.as_secs_f64())
            .bind::<Double, _>(retry.max.as_secs_f64())
            .load(&mut conn)
            .await
            .map_err(db("reaping expired leases"))?;
        if !rows.is_empty() {
            tracing::warn!(jobs = ?rows.iter().map(|r| r.id).collect::<Vec<_>>(), "rescued jobs whose lease expired");
        }
        Ok(rows.len())
    }

    async fn cancel_overdue(&self, now: Timestamp) -> DomainResult<usize> {
        let mut conn = self.pool.get().await?;
        let sql = emitting(
            "UPDATE generation_jobs g SET status = 'cancelled', completed_at = $1, updated_at = $1, \
             error_message = $3, event_seq = g.event_seq + 1 \
             FROM (SELECT id FROM generation_jobs WHERE status = 'pending' AND start_deadline_at <= $1 \
                   FOR UPDATE SKIP LOCKED) overdue WHERE g.id = overdue.id",
            "g.*",
            "'cancelled'",
            "jsonb_build_object('error_message', job.error_message)",
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Text, _>(START_DEADLINE_PASSED)
            .load(&mut conn)
            .await
            .map_err(db("cancelling jobs past their start deadline"))?;
        if !rows.is_empty() {
            tracing::info!(jobs = ?rows.iter().map(|r| r.id).collect::<Vec<_>>(), "cancelled jobs past their start deadline");
        }
        Ok(rows.len())
    }
}

/// Completions as columns, for `unnest`.
#[derive(Default)]
struct Columns {
    ids: Vec<i32>,
    attempts: Vec<i32>,
    titles: Vec<String>,
    types: Vec<&'static str>,
    data: Vec<String>,
    metadata: Vec<Value>,
    creators: Vec<i32>,
    tags: Vec<Value>,
    public: Vec<bool>,
    private: Vec<bool>,
}

impl Columns {
    fn push(&mut self, id: i32, attempt: i32, creator: i32, content: NewContent) {
        self.ids.push(id);
        self.attempts.push(attempt);
        self.titles.push(content.title);
        self.types.push(content.content_type.as_str());
        self.data.push(content.content_data);
        self.metadata.push(Value::Object(content.item_metadata));
        self.creators.push(creator);
        self.tags.push(json!(content.tags.into_inner()));
        self.public.push(content.is_public);
        self.private.push(content.is_private);
    }
}
