//! Generation jobs (contract §4.6).

use actix_web::web::{self, Json};
use apistos::actix::CreatedJson;
use apistos::api_operation;
use genonaut_domain::PageRequest;
use genonaut_domain::ids::{ContentId, JobId, UserId};
use genonaut_domain::model::{Idempotent, NewJob};

use crate::dto::jobs::*;
use crate::dto::{JobIdPath, Page, PageQuery, Success, UserIdPath};
use crate::error::ApiError;
use crate::extract::{Body, MaybeBody, Path, Query};
use crate::idempotency::{IdempotencyHeader, Submitted};
use crate::input::FieldError;
use crate::state::Tenant;
use crate::webhooks::WebhookSettings;

type Result<T> = std::result::Result<T, ApiError>;

/// Create a generation job
///
/// Queues a pending job. `job_type` accepts canonical values and the aliases `text`, `image`,
/// `video`, `audio` in any case, and is stored canonically. Checks, in order: the body (422
/// list), the user exists (404) and is active (422), the prompt is not blank (422).
///
/// With an `Idempotency-Key` header the request may be retried safely: the same key and body
/// again return the original `201` response (header `Idempotent-Replayed: true`) and create
/// nothing; the same key with a different body is a 422.
///
/// With `webhook`, the job's events (by default the final ones) are POSTed to that URL,
/// signed per the Standard Webhooks specification, at least once and in order; a URL that is
/// invalid, an unknown event name, a server without a signing secret, or a target on an
/// internal address (loopback, private, link-local, metadata) → 422, nothing stored.
#[api_operation(
    operation_id = "jobs_create",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn create(
    tenant: Tenant,
    key: IdempotencyHeader,
    hooks: web::Data<WebhookSettings>,
    body: Body<JobCreate>,
) -> Result<Submitted<JobOut>> {
    let new: NewJob = body.0.into();
    if let Some(webhook) = &new.webhook {
        crate::webhooks::check(webhook, **hooks).await?;
    }
    let outcome = match key.0 {
        None => Idempotent::Created(tenant.services.jobs.create(new).await?),
        Some(key) => tenant.services.jobs.create_idempotent(new, key).await?,
    };
    Ok(Submitted(outcome.map(JobOut::from)))
}

/// Get a job
#[api_operation(
    operation_id = "jobs_get",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn get(tenant: Tenant, p: Path<JobIdPath>) -> Result<Json<JobOut>> {
    Ok(Json(tenant.services.jobs.get(JobId(p.0.job_id)).await?.into()))
}

/// A job's webhook deliveries
///
/// One per event of the kinds the job's webhook asks for, in `seq` order (the order they are sent in): the
/// `webhook-id` every attempt carries, the state (`pending`, `delivered`, `failed`), attempts,
/// the last status code and error, and the next attempt's time. Empty for a job without a
/// webhook; 404 for an unknown job.
#[api_operation(
    operation_id = "jobs_webhook_deliveries",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn webhook_deliveries(
    tenant: Tenant,
    p: Path<JobIdPath>,
) -> Result<Json<Page<WebhookDeliveryOut>>> {
    let items = tenant.services.jobs.webhook_deliveries(JobId(p.0.job_id)).await?;
    Ok(Json(Page::everything(items)))
}

/// Update a pending job's parameters
///
/// Only pending jobs (422 otherwise); `parameters` replaces the stored object.
#[api_operation(
    operation_id = "jobs_update",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn update(
    tenant: Tenant,
    p: Path<JobIdPath>,
    body: MaybeBody<JobParametersUpdate>,
) -> Result<Json<JobOut>> {
    Ok(Json(
        tenant
            .services
            .jobs
            .update_parameters(JobId(p.0.job_id), body.0.parameters)
            .await?
            .into(),
    ))
}

/// Delete a finished job
///
/// Pending and running jobs cannot be deleted (422).
#[api_operation(
    operation_id = "jobs_delete",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn delete(tenant: Tenant, p: Path<JobIdPath>) -> Result<Json<Success>> {
    let id = JobId(p.0.job_id);
    tenant.services.jobs.delete(id).await?;
    Ok(Json(Success::new(format!(
        "Generation job {id} deleted successfully"
    ))))
}

/// Set a job's status
///
/// Any transition is accepted. Entering `running` stamps `started_at` once; entering
/// `completed`/`failed` stamps `completed_at` once; going back to `pending`/`running` clears
/// `completed_at` and `error_message`. `failed` requires a non-empty `error_message`.
#[api_operation(
    operation_id = "jobs_status",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn status(tenant: Tenant, p: Path<JobIdPath>, body: Body<StatusUpdate>) -> Result<Json<JobOut>> {
    let Some(change) = body.0.change() else {
        return Err(ApiError::Validation(vec![FieldError::at(
            vec!["body".into(), "status".into()],
            "string_pattern_mismatch",
            "String should match pattern '^(pending|running|completed|failed)$'",
            serde_json::Value::String(body.0.status),
        )]));
    };
    Ok(Json(
        tenant
            .services
            .jobs
            .set_status(JobId(p.0.job_id), change)
            .await?
            .into(),
    ))
}

/// Attach a result to a job
///
/// Sets `result_content_id` (the status is not changed). Checks the content exists, then the job.
#[api_operation(
    operation_id = "jobs_result",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn result(tenant: Tenant, p: Path<JobIdPath>, body: Body<ResultUpdate>) -> Result<Json<JobOut>> {
    Ok(Json(
        tenant
            .services
            .jobs
            .set_result(JobId(p.0.job_id), ContentId(body.0.content_id))
            .await?
            .into(),
    ))
}

/// List jobs
///
/// Every given filter applies (AND): user (must exist), type (aliases accepted), status, created
/// in the last `days`. Newest first; `total` counts all matches.
#[api_operation(
    operation_id = "jobs_list",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn list(tenant: Tenant, q: Query<JobListQuery>) -> Result<Json<Page<JobOut>>> {
    let q = q.0;
    let since = q.days.map(|d| tenant.services.jobs.since(d));
    let page = tenant
        .services
        .jobs
        .list(&q.query(since), PageRequest::new(q.skip, q.limit))
        .await?;
    Ok(Json(Page::of(page, q.skip, q.limit)))
}

pub(crate) async fn jobs_of_user(
    tenant: Tenant,
    p: UserIdPath,
    q: UserJobsQuery,
) -> Result<Json<Page<JobOut>>> {
    let page = tenant
        .services
        .jobs
        .for_user(
            UserId(p.user_id),
            q.status.as_deref(),
            PageRequest::new(q.skip, q.limit),
        )
        .await?;
    Ok(Json(Page::of(page, q.skip, q.limit)))
}

/// A user's jobs
///
/// Newest first, optionally only one `status`; 404 for an unknown user.
#[api_operation(
    operation_id = "jobs_by_user",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn by_user(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<UserJobsQuery>,
) -> Result<Json<Page<JobOut>>> {
    jobs_of_user(tenant, p.0, q.0).await
}

/// Jobs in a status
///
/// Exact status, newest first; an unknown status lists nothing.
#[api_operation(
    operation_id = "jobs_by_status",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn by_status(
    tenant: Tenant,
    p: Path<StatusPath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<JobOut>>> {
    let page = tenant.services.jobs.by_status(&p.0.status, q.0.window()).await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// Jobs of a type
///
/// Canonical type or alias, any case; newest first; an unknown type lists nothing.
#[api_operation(
    operation_id = "jobs_by_type",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn by_type(
    tenant: Tenant,
    p: Path<JobTypePath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<JobOut>>> {
    let page = tenant.services.jobs.by_type(&p.0.job_type, q.0.window()).await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// Pending jobs
///
/// Queue order (oldest first), at most `limit`.
#[api_operation(
    operation_id = "jobs_pending",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn pending(tenant: Tenant, q: Query<PendingQuery>) -> Result<Json<Page<JobOut>>> {
    Ok(Json(Page::listing(
        tenant.services.jobs.pending(q.0.limit).await?,
        q.0.limit,
    )))
}

/// Running jobs
///
/// Earliest started first; `total` and `limit` are the number of items.
#[api_operation(
    operation_id = "jobs_running",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 503
)]
pub async fn running(tenant: Tenant) -> Result<Json<Page<JobOut>>> {
    Ok(Json(Page::everything(tenant.services.jobs.running().await?)))
}

/// Recently completed jobs
///
/// Completed in the last `days` days (default 30), most recent first, optionally of one user.
#[api_operation(
    operation_id = "jobs_completed",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn completed(tenant: Tenant, q: Query<FinishedQuery>) -> Result<Json<Page<JobOut>>> {
    let q = q.0;
    let items = tenant
        .services
        .jobs
        .completed(q.user(), q.days.unwrap_or(30), q.limit)
        .await?;
    Ok(Json(Page::listing(items, q.limit)))
}

/// Recently failed jobs
///
/// Failed jobs created in the last `days` days (default 7), newest first, optionally of one user.
#[api_operation(
    operation_id = "jobs_failed",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn failed(tenant: Tenant, q: Query<FinishedQuery>) -> Result<Json<Page<JobOut>>> {
    let q = q.0;
    let items = tenant
        .services
        .jobs
        .failed(q.user(), q.days.unwrap_or(7), q.limit)
        .await?;
    Ok(Json(Page::listing(items, q.limit)))
}

/// Job counters
///
/// For all jobs, or one user's (`user_id`). Breakdowns list only statuses and types that occur.
#[api_operation(
    operation_id = "jobs_stats",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn stats(tenant: Tenant, q: Query<JobStatsQuery>) -> Result<Json<JobStatsOut>> {
    let user = q.0.user_id.filter(|u| *u != 0);
    let stats = tenant.services.jobs.stats(user.map(UserId)).await?;
    Ok(Json(JobStatsOut::new(user, stats)))
}

/// A user's job counters
#[api_operation(
    operation_id = "jobs_user_stats",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn user_stats(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<JobStatsOut>> {
    let stats = tenant.services.jobs.stats(Some(UserId(p.0.user_id))).await?;
    Ok(Json(JobStatsOut::new(Some(p.0.user_id), stats)))
}

/// Process queued jobs now
///
/// Claims up to `max_jobs` pending jobs (highest priority first, FIFO within a priority) for
/// this process's job runner, which starts them at once; returns them as claimed (`running`).
#[api_operation(
    operation_id = "jobs_process",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn process(tenant: Tenant, q: Query<ProcessQuery>) -> Result<Json<Page<JobOut>>> {
    Ok(Json(Page::everything(
        tenant.services.jobs.process_queue(q.0.max_jobs).await?,
    )))
}

/// Queue counters
#[api_operation(
    operation_id = "jobs_queue_stats",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 503
)]
pub async fn queue_stats(tenant: Tenant) -> Result<Json<QueueStatsOut>> {
    let (pending_jobs, running_jobs) = tenant.services.jobs.queue_counts().await?;
    Ok(Json(QueueStatsOut {
        pending_jobs,
        running_jobs,
    }))
}

/// Cancel a job
///
/// A pending job never starts; a running job's generator is told to stop. Answers the job with
/// status `cancelled`; a job that already finished is a 422.
#[api_operation(
    operation_id = "jobs_cancel",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn cancel(tenant: Tenant, p: Path<JobIdPath>) -> Result<Json<JobOut>> {
    Ok(Json(tenant.services.jobs.cancel(JobId(p.0.job_id)).await?.into()))
}

/// Issue a live-status ticket
///
/// For browsers, whose `WebSocket` and `EventSource` cannot send an `Authorization` header: a
/// short-lived (60 s), single-use ticket scoped to one job of the selected schema. Open
/// `/ws/generation/{job_id}?ticket=<ticket>` or
/// `/api/v1/generation-jobs/{job_id}/events?ticket=<ticket>` with it instead of a key (the
/// ticket also selects the schema). A used, expired or unknown ticket is a 401; a ticket for
/// another job (or schema) a 403. Needs a key with the `read` scope. 404 for an unknown job.
#[api_operation(
    operation_id = "ws_tickets_create",
    tag = "generation-jobs",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn ticket(
    tenant: Tenant,
    access: actix_web::web::Data<crate::guard::Access>,
    body: Body<TicketCreate>,
) -> Result<CreatedJson<TicketOut>> {
    let job = tenant.services.jobs.get(JobId(body.0.job_id)).await?;
    let Some(tickets) = access.tickets() else {
        return Err(genonaut_domain::DomainError::Unavailable(
            "live-status tickets are not configured".into(),
        )
        .into());
    };
    let issued = tickets.issue(job.id, &tenant.name).await?;
    Ok(CreatedJson(TicketOut {
        ticket: issued.ticket,
        expires_at: issued.expires_at,
    }))
}
