use async_trait::async_trait;
use diesel::dsl::{count_star, sql};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamp as SqlTimestamp};
use diesel_async::{AsyncConnection, RunQueryDsl};
use genonaut_domain::ids::{ContentId, JobId, UserId};
use genonaut_domain::model::{
    CancelOutcome, GenerationJob, IDEMPOTENCY_KEY_TTL_HOURS, IdempotencyKey, Idempotent, IdempotentRequest,
    JobEvent, JobQuery, JobStats, JobStatus, JobType, JsonObject, NewJob, Timestamp,
};
use genonaut_domain::ports::{JobEventLog, JobOrder, JobRepository, JobState};
use genonaut_domain::{DomainError, DomainResult, Page, PageRequest, Rule};
use serde_json::Value;

use super::emit::{KIND_BY_STATUS, NO_DATA, emit_query, emitting};
use crate::PgPool;
use crate::error::db;
use crate::rows::{JobEventRow, JobRow, convert, key};
use crate::schema::{generation_jobs, idempotency_keys, job_events};

/// A failure inside the idempotent insert's transaction (either rolls it back).
enum TxError {
    Db(diesel::result::Error),
    Domain(DomainError),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

/// Generation jobs in PostgreSQL.
#[derive(Clone)]
pub struct PgJobs {
    pool: PgPool,
}

impl PgJobs {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgJobs { pool }
    }
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

fn filtered(query: &JobQuery) -> generation_jobs::BoxedQuery<'static, Pg> {
    let mut q = generation_jobs::table.into_boxed();
    if let Some(user) = query.user_id {
        q = q.filter(generation_jobs::user_id.eq(key(user.0).unwrap_or(0)));
    }
    if let Some(status) = query.status {
        q = q.filter(generation_jobs::status.eq(status.as_str()));
    }
    if let Some(t) = query.job_type {
        q = q.filter(generation_jobs::job_type.eq(t.as_str()));
    }
    if let Some(since) = query.created_since {
        q = q.filter(generation_jobs::created_at.ge(since));
    }
    q
}

fn ordered(
    q: generation_jobs::BoxedQuery<'static, Pg>,
    order: JobOrder,
) -> generation_jobs::BoxedQuery<'static, Pg> {
    use generation_jobs::*;
    match order {
        JobOrder::NewestFirst => q.order((created_at.desc(), id.desc())),
        JobOrder::OldestFirst => q.order((created_at.asc(), id.asc())),
        JobOrder::StartedFirst => q.order((started_at.asc(), id.asc())),
        JobOrder::RecentlyCompleted => q.order((completed_at.desc(), id.desc())),
    }
}

#[derive(QueryableByName)]
struct PositionRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = BigInt)]
    position: i64,
}

/// The jobs of `rows`, with queue positions filled in for pending ones.
pub(crate) async fn with_positions(
    conn: &mut diesel_async::AsyncPgConnection,
    rows: Vec<JobRow>,
) -> DomainResult<Vec<GenerationJob>> {
    let pending: Vec<i32> = rows
        .iter()
        .filter(|r| r.status == "pending")
        .map(|r| r.id)
        .collect();
    let mut jobs: Vec<GenerationJob> = convert(rows)?;
    if pending.is_empty() {
        return Ok(jobs);
    }
    let positions: Vec<PositionRow> = if pending.len() == 1 {
        diesel::sql_query(
            "SELECT j.id, (SELECT count(*) FROM generation_jobs q WHERE q.status = 'pending'                AND (q.priority > j.priority OR (q.priority = j.priority AND (q.fair_round, q.created_at, q.id) < (j.fair_round, j.created_at, j.id)))) + 1                AS position FROM generation_jobs j WHERE j.id = $1",
        )
        .bind::<Integer, _>(pending[0])
        .load(conn)
        .await
    } else {
        diesel::sql_query(
            "SELECT id, position FROM (SELECT id, row_number() OVER (ORDER BY priority DESC, fair_round, created_at, id) AS position                FROM generation_jobs WHERE status = 'pending') q WHERE id = ANY($1)",
        )
        .bind::<Array<Integer>, _>(pending)
        .load(conn)
        .await
    }
    .map_err(db("computing queue positions"))?;
    for job in &mut jobs {
        if let Some(p) = positions.iter().find(|p| i64::from(p.id) == job.id.0) {
            job.queue_position = Some(p.position);
        }
    }
    Ok(jobs)
}

impl PgJobs {
    /// The statement creating a pending job (and its `queued` event).
    fn insert_query(
        &self,
        job: NewJob,
        now: Timestamp,
    ) -> DomainResult<diesel::query_builder::BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery>>
    {
        let Some(user_id) = key(job.user_id.0) else {
            return Err(DomainError::not_found(genonaut_domain::Entity::User, job.user_id));
        };
        let sql = emitting(
            "INSERT INTO generation_jobs (user_id, job_type, prompt, parameters, status, priority, created_at, \
             updated_at, run_after, event_seq, start_deadline_at, timeout_seconds, webhook, webhook_events_filter, \
             fair_round) \
             VALUES ($3, $4, $5, $6, 'pending', $7, $1, $1, $1, 1, $1 + $8 * interval '1 second', $9, $10, $11, \
             greatest(coalesce((SELECT h.fair_round FROM generation_jobs h WHERE h.status = 'pending' \
                                AND h.priority = $7 ORDER BY h.priority DESC, h.fair_round LIMIT 1), 0), \
                      coalesce((SELECT u.fair_round + 1 FROM generation_jobs u WHERE u.status = 'pending' \
                                AND u.user_id = $3 AND u.priority = $7 ORDER BY u.fair_round DESC LIMIT 1), 0)))",
            "generation_jobs.*",
            "'queued'",
            NO_DATA,
        );
        Ok(emit_query(sql, &self.pool, now)
            .bind::<Integer, _>(user_id)
            .bind::<Text, _>(job.job_type.as_str())
            .bind::<Text, _>(job.prompt)
            .bind::<Jsonb, _>(Value::Object(job.parameters))
            .bind::<Integer, _>(job.priority)
            .bind::<Nullable<Integer>, _>(job.start_deadline_seconds)
            .bind::<Nullable<Integer>, _>(job.timeout_seconds)
            .bind::<Nullable<Text>, _>(job.webhook.as_ref().map(|w| w.url.clone()))
            .bind::<Nullable<Array<Text>>, _>(
                job.webhook
                    .map(|w| w.events.iter().map(|k| k.as_str().to_owned()).collect::<Vec<_>>()),
            ))
    }

    async fn load(
        &self,
        q: generation_jobs::BoxedQuery<'static, Pg>,
        page: PageRequest,
    ) -> DomainResult<Vec<GenerationJob>> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<JobRow> = q
            .offset(page.skip)
            .limit(page.limit)
            .select(JobRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing jobs"))?;
        with_positions(&mut conn, rows).await
    }
}

#[async_trait]
impl JobRepository for PgJobs {
    async fn insert(&self, job: NewJob, now: Timestamp) -> DomainResult<GenerationJob> {
        let query = self.insert_query(job, now)?;
        let mut conn = self.pool.get().await?;
        let rows: Vec<JobRow> = query.load(&mut conn).await.map_err(db("creating a job"))?;
        with_positions(&mut conn, rows)
            .await?
            .pop()
            .ok_or_else(|| DomainError::unexpected("creating a job", "no row"))
    }

    async fn insert_idempotent(
        &self,
        job: NewJob,
        request: IdempotentRequest,
        now: Timestamp,
    ) -> DomainResult<Idempotent<GenerationJob>> {
        let query = self.insert_query(job, now)?;
        let cutoff = now - chrono::Duration::hours(IDEMPOTENCY_KEY_TTL_HOURS);
        let IdempotentRequest {
            key: IdempotencyKey { scope, key: name },
            fingerprint,
        } = request;
        let mut conn = self.pool.get().await?;
        let outcome = conn
            .transaction::<Idempotent<GenerationJob>, TxError, _>(async move |conn| {
                // Forget expired keys, a few at a time, never waiting for another transaction.
                diesel::sql_query(
                    "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys \
                     WHERE created_at < $1 ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED)",
                )
                .bind::<SqlTimestamp, _>(cutoff)
                .execute(conn)
                .await?;
                // Claim the key first: a concurrent request with the same key waits here until
                // this transaction ends, then finds the committed row. An expired row is taken over.
                let claimed = diesel::sql_query(
                    "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, \
                     created_at = EXCLUDED.created_at, job_id = NULL, response = NULL, queue_position = NULL \
                     WHERE idempotency_keys.created_at < $5",
                )
                .bind::<Text, _>(&scope)
                .bind::<Text, _>(&name)
                .bind::<Text, _>(&fingerprint)
                .bind::<SqlTimestamp, _>(now)
                .bind::<SqlTimestamp, _>(cutoff)
                .execute(conn)
                .await?;
                if claimed == 0 {
                    let (stored, position): (String, Option<i64>) = idempotency_keys::table
                        .find((&scope, &name))
                        .select((idempotency_keys::fingerprint, idempotency_keys::queue_position))
                        .first(conn)
                        .await?;
                    if stored != fingerprint {
                        return Err(TxError::Domain(DomainError::Rule(Rule::IdempotencyKeyReused)));
                    }
                    // The snapshot; a column added since it was taken comes from the job's
                    // current row (or is NULL if the job was deleted).
                    let row: JobRow = diesel::sql_query(
                        "SELECT (jsonb_populate_record(j, k.response)).* FROM idempotency_keys k \
                         LEFT JOIN generation_jobs j ON j.id = k.job_id WHERE k.scope = $1 AND k.key = $2",
                    )
                    .bind::<Text, _>(&scope)
                    .bind::<Text, _>(&name)
                    .get_result(conn)
                    .await?;
                    let mut job = GenerationJob::try_from(row).map_err(TxError::Domain)?;
                    job.queue_position = position;
                    return Ok(Idempotent::Replayed(job));
                }
                let rows: Vec<JobRow> = query.load(conn).await?;
                let job = with_positions(conn, rows)
                    .await
                    .map_err(TxError::Domain)?
                    .pop()
                    .ok_or_else(|| TxError::Domain(DomainError::unexpected("creating a job", "no row")))?;
                // The job as returned now is what a retry gets.
                diesel::sql_query(
                    "UPDATE idempotency_keys k SET job_id = j.id, response = to_jsonb(j), queue_position = $3 \
                     FROM generation_jobs j WHERE j.id = $4 AND k.scope = $1 AND k.key = $2",
                )
                .bind::<Text, _>(&scope)
                .bind::<Text, _>(&name)
                .bind::<Nullable<BigInt>, _>(job.queue_position)
                .bind::<Integer, _>(key(job.id.0).unwrap_or(0))
                .execute(conn)
                .await?;
                Ok(Idempotent::Created(job))
            })
            .await;
        match outcome {
            Ok(done) => Ok(done),
            Err(TxError::Domain(e)) => Err(e),
            Err(TxError::Db(e)) => Err(db("creating a job idempotently")(e)),
        }
    }

    async fn get(&self, id: JobId) -> DomainResult<Option<GenerationJob>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let row: Option<JobRow> = generation_jobs::table
            .find(id)
            .select(JobRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("reading a job"))?;
        Ok(with_positions(&mut conn, row.into_iter().collect()).await?.pop())
    }

    async fn update_parameters(
        &self,
        id: JobId,
        parameters: JsonObject,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        let Some(key_id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let row: Option<JobRow> = diesel::update(
            generation_jobs::table
                .find(key_id)
                .filter(generation_jobs::status.eq(JobStatus::Pending.as_str())),
        )
        .set((
            generation_jobs::parameters.eq(Value::Object(parameters)),
            generation_jobs::updated_at.eq(now),
        ))
        .returning(JobRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(db("updating job parameters"))?;
        match row {
            Some(row) => Ok(Some(row.try_into()?)),
            None => {
                drop(conn);
                match self.get(id).await? {
                    Some(_) => Err(DomainError::Rule(Rule::JobNotPending)),
                    None => Ok(None),
                }
            }
        }
    }

    async fn transition(
        &self,
        id: JobId,
        expected: JobStatus,
        state: JobState,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let sql = emitting(
            "UPDATE generation_jobs SET status = $5, started_at = $6, completed_at = $7, error_message = $8, \
             updated_at = $1, event_seq = event_seq + 1, run_after = $1, \
             lease_expires_at = NULL, worker_id = NULL, progress = CASE WHEN $5 = 'completed' THEN 1 ELSE progress END \
             WHERE id = $3 AND status = $4",
            "generation_jobs.*",
            KIND_BY_STATUS,
            NO_DATA,
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Integer, _>(id)
            .bind::<Text, _>(expected.as_str())
            .bind::<Text, _>(state.status.as_str())
            .bind::<Nullable<diesel::sql_types::Timestamp>, _>(state.started_at)
            .bind::<Nullable<diesel::sql_types::Timestamp>, _>(state.completed_at)
            .bind::<Nullable<Text>, _>(state.error_message)
            .load(&mut conn)
            .await
            .map_err(db("changing job status"))?;
        Ok(with_positions(&mut conn, rows).await?.pop())
    }

    async fn set_result(
        &self,
        id: JobId,
        content: ContentId,
        now: Timestamp,
    ) -> DomainResult<Option<GenerationJob>> {
        let (Some(id), Some(content)) = (key(id.0), key(content.0)) else {
            return Ok(None);
        };
        let mut conn = self.pool.get().await?;
        let row: Option<JobRow> = diesel::update(generation_jobs::table.find(id))
            .set((
                generation_jobs::result_content_id.eq(content),
                generation_jobs::updated_at.eq(now),
            ))
            .returning(JobRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("attaching a job result"))?;
        row.map(GenerationJob::try_from).transpose()
    }

    async fn delete(&self, id: JobId) -> DomainResult<bool> {
        let Some(id) = key(id.0) else { return Ok(false) };
        let mut conn = self.pool.get().await?;
        let n = diesel::delete(generation_jobs::table.find(id))
            .execute(&mut conn)
            .await
            .map_err(db("deleting a job"))?;
        Ok(n > 0)
    }

    async fn list(&self, query: &JobQuery, page: PageRequest) -> DomainResult<Page<GenerationJob>> {
        let items = self
            .load(ordered(filtered(query), JobOrder::NewestFirst), page)
            .await?;
        let mut conn = self.pool.get().await?;
        let total: i64 = filtered(query)
            .select(count_star())
            .get_result(&mut conn)
            .await
            .map_err(db("counting jobs"))?;
        Ok(Page { items, total })
    }

    async fn fetch(
        &self,
        query: &JobQuery,
        order: JobOrder,
        page: PageRequest,
    ) -> DomainResult<Vec<GenerationJob>> {
        self.load(ordered(filtered(query), order), page).await
    }

    async fn completed_since(
        &self,
        user: Option<UserId>,
        since: Timestamp,
        limit: i64,
    ) -> DomainResult<Vec<GenerationJob>> {
        let query = JobQuery {
            user_id: user,
            status: Some(JobStatus::Completed),
            ..JobQuery::default()
        };
        let q = filtered(&query).filter(generation_jobs::completed_at.ge(since));
        self.load(ordered(q, JobOrder::RecentlyCompleted), PageRequest::first(limit))
            .await
    }

    async fn stats(&self, user: Option<UserId>) -> DomainResult<JobStats> {
        let query = JobQuery {
            user_id: user,
            ..JobQuery::default()
        };
        let mut conn = self.pool.get().await?;
        let grouped = |column: &str| {
            match user {
            Some(user) => diesel::sql_query(format!(
                "SELECT {column} AS value, count(*) AS count FROM generation_jobs WHERE user_id = $1 GROUP BY 1"
            ))
            .into_boxed::<Pg>()
            .bind::<Integer, _>(key(user.0).unwrap_or(0)),
            None => diesel::sql_query(format!("SELECT {column} AS value, count(*) AS count FROM generation_jobs GROUP BY 1"))
                .into_boxed::<Pg>(),
        }
        };
        let by_status: Vec<CountRow> = grouped("status")
            .load(&mut conn)
            .await
            .map_err(db("counting jobs by status"))?;
        let by_type: Vec<CountRow> = grouped("job_type")
            .load(&mut conn)
            .await
            .map_err(db("counting jobs by type"))?;
        let average: Option<f64> = filtered(&query)
            .filter(generation_jobs::status.eq(JobStatus::Completed.as_str()))
            .filter(generation_jobs::started_at.is_not_null())
            .filter(generation_jobs::completed_at.is_not_null())
            .select(sql::<Nullable<Double>>(
                "avg(extract(epoch FROM completed_at - started_at))::float8",
            ))
            .get_result(&mut conn)
            .await
            .map_err(db("averaging job durations"))?;
        let mut statuses: Vec<(JobStatus, i64)> = by_status
            .into_iter()
            .filter_map(|r| JobStatus::parse(&r.value).map(|s| (s, r.count)))
            .collect();
        statuses.sort_by_key(|(s, _)| *s);
        let mut types: Vec<(JobType, i64)> = Vec::new();
        for CountRow { value, count: n } in by_type {
            if let Some(t) = JobType::parse_lenient(&value) {
                match types.iter_mut().find(|(known, _)| *known == t) {
                    Some((_, total)) => *total += n,
                    None => types.push((t, n)),
                }
            }
        }
        types.sort_by_key(|(t, _)| *t);
        Ok(JobStats {
            total: statuses.iter().map(|(_, n)| n).sum(),
            by_status: statuses,
            by_type: types,
            average_processing_seconds: average,
        })
    }

    async fn cancel(&self, id: JobId, now: Timestamp) -> DomainResult<CancelOutcome> {
        let Some(key_id) = key(id.0) else {
            return Ok(CancelOutcome::NotFound);
        };
        let mut conn = self.pool.get().await?;
        let sql = emitting(
            "UPDATE generation_jobs SET status = 'cancelled', completed_at = $1, updated_at = $1, \
             event_seq = event_seq + 1, lease_expires_at = NULL, worker_id = NULL \
             WHERE id = $3 AND status IN ('pending', 'running')",
            "generation_jobs.*",
            "'cancelled'",
            NO_DATA,
        );
        let rows: Vec<JobRow> = emit_query(sql, &self.pool, now)
            .bind::<Integer, _>(key_id)
            .load(&mut conn)
            .await
            .map_err(db("cancelling a job"))?;
        if let Some(row) = rows.into_iter().next() {
            return Ok(CancelOutcome::Cancelled(Box::new(row.try_into()?)));
        }
        drop(conn);
        Ok(match self.get(id).await? {
            Some(job) => CancelOutcome::AlreadyFinished(job.status),
            None => CancelOutcome::NotFound,
        })
    }

    async fn queue_counts(&self) -> DomainResult<(i64, i64)> {
        let mut conn = self.pool.get().await?;
        let counts: (i64, i64) = generation_jobs::table
            .filter(
                generation_jobs::status.eq_any([JobStatus::Pending.as_str(), JobStatus::Running.as_str()]),
            )
            .select((
                sql::<diesel::sql_types::BigInt>("count(*) FILTER (WHERE status = 'pending')"),
                sql::<diesel::sql_types::BigInt>("count(*) FILTER (WHERE status = 'running')"),
            ))
            .get_result(&mut conn)
            .await
            .map_err(db("counting the queue"))?;
        Ok(counts)
    }
}

#[async_trait]
impl JobEventLog for PgJobs {
    async fn events_since(&self, job: JobId, after: i64) -> DomainResult<Vec<JobEvent>> {
        let Some(job) = key(job.0) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.get().await?;
        let rows: Vec<JobEventRow> = job_events::table
            .filter(job_events::job_id.eq(job))
            .filter(job_events::seq.gt(after))
            .order(job_events::seq.asc())
            .select(JobEventRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("reading job events"))?;
        convert(rows)
    }
}
