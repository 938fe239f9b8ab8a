//! Administration: the recommender's derived state.

use actix_web::web::Json;
use apistos::actix::AcceptedJson;
use apistos::api_operation;

use crate::dto::admin::*;
use crate::error::ApiError;
use crate::extract::MaybeBody;
use crate::state::Tenant;

type Result<T> = std::result::Result<T, ApiError>;

/// Recommender build status
///
/// The last build of the derived state the recommender uses (item popularity, item-to-item
/// neighbours, tag statistics), whether interactions arrived since, and any pending or running
/// build.
#[api_operation(
    operation_id = "admin_recommender_status",
    tag = "admin",
    error_code = 400,
    error_code = 503
)]
pub async fn recommender_status(tenant: Tenant) -> Result<Json<RecommenderStatusOut>> {
    Ok(Json(tenant.services.recommender.status().await?.into()))
}

/// Rebuild the recommender's derived state
///
/// Requests a build; a job worker (of any process) picks it up within seconds. Incremental by
/// default (items with new interactions); `{"full": true}` recomputes everything. Answers 202
/// with the status, whose `requested_at` is set until a worker starts. Builds also run on their
/// own when interactions arrived and the last build is older than the refresh interval.
#[api_operation(
    operation_id = "admin_recommender_rebuild",
    tag = "admin",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn recommender_rebuild(
    tenant: Tenant,
    body: MaybeBody<RebuildIn>,
) -> Result<AcceptedJson<RecommenderStatusOut>> {
    Ok(AcceptedJson(
        tenant
            .services
            .recommender
            .request_rebuild(body.0.full)
            .await?
            .into(),
    ))
}
