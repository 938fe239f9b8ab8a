//! Online experiments: deterministic A/B tests of recommendation algorithms on live traffic.

use actix_web::web::Json;
use apistos::actix::CreatedJson;
use apistos::api_operation;
use genonaut_domain::ids::ExperimentId;

use crate::dto::Page;
use crate::dto::PageQuery;
use crate::dto::experiments::*;
use crate::error::ApiError;
use crate::extract::{Body, Path, Query};
use crate::state::Tenant;

type Result<T> = std::result::Result<T, ApiError>;

/// Create an experiment
///
/// A running experiment with 2–20 variants, each serving an algorithm (`popularity`,
/// `content`, `item-knn`, `ease`, `hybrid`, or any label naming one) to a share of users proportional
/// to its weight. Afterwards `POST /api/v1/recommendations/generate` with
/// `algorithm_version: "experiment:<name>"` assigns each user to a variant by a stable hash of
/// (experiment id, user id) — a user never switches — and stores the variant's
/// recommendations under its algorithm label with `rec_metadata.experiment =
/// {id, name, variant}`. 422 for an invalid body (located at the first bad field: unknown
/// algorithm, weight ≤ 0 or not finite, duplicate or empty variant name, fewer than 2
/// variants, bad name) or a name already used in the schema (422 with a string `detail`
/// containing `already exists`: the contract answers conflicts with 422, never 409).
#[api_operation(
    operation_id = "experiments_create",
    tag = "experiments",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn create(tenant: Tenant, body: Body<ExperimentCreate>) -> Result<CreatedJson<ExperimentOut>> {
    let new = body.0.into_domain()?;
    Ok(CreatedJson(tenant.services.experiments.create(new).await?.into()))
}

/// List experiments
///
/// Newest first; `total` counts all.
#[api_operation(
    operation_id = "experiments_list",
    tag = "experiments",
    error_code = 400,
    error_code = 422,
    error_code = 503
)]
pub async fn list(tenant: Tenant, q: Query<PageQuery>) -> Result<Json<Page<ExperimentOut>>> {
    let page = tenant.services.experiments.list(q.0.window()).await?;
    Ok(Json(Page::of(page, q.0.skip, q.0.limit)))
}

/// Get an experiment
#[api_operation(
    operation_id = "experiments_get",
    tag = "experiments",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn get(tenant: Tenant, p: Path<ExperimentIdPath>) -> Result<Json<ExperimentOut>> {
    let id = ExperimentId(p.0.experiment_id);
    Ok(Json(tenant.services.experiments.get(id).await?.into()))
}

/// Stop an experiment
///
/// A stopped experiment assigns no one: generations naming it are answered by the default
/// algorithm (`hybrid`), stored under that label with a `rec_metadata.note` saying so and
/// without `rec_metadata.experiment`, so they do not count in its results. Its results stay
/// readable. Idempotent (the first stop time is kept).
#[api_operation(
    operation_id = "experiments_stop",
    tag = "experiments",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn stop(tenant: Tenant, p: Path<ExperimentIdPath>) -> Result<Json<ExperimentOut>> {
    let id = ExperimentId(p.0.experiment_id);
    Ok(Json(tenant.services.experiments.stop(id).await?.into()))
}

/// Results of an experiment
///
/// Per variant: distinct users served, recommendations served (stored by `generate` under
/// the experiment), engaged ones — followed by a `like`, `bookmark`, `share`, `download` or
/// `rate` ≥ 4 of the user with the item, from the recommendation's creation until
/// `engagement_window_hours` after it was served (its creation if never marked served) —
/// with the engagement rate and its 95 % Wilson interval, and the rate of `disliked` /
/// `dismissed` feedback. `leader` names the variant whose engagement rate beats every other
/// variant's in a pooled two-proportion z-test at 95 % (Bonferroni-corrected for more than
/// two variants), else `null`. Computed by one SQL aggregate.
#[api_operation(
    operation_id = "experiments_results",
    tag = "experiments",
    error_code = 400,
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn results(tenant: Tenant, p: Path<ExperimentIdPath>) -> Result<Json<ExperimentResultsOut>> {
    let id = ExperimentId(p.0.experiment_id);
    Ok(Json(tenant.services.experiments.results(id).await?.into()))
}
