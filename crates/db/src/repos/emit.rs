//! Writes that change a job and record the change as an event, in one statement.
//!
//! `emitting(write, kind, data)` wraps a data-modifying statement that returns job rows
//! (`UPDATE … RETURNING *` or `INSERT … RETURNING *`) in a CTE that also appends each changed
//! job's event to `job_events` (with the job's new `event_seq`) and `pg_notify`s it — one
//! round trip, atomic, so an event exists if and only if its change committed. The same
//! statement writes the webhook outbox: one `webhook_deliveries` row per event whose job has a
//! `webhook` asking for its kind (nothing for jobs without one), and marks that event's
//! notification `"webhook": true` so the deliverers wake at once.
//!
//! The notification is a [`Notification`](crate::events::Notification) as JSON, built from typed
//! values (the time is `$1` itself, not text formatted beforehand).
//!
//! Bind positions ([`emit_query`] binds them): `$1` = now (timestamp), `$2` = schema name; the
//! wrapped statement's own parameters start at `$3`.

use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Text, Timestamp as SqlTimestamp};
use genonaut_domain::model::Timestamp;

use crate::PgPool;
use crate::events::CHANNEL;

/// An [`emitting`] statement with its first two parameters bound: now, and `pool`'s schema.
pub(crate) fn emit_query(sql: String, pool: &PgPool, now: Timestamp) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
    diesel::sql_query(sql)
        .into_boxed::<Pg>()
        .bind::<SqlTimestamp, _>(now)
        .bind::<Text, _>(pool.schema().to_string())
}

/// The statement; `returned` names the changed table's rows in the write (`generation_jobs.*`
/// or an alias like `g.*`); `kind` and `data` are SQL expressions over the changed row `job`
/// (e.g. `'completed'`, `jsonb_build_object('attempt', job.attempts)`).
pub(crate) fn emitting(write: &str, returned: &str, kind: &str, data: &str) -> String {
    emitting_after("", write, returned, kind, data)
}

/// [`emitting`] with leading CTEs (`name AS (…), …`) the write may use; PostgreSQL only allows
/// data-modifying CTEs at the top level.
pub(crate) fn emitting_after(ctes: &str, write: &str, returned: &str, kind: &str, data: &str) -> String {
    let ctes = if ctes.is_empty() {
        String::new()
    } else {
        format!("{ctes}, ")
    };
    format!(
        "WITH {ctes}job AS ({write} RETURNING {returned}), \
         ev AS (SELECT job.id AS job_id, job.event_seq AS seq, ({kind})::text AS kind, ({data})::jsonb AS data FROM job), \
         ins AS (INSERT INTO job_events (job_id, seq, event_type, data, created_at) \
                 SELECT job_id, seq, kind, data, $1 FROM ev), \
         hook AS (INSERT INTO webhook_deliveries (job_id, seq, event_type, webhook_id, next_attempt_at, created_at) \
                  SELECT ev.job_id, ev.seq, ev.kind, 'msg_' || replace(gen_random_uuid()::text, '-', ''), $1, $1 \
                  FROM ev JOIN job ON job.id = ev.job_id \
                  WHERE job.webhook IS NOT NULL AND ev.kind = ANY(job.webhook_events_filter)) \
         SELECT job.*, pg_notify('{CHANNEL}', jsonb_build_object('schema', $2::text, 'job_id', ev.job_id, \
                'seq', ev.seq, 'type', ev.kind, 'at', $1::timestamp, \
                'data', CASE WHEN length(ev.data::text) > 6000 THEN NULL ELSE ev.data END, \
                'webhook', coalesce(job.webhook IS NOT NULL AND ev.kind = ANY(job.webhook_events_filter), false))::text)::text \
                AS notified \
         FROM job JOIN ev ON ev.job_id = job.id"
    )
}

/// The event type a status change records.
pub(crate) const KIND_BY_STATUS: &str =
    "CASE job.status WHEN 'pending' THEN 'queued' WHEN 'running' THEN 'started' ELSE job.status END";

/// No details.
pub(crate) const NO_DATA: &str = "'{}'::jsonb";
