//! Interactions (contract §4.4).

use actix_web::web::Json;
use apistos::actix::CreatedJson;
use apistos::api_operation;
use genonaut_domain::PageRequest;
use genonaut_domain::ids::{ContentId, InteractionId, UserId};

use crate::dto::interactions::*;
use crate::dto::{ContentItemIdPath, InteractionIdPath, Page, PageQuery, Success, UserIdPath};
use crate::error::ApiError;
use crate::extract::{Body, Path, Query};
use crate::state::Tenant;

type Result<T> = std::result::Result<T, ApiError>;

/// Record an interaction
///
/// Checks, in order: the body (422 list), the user exists (422 `"User not found"`) and is active
/// (422), the item exists (422 `"Content not found"`). Repeats are allowed.
#[api_operation(
    operation_id = "interactions_create",
    tag = "interactions",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn create(tenant: Tenant, body: Body<InteractionCreate>) -> Result<CreatedJson<InteractionOut>> {
    Ok(CreatedJson(
        tenant.services.interactions.record(body.0.into()).await?.into(),
    ))
}

/// Get an interaction
#[api_operation(
    operation_id = "interactions_get",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn get(tenant: Tenant, p: Path<InteractionIdPath>) -> Result<Json<InteractionOut>> {
    Ok(Json(
        tenant
            .services
            .interactions
            .get(InteractionId(p.0.interaction_id))
            .await?
            .into(),
    ))
}

/// Update an interaction
///
/// Rating, duration and/or metadata (replaced as a whole); user, item, type and time are fixed.
#[api_operation(
    operation_id = "interactions_update",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn update(
    tenant: Tenant,
    p: Path<InteractionIdPath>,
    body: Body<InteractionUpdate>,
) -> Result<Json<InteractionOut>> {
    Ok(Json(
        tenant
            .services
            .interactions
            .update(InteractionId(p.0.interaction_id), body.0.into())
            .await?
            .into(),
    ))
}

/// Delete an interaction
#[api_operation(
    operation_id = "interactions_delete",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn delete(tenant: Tenant, p: Path<InteractionIdPath>) -> Result<Json<Success>> {
    let id = InteractionId(p.0.interaction_id);
    tenant.services.interactions.delete(id).await?;
    Ok(Json(Success::new(format!(
        "Interaction {id} deleted successfully"
    ))))
}

/// List interactions
///
/// Every given filter applies (AND); a referenced user or item must exist (404). Newest first;
/// `total` counts all matches.
#[api_operation(
    operation_id = "interactions_list",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn list(tenant: Tenant, q: Query<InteractionListQuery>) -> Result<Json<Page<InteractionOut>>> {
    let q = q.0;
    let since = tenant.services.interactions.query_since(q.days);
    let page = tenant
        .services
        .interactions
        .list(&q.query(since), PageRequest::new(q.skip, q.limit))
        .await?;
    Ok(Json(Page::of(page, q.skip, q.limit)))
}

/// A user's interactions
#[api_operation(
    operation_id = "interactions_by_user",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn by_user(
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

/// A user's recent interactions
///
/// The last `days` days, newest first, at most `limit`.
#[api_operation(
    operation_id = "interactions_recent",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn recent(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<RecentInteractionsQuery>,
) -> Result<Json<Page<InteractionOut>>> {
    let items = tenant
        .services
        .interactions
        .recent_by_user(UserId(p.0.user_id), q.0.days, q.0.limit)
        .await?;
    Ok(Json(Page::listing(items, q.0.limit)))
}

/// A user's interaction summary
///
/// Count and mean rating per type used, plus `total_interactions`.
#[api_operation(
    operation_id = "interactions_summary",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn summary(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<UserSummaryOut>> {
    let (total, by_type) = tenant
        .services
        .interactions
        .user_summary(UserId(p.0.user_id))
        .await?;
    Ok(Json(UserSummaryOut::new(p.0.user_id, total, &by_type)))
}

/// Interactions on an item
#[api_operation(
    operation_id = "interactions_by_content",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn by_content(
    tenant: Tenant,
    p: Path<ContentItemIdPath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<InteractionOut>>> {
    let page = tenant
        .services
        .interactions
        .by_content(ContentId(p.0.content_item_id), q.0.window())
        .await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// Interaction statistics of an item
///
/// Per type present: count, mean rating, mean duration (averages over non-null values).
#[api_operation(
    operation_id = "interactions_content_stats",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn content_stats(
    tenant: Tenant,
    p: Path<ContentItemIdPath>,
) -> Result<Json<ContentInteractionStatsOut>> {
    Ok(Json(
        tenant
            .services
            .interactions
            .content_stats(ContentId(p.0.content_item_id))
            .await?
            .into(),
    ))
}

/// Interactions of a type
///
/// Newest first; an unknown type lists nothing.
#[api_operation(
    operation_id = "interactions_by_type",
    tag = "interactions",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn by_type(
    tenant: Tenant,
    p: Path<InteractionTypePath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<InteractionOut>>> {
    let page = tenant
        .services
        .interactions
        .by_type(&p.0.interaction_type, q.0.window())
        .await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// The latest interaction between a user and an item
///
/// Checks, in order: the user exists, the item exists, an interaction of exactly that type
/// exists (each 404); returns the most recent one.
#[api_operation(
    operation_id = "interactions_between",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn between(tenant: Tenant, p: Path<BetweenPath>) -> Result<Json<InteractionOut>> {
    let p = p.0;
    let found = tenant
        .services
        .interactions
        .between(
            UserId(p.user_id),
            ContentId(p.content_item_id),
            &p.interaction_type,
        )
        .await?;
    Ok(Json(found.into()))
}

/// A user's behaviour profile
///
/// Total, per-type aggregates and the content types the user engages with most.
#[api_operation(
    operation_id = "interactions_user_behavior",
    tag = "interactions",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn user_behavior(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<UserBehaviorOut>> {
    Ok(Json(
        tenant
            .services
            .interactions
            .user_behavior(UserId(p.0.user_id))
            .await?
            .into(),
    ))
}

/// Interaction counters
///
/// Total and a count for each of the seven types, in canonical order.
#[api_operation(
    operation_id = "interactions_overview",
    tag = "interactions",
    error_code = 400,
    error_code = 503
)]
pub async fn overview(tenant: Tenant) -> Result<Json<InteractionOverviewOut>> {
    Ok(Json(tenant.services.interactions.overview().await?.into()))
}
