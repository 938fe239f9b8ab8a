//! Recommendations (contract §4.5) with feedback (§7.2) and the analytics alias (§7.3).

use actix_web::web::{self, Json};
use apistos::actix::CreatedJson;
use apistos::api_operation;
use genonaut_domain::PageRequest;
use genonaut_domain::ids::{ContentId, RecommendationId, UserId};
use genonaut_domain::model::RecommendationQuery;
use genonaut_domain::services::GenerateRequest;

use crate::Metrics;
use crate::dto::recommendations::*;
use crate::dto::{ContentItemIdPath, Page, PageQuery, RecommendationIdPath, Success, UserIdPath};
use crate::error::ApiError;
use crate::extract::{Body, Path, Query};
use crate::state::Tenant;

type Result<T> = std::result::Result<T, ApiError>;

/// Store a recommendation
///
/// Checks, in order: the body (422 list), the user exists (404) and is active (422), the item
/// exists (404), the label is not blank (422).
#[api_operation(
    operation_id = "recommendations_create",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn create(
    tenant: Tenant,
    body: Body<RecommendationCreate>,
) -> Result<CreatedJson<RecommendationOut>> {
    Ok(CreatedJson(
        tenant
            .services
            .recommendations
            .create(body.0.into())
            .await?
            .into(),
    ))
}

/// Store recommendations in bulk
///
/// 1–1000 recommendations, all or nothing: the first invalid element is named
/// (`"Validation failed for recommendation <i>: <reason>"`, 422) and nothing is written.
#[api_operation(
    operation_id = "recommendations_bulk",
    tag = "recommendations",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn bulk(
    tenant: Tenant,
    body: Body<RecommendationBulk>,
) -> Result<CreatedJson<Page<RecommendationOut>>> {
    let items = body.0.recommendations.into_iter().map(Into::into).collect();
    Ok(CreatedJson(Page::everything(
        tenant.services.recommendations.create_bulk(items).await?,
    )))
}

/// Get a recommendation
#[api_operation(
    operation_id = "recommendations_get",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn get(tenant: Tenant, p: Path<RecommendationIdPath>) -> Result<Json<RecommendationOut>> {
    Ok(Json(
        tenant
            .services
            .recommendations
            .get(RecommendationId(p.0.recommendation_id))
            .await?
            .into(),
    ))
}

/// Update a recommendation
///
/// Score and/or metadata (replaced as a whole).
#[api_operation(
    operation_id = "recommendations_update",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn update(
    tenant: Tenant,
    p: Path<RecommendationIdPath>,
    body: Body<RecommendationUpdate>,
) -> Result<Json<RecommendationOut>> {
    let id = RecommendationId(p.0.recommendation_id);
    Ok(Json(
        tenant
            .services
            .recommendations
            .update(id, body.0.into())
            .await?
            .into(),
    ))
}

/// Delete a recommendation
#[api_operation(
    operation_id = "recommendations_delete",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn delete(tenant: Tenant, p: Path<RecommendationIdPath>) -> Result<Json<Success>> {
    let id = RecommendationId(p.0.recommendation_id);
    tenant.services.recommendations.delete(id).await?;
    Ok(Json(Success::new(format!(
        "Recommendation {id} deleted successfully"
    ))))
}

/// Record feedback on a recommendation
///
/// Stores the reaction with a timestamp in `rec_metadata.feedback`. Positive feedback also
/// records the matching interaction (`liked` → like, `clicked` → view, `converted` →
/// download) in the same transaction, so the recommender learns from it.
#[api_operation(
    operation_id = "recommendations_feedback",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn feedback(
    tenant: Tenant,
    metrics: web::Data<Metrics>,
    p: Path<RecommendationIdPath>,
    body: Body<FeedbackBody>,
) -> Result<Json<RecommendationOut>> {
    let b = body.0;
    let id = RecommendationId(p.0.recommendation_id);
    let rec = tenant
        .services
        .recommendations
        .feedback(id, b.feedback, b.metadata.unwrap_or_default())
        .await?;
    metrics.count_experiment(&tenant.name, &rec.metadata, b.feedback.as_str(), 1);
    Ok(Json(rec.into()))
}

/// List recommendations
///
/// Every given filter applies (AND); a user filter requires an existing, active user, an item
/// filter an existing item. Best first; `total` counts all matches.
#[api_operation(
    operation_id = "recommendations_list",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn list(
    tenant: Tenant,
    q: Query<RecommendationListQuery>,
) -> Result<Json<Page<RecommendationOut>>> {
    let q = q.0;
    let page = tenant
        .services
        .recommendations
        .list(&q.query(), PageRequest::new(q.skip, q.limit))
        .await?;
    Ok(Json(Page::of(page, q.skip, q.limit)))
}

/// A user's recommendations
///
/// Optionally only unserved ones and/or a minimum score; best first. Inactive users get 422.
#[api_operation(
    operation_id = "recommendations_for_user",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn for_user(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<UserRecommendationsQuery>,
) -> Result<Json<Page<RecommendationOut>>> {
    let q = q.0;
    let query = RecommendationQuery {
        user_id: Some(UserId(p.0.user_id)),
        min_score: q.min_score,
        unserved_only: q.unserved_only,
        ..RecommendationQuery::default()
    };
    let page = tenant
        .services
        .recommendations
        .list(&query, PageRequest::new(q.skip, q.limit))
        .await?;
    Ok(Json(Page::of(page, q.skip, q.limit)))
}

/// A user's best recommendations
///
/// Score ≥ `min_score`, best first, at most `limit`; 404 for an unknown user.
#[api_operation(
    operation_id = "recommendations_top",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn top(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<TopRecommendationsQuery>,
) -> Result<Json<Page<RecommendationOut>>> {
    let items = tenant
        .services
        .recommendations
        .top_for_user(UserId(p.0.user_id), q.0.min_score, q.0.limit)
        .await?;
    Ok(Json(Page::listing(items, q.0.limit)))
}

/// A user's unserved recommendations
///
/// Best first, at most `limit`; 404 for an unknown user (inactive users allowed).
#[api_operation(
    operation_id = "recommendations_unserved",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn unserved(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<UnservedRecommendationsQuery>,
) -> Result<Json<Page<RecommendationOut>>> {
    let items = tenant
        .services
        .recommendations
        .unserved_for_user(UserId(p.0.user_id), q.0.limit)
        .await?;
    Ok(Json(Page::listing(items, q.0.limit)))
}

/// A user's recent recommendations
///
/// Created in the last `days` days, best first (by score), at most `limit`.
#[api_operation(
    operation_id = "recommendations_recent",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn recent(
    tenant: Tenant,
    p: Path<UserIdPath>,
    q: Query<RecentRecommendationsQuery>,
) -> Result<Json<Page<RecommendationOut>>> {
    let items = tenant
        .services
        .recommendations
        .recent_for_user(UserId(p.0.user_id), q.0.days, q.0.limit)
        .await?;
    Ok(Json(Page::listing(items, q.0.limit)))
}

/// A user's recommendation counters
///
/// Totals, mean score and a breakdown per algorithm label (computed in SQL).
#[api_operation(
    operation_id = "recommendations_user_stats",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn user_stats(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<UserRecommendationStatsOut>> {
    let stats = tenant
        .services
        .recommendations
        .user_stats(UserId(p.0.user_id))
        .await?;
    Ok(Json(UserRecommendationStatsOut::new(p.0.user_id, stats)))
}

/// A user's recommendation analytics
///
/// Same body as `GET /api/v1/recommendations/user/{user_id}/stats`.
#[api_operation(
    operation_id = "recommendations_analytics_user",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn analytics_user(tenant: Tenant, p: Path<UserIdPath>) -> Result<Json<UserRecommendationStatsOut>> {
    user_stats(tenant, p).await
}

/// Recommendations of an item
#[api_operation(
    operation_id = "recommendations_by_content",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn by_content(
    tenant: Tenant,
    p: Path<ContentItemIdPath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<RecommendationOut>>> {
    let page = tenant
        .services
        .recommendations
        .by_content(ContentId(p.0.content_item_id), q.0.window())
        .await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// Recommendations of an algorithm label
///
/// Exact label, newest first; an unknown label lists nothing.
#[api_operation(
    operation_id = "recommendations_by_algorithm",
    tag = "recommendations",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn by_algorithm(
    tenant: Tenant,
    p: Path<AlgorithmPath>,
    q: Query<PageQuery>,
) -> Result<Json<Page<RecommendationOut>>> {
    let page = tenant
        .services
        .recommendations
        .by_algorithm(&p.0.algorithm_version, q.0.window())
        .await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// Mark recommendations served
///
/// Every id must exist (otherwise 404 for the first missing one and nothing changes); all are
/// stamped served now. Answers how many distinct recommendations were marked.
#[api_operation(
    operation_id = "recommendations_served",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn served(tenant: Tenant, body: Body<ServedBody>) -> Result<Json<ServedOut>> {
    Ok(Json(ServedOut {
        marked_as_served: tenant.services.recommendations.mark_served(&body.0.ids()).await?,
    }))
}

/// Generate recommendations
///
/// Computes and stores up to `limit` fresh recommendations for an active user, tagged with the
/// requested `algorithm_version`, and returns them best first. The label selects the algorithm
/// — `popularity`, `content` (or `content-based`), `item-knn`, `ease` (the learned model, or
/// `learned`; a like counts on the next call, without a rebuild), `hybrid` (the default), each
/// optionally followed by a version such as `hybrid_v2`; any other label uses the default and
/// the stored `rec_metadata.note` says so. Every recommendation explains itself in
/// `rec_metadata`: `algorithm`, `rank`, score `components`, `because_items` / `because_tags`,
/// and `notes` on fallbacks. Never recommends the user's own items, items they already
/// interacted with or rejected, or private items. If no candidate exists, returns the user's
/// existing unserved recommendations (then any), so the answer is never worse.
///
/// `experiment:<name>` routes the call through that online experiment (404 if there is
/// none): the user's variant, chosen by a stable hash of (experiment id, user id), selects
/// the algorithm; the recommendations are stored under the variant's algorithm label with
/// `rec_metadata.experiment = {id, name, variant}`. A stopped experiment answers with the
/// default algorithm and a `rec_metadata.note`.
#[api_operation(
    operation_id = "recommendations_generate",
    tag = "recommendations",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn generate(
    tenant: Tenant,
    metrics: web::Data<Metrics>,
    body: Body<GenerateBody>,
) -> Result<Json<GenerateOut>> {
    let b = body.0;
    let request = GenerateRequest {
        user_id: UserId(b.user_id),
        algorithm_version: b.algorithm_version.clone(),
        limit: b.limit,
    };
    let recommendations = tenant.services.recommendations.generate(request).await?;
    if let Some(first) = recommendations.first() {
        // Every recommendation of one generation carries the same experiment tag, if any.
        let n = recommendations.len() as u64;
        metrics.count_experiment(&tenant.name, &first.metadata, "served", n);
    }
    Ok(Json(GenerateOut {
        algorithm_version: b.algorithm_version,
        recommendations: recommendations.into_iter().map(Into::into).collect(),
    }))
}

/// Recommendation counters
#[api_operation(
    operation_id = "recommendations_overview",
    tag = "recommendations",
    error_code = 400,
    error_code = 503
)]
pub async fn overview(tenant: Tenant) -> Result<Json<RecommendationOverviewOut>> {
    Ok(Json(tenant.services.recommendations.overview().await?.into()))
}
