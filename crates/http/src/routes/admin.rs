//! Administration: the recommender's derived state, API keys.

use actix_web::web::{Data, Json};
use actix_web::{HttpMessage, HttpRequest};
use apistos::actix::{AcceptedJson, CreatedJson};
use apistos::api_operation;
use genonaut_domain::{DomainError, NotFound, Rule};

use crate::dto::admin::*;
use crate::error::ApiError;
use crate::extract::{Body, MaybeBody, Path};
use crate::guard::{Access, Caller};
use crate::state::{ApiState, Tenant};

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

/// The key service, or a 404 when authentication is off (there are no keys then).
fn key_service(access: &Access) -> Result<&genonaut_domain::services::KeyService> {
    access
        .keys()
        .ok_or_else(|| DomainError::NotFound(NotFound::KeysDisabled).into())
}

/// List API keys
///
/// Every key, newest first, revoked and expired ones included; never a secret. Keys live in
/// the default schema and apply to every schema (or to the one they are limited to), so this
/// route takes no `X-Genonaut-Schema`. 404 when authentication is off.
#[api_operation(
    operation_id = "admin_keys_list",
    tag = "admin",
    error_code = 404,
    error_code = 503
)]
pub async fn keys_list(access: Data<Access>) -> Result<Json<KeyListOut>> {
    let keys = key_service(&access)?.list().await?;
    Ok(Json(KeyListOut {
        total: keys.len() as i64,
        items: keys.into_iter().map(KeyOut::from).collect(),
    }))
}

/// Create an API key
///
/// Answers 201 with the stored record and the whole key (`secret`), which is shown in this
/// response only: only its hash is kept. `schema` must be a served schema (422 otherwise).
/// 404 when authentication is off.
#[api_operation(
    operation_id = "admin_keys_create",
    tag = "admin",
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn keys_create(
    access: Data<Access>,
    state: Data<ApiState>,
    body: Body<KeyCreate>,
) -> Result<CreatedJson<KeyCreatedOut>> {
    let keys = key_service(&access)?;
    let body = body.0;
    let schema = match body.schema.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => match state.select(Some(name)) {
            Ok(tenant) => Some(tenant.name.to_string()),
            Err(_) => {
                return Err(ApiError::body_value_error(
                    &["schema"],
                    format!("schema '{name}' is not served here"),
                ));
            }
        },
    };
    let expires_at = body
        .expires_in_days
        .map(|days| chrono::Utc::now().naive_utc() + chrono::Duration::days(days));
    let created = keys.create(&body.name, body.scope, schema, expires_at).await?;
    Ok(CreatedJson(KeyCreatedOut {
        key: created.key.into(),
        secret: created.secret,
    }))
}

/// Revoke an API key
///
/// By its public prefix (or the whole key). Takes effect at once on this server (its cache of
/// verified keys forgets the key) and within `API_KEY_CACHE_SECS` on other processes.
/// Idempotent: revoking a revoked key answers 200 with its first revocation time. 404 for an
/// unknown prefix or when authentication is off; 422 for the key this request is made with
/// (revoke it with another admin key).
#[api_operation(
    operation_id = "admin_keys_revoke",
    tag = "admin",
    error_code = 404,
    error_code = 422,
    error_code = 503
)]
pub async fn keys_revoke(
    req: HttpRequest,
    access: Data<Access>,
    p: Path<KeyPrefixPath>,
) -> Result<Json<KeyOut>> {
    let keys = key_service(&access)?;
    let named = p.0.prefix.trim();
    let prefix = genonaut_domain::services::parse_key(named).map_or(named, |(prefix, _)| prefix);
    let own = req
        .extensions()
        .get::<Caller>()
        .is_some_and(|caller| caller.prefix == prefix);
    if own {
        return Err(DomainError::Rule(Rule::RevokeOwnKey).into());
    }
    let revoked = keys.revoke(prefix).await?;
    access.forget(&revoked.prefix);
    Ok(Json(revoked.into()))
}
