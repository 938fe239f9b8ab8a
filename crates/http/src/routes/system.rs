//! System routes (contract §4.1) and `GET /api/v1/schemas` (§7.1).

use actix_web::http::StatusCode;
use actix_web::web::{Data, Json};
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::api_operation;
use apistos::paths::{MediaType, Response, Responses};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use futures_util::future::join_all;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::dto::system::*;
use crate::error::ApiError;
use crate::state::{ApiState, Tenant};

/// How long the health check waits for the database.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// API information
///
/// Constant pointers to the documentation and the main system routes.
#[api_operation(operation_id = "system_root", tag = "system")]
pub async fn root() -> Json<RootOut> {
    Json(RootOut::VALUE)
}

/// Legacy health check
///
/// Always healthy; does not touch the database. Use `/api/v1/health`.
#[api_operation(operation_id = "system_legacy_health", tag = "system")]
pub async fn legacy_health() -> Json<LegacyHealthOut> {
    Json(LegacyHealthOut {
        status: "healthy",
        message: "Use /api/v1/health for detailed health check",
    })
}

/// The health answer: 200 when healthy, 503 with the same body when not.
pub struct Health(HealthOut);

impl Responder for Health {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let status = if self.0.status == "healthy" {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        HttpResponse::build(status).json(self.0)
    }
}

impl ApiComponent for Health {
    fn child_schemas(oas: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        <Json<HealthOut> as ApiComponent>::child_schemas(oas)
    }

    fn schema(oas: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        <Json<HealthOut> as ApiComponent>::schema(oas)
    }

    fn responses(oas: OpenApiVersion, _: Option<String>, _: Option<String>) -> Option<Responses> {
        let (name, schema) = Self::schema(oas)?;
        let body = |description: &str| {
            // 3.1 documents carry the schema itself (named by its title; `openapi::finish`
            // makes it a component), 3.0 ones a reference to the component.
            let schema = match (oas, schema.clone()) {
                (OpenApiVersion::OAS3_1, ReferenceOr::Object(schema)) => {
                    apistos::VersionSpecificSchema::OAS3_1(schema)
                }
                _ => apistos::VersionSpecificSchema::OAS3_0(ReferenceOr::Reference {
                    _ref: format!("#/components/schemas/{name}"),
                }),
            };
            ReferenceOr::Object(Response {
                description: description.to_owned(),
                content: BTreeMap::from([(
                    "application/json".to_owned(),
                    MediaType {
                        schema: Some(schema),
                        ..Default::default()
                    },
                )]),
                ..Default::default()
            })
        };
        Some(Responses {
            responses: BTreeMap::from([
                ("200".to_owned(), body("The database answers.")),
                (
                    "503".to_owned(),
                    body("The database does not answer (`status: unhealthy`)."),
                ),
            ]),
            ..Default::default()
        })
    }
}

/// Health check
///
/// Runs a trivial query on the selected schema's database: 200 `healthy` / `connected`, or 503
/// `unhealthy` / `disconnected` with the same body (no driver details).
#[api_operation(operation_id = "system_health", tag = "system")]
pub async fn health(tenant: Tenant) -> Health {
    let ping = tokio_timeout(tenant.services.system.ping()).await;
    let timestamp =
        genonaut_domain::model::TimestampText::micros(&chrono::Utc::now().naive_utc()).to_string();
    Health(match ping {
        Ok(()) => HealthOut {
            status: "healthy",
            database: DatabaseHealth { status: "connected" },
            timestamp,
            error: None,
        },
        Err(reason) => HealthOut {
            status: "unhealthy",
            database: DatabaseHealth {
                status: "disconnected",
            },
            timestamp,
            error: Some(reason),
        },
    })
}

/// Runs a database ping within the health check's time limit; `Err` says why it failed.
pub(crate) async fn tokio_timeout(
    ping: impl Future<Output = genonaut_domain::DomainResult<()>>,
) -> Result<(), String> {
    match actix_web::rt::time::timeout(HEALTH_TIMEOUT, ping).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(genonaut_domain::DomainError::Unavailable(m))) => Err(format!("database unavailable: {m}")),
        Ok(Err(_)) => Err("database check failed".to_owned()),
        Err(_) => Err("database did not answer in time".to_owned()),
    }
}

/// Served data sets
///
/// `available_databases` lists every served schema; `current_database` is the one this request
/// used (`X-Genonaut-Schema` or the default).
#[api_operation(operation_id = "system_databases", tag = "system", error_code = 400)]
pub async fn databases(state: Data<ApiState>, tenant: Tenant) -> Json<DatabasesOut> {
    Json(DatabasesOut {
        available_databases: state.tenants().iter().map(|t| t.name.to_string()).collect(),
        current_database: tenant.name.to_string(),
    })
}

/// Served schemas
///
/// Every schema this server serves, which one is the default, and for each its newest migration
/// and approximate table sizes (omitted for a schema that does not answer).
#[api_operation(operation_id = "system_schemas", tag = "system")]
pub async fn schemas(state: Data<ApiState>) -> Json<SchemasOut> {
    let default = state.default_tenant().name.to_string();
    let default_name = default.as_str();
    let infos = join_all(state.tenants().iter().map(|t| async move {
        let info = actix_web::rt::time::timeout(HEALTH_TIMEOUT, t.services.system.info())
            .await
            .ok()
            .and_then(Result::ok);
        SchemaOut::new(&t.name, &*t.name == default_name, info)
    }))
    .await;
    Json(SchemasOut {
        default: default.clone(),
        schemas: infos,
    })
}

/// Global counters
///
/// Exact counts over the selected schema; every value is an integer.
#[api_operation(
    operation_id = "system_global_stats",
    tag = "system",
    error_code = 400,
    error_code = 503
)]
pub async fn global_stats(tenant: Tenant) -> Result<Json<GlobalStatsOut>, ApiError> {
    Ok(Json(tenant.services.system.global_stats().await?.into()))
}
