//! Users (contract §4.2) plus the `GET /users/{id}/generation-jobs` alias (§7.3).

use actix_web::web::Json;
use apistos::actix::CreatedJson;
use apistos::api_operation;
use genonaut_domain::ids::UserId;
use genonaut_domain::model::RecommendationQuery;

use crate::dto::interactions::InteractionOut;
use crate::dto::jobs::{JobOut, UserJobsQuery};
use crate::dto::recommendations::RecommendationOut;
use crate::dto::users::*;
use crate::dto::{Page, PageQuery, Success, UserIdPath};
use crate::error::ApiError;
use crate::extract::{Body, MaybeBody, Path, Query};
use crate::state::Tenant;

type Result<T> = std::result::Result<T, ApiError>;

/// Create a user
///
/// Registers an active user. The username must be unique (checked first), then the e-mail
/// (compared after lower-casing its domain). Duplicates answer 422 with
/// `"Username already exists"` / `"Email already exists"`.
#[api_operation(
    operation_id = "users_create",
    tag = "users",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn create(tenant: Tenant, body: Body<UserCreate>) -> Result<CreatedJson<UserOut>> {
    Ok(CreatedJson(
        tenant.services.users.create(body.0.into()).await?.into(),
    ))
}

/// List users (query form)
///
/// Users ordered by id; `active_only` restricts to active ones. `total` counts all matches.
#[api_operation(
    operation_id = "users_search_get",
    tag = "users",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn search_get(tenant: Tenant, q: Query<UserListQuery>) -> Result<Json<Page<UserOut>>> {
    list_users(tenant, q.0).await
}

/// Search users
///
/// Like the listing, plus `preferences_filter`: users whose preferences contain every given
/// key with exactly the given JSON value. All filters apply together; `total` counts matches.
#[api_operation(
    operation_id = "users_search_post",
    tag = "users",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn search_post(tenant: Tenant, body: MaybeBody<UserSearch>) -> Result<Json<Page<UserOut>>> {
    let b = body.0;
    let page = tenant
        .services
        .users
        .list(&b.query(), genonaut_domain::PageRequest::new(b.skip, b.limit))
        .await?;
    Ok(Json(Page::of(page, b.skip, b.limit)))
}

/// List users
///
/// Users ordered by id; `active_only` restricts to active ones. `total` counts all matches.
#[api_operation(
    operation_id = "users_list",
    tag = "users",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn list(tenant: Tenant, q: Query<UserListQuery>) -> Result<Json<Page<UserOut>>> {
    list_users(tenant, q.0).await
}

async fn list_users(tenant: Tenant, q: UserListQuery) -> Result<Json<Page<UserOut>>> {
    let page = tenant
        .services
        .users
        .list(&q.query(), genonaut_domain::PageRequest::new(q.skip, q.limit))
        .await?;
    Ok(Json(Page::of(page, q.skip, q.limit)))
}

/// Get a user
#[api_operation(
    operation_id = "users_get",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn get(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<UserOut>> {
    Ok(Json(tenant.services.users.get(UserId(p.0.user_id)).await?.into()))
}

/// Update a user
///
/// Changes username, e-mail and/or `is_active` (preferences have their own route). Checks, in
/// order: the user exists (404); a new username is not taken (422
/// `"Username '<u>' already exists"`); a new e-mail is not taken (422). `updated_at` changes
/// only if a value actually changed.
#[api_operation(
    operation_id = "users_update",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn update(tenant: Tenant, p: Path<UserIdPath>, body: Body<UserUpdate>) -> Result<Json<UserOut>> {
    Ok(Json(
        tenant
            .services
            .users
            .update(UserId(p.0.user_id), body.0.into())
            .await?
            .into(),
    ))
}

/// Delete (deactivate) a user
///
/// A soft delete: the user becomes inactive and keeps its content, interactions,
/// recommendations and jobs. Repeating it succeeds again.
#[api_operation(
    operation_id = "users_delete",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn delete(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<Success>> {
    let id = UserId(p.0.user_id);
    tenant.services.users.set_active(id, false).await?;
    Ok(Json(Success::new(format!("User {id} deleted successfully"))))
}

/// Merge preferences
///
/// Shallow merge: each top-level key sent overwrites or adds that key; other keys are kept; a
/// `null` value is stored as `null`. `updated_at` is set on every call.
#[api_operation(
    operation_id = "users_preferences",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn preferences(
    tenant: Tenant,
    p: Path<UserIdPath>,
    body: Body<PreferencesUpdate>,
) -> Result<Json<UserOut>> {
    Ok(Json(
        tenant
            .services
            .users
            .merge_preferences(UserId(p.0.user_id), body.0.preferences)
            .await?
            .into(),
    ))
}

/// A user's interactions
///
/// Newest first; works for inactive users. `total` counts all of the user's interactions.
#[api_operation(
    operation_id = "users_interactions",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn interactions(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<InteractionOut>>> {
    let page = tenant
        .services
        .interactions
        .by_user(UserId(p.0.user_id), q.0.window())
        .await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// A user's recommendations
///
/// Best first (score descending, then id). Inactive users get 422
/// `"Cannot get recommendations for inactive users"`.
#[api_operation(
    operation_id = "users_recommendations",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn recommendations(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<RecommendationOut>>> {
    let query = RecommendationQuery {
        user_id: Some(UserId(p.0.user_id)),
        ..RecommendationQuery::default()
    };
    let page = tenant.services.recommendations.list(&query, q.0.window()).await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// A user's unserved recommendations
///
/// Best first, at most `limit`; `total` is the number returned. Inactive users get 422.
#[api_operation(
    operation_id = "users_unserved",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn unserved(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<UnservedLimit>,
) -> Result<Json<Page<RecommendationOut>>> {
    let items = tenant
        .services
        .recommendations
        .unserved_for_active_user(UserId(p.0.user_id), q.0.limit)
        .await?;
    Ok(Json(Page::listing(items, 0)))
}

/// Deactivate a user
#[api_operation(
    operation_id = "users_deactivate",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn deactivate(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<UserOut>> {
    Ok(Json(
        tenant
            .services
            .users
            .set_active(UserId(p.0.user_id), false)
            .await?
            .into(),
    ))
}

/// Activate a user
#[api_operation(
    operation_id = "users_activate",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn activate(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<UserOut>> {
    Ok(Json(
        tenant
            .services
            .users
            .set_active(UserId(p.0.user_id), true)
            .await?
            .into(),
    ))
}

/// A user's activity counters
#[api_operation(
    operation_id = "users_stats",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn stats(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<UserStatsOut>> {
    Ok(Json(
        tenant.services.users.activity(UserId(p.0.user_id)).await?.into(),
    ))
}

/// Find a user by username
///
/// Exact, case-sensitive match.
#[api_operation(
    operation_id = "users_by_username",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn by_username(tenant: Tenant, p: Path<UsernamePath>) -> Result<Json<UserOut>> {
    Ok(Json(
        tenant.services.users.by_username(&p.0.username).await?.into(),
    ))
}

/// Find a user by e-mail
///
/// Exact match against the stored (normalised) address; the path value is not normalised.
#[api_operation(
    operation_id = "users_by_email",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn by_email(tenant: Tenant, p: Path<EmailPath>) -> Result<Json<UserOut>> {
    Ok(Json(tenant.services.users.by_email(&p.0.email).await?.into()))
}

/// User counters
#[api_operation(
    operation_id = "users_overview",
    tag = "users",
    error_code = 400,
    error_code = 503
)]
pub async fn overview(tenant: Tenant) -> Result<Json<UserOverviewOut>> {
    Ok(Json(tenant.services.users.overview().await?.into()))
}

/// A user's generation jobs
///
/// Same as `GET /api/v1/generation-jobs/user/{user_id}/jobs`: newest first, optionally only one
/// `status`; 404 for an unknown user.
#[api_operation(
    operation_id = "users_generation_jobs",
    tag = "users",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn generation_jobs(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<UserJobsQuery>,
) -> Result<Json<Page<JobOut>>> {
    crate::routes::jobs::jobs_of_user(tenant, p.0, q.0).await
}
