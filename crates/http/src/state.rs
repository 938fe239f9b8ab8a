//! Application state: the services of every served schema, and which one a request uses.

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use apistos::paths::{Parameter, ParameterDefinition, ParameterIn, ParameterStyle};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use futures_util::future::{Ready, ready};
use genonaut_domain::services::Services;

use crate::error::ApiError;

/// The request header that selects the schema.
pub const SCHEMA_HEADER: &str = "X-Genonaut-Schema";

/// One served schema.
#[derive(Clone)]
pub struct Tenant {
    /// Schema name.
    pub name: Arc<str>,
    /// Its services.
    pub services: Arc<Services>,
}

/// Everything the handlers share.
pub struct ApiState {
    tenants: Vec<Tenant>,
    default: usize,
}

impl ApiState {
    /// State serving `tenants`, `default` naming the schema used without the header.
    ///
    /// Returns `None` if `default` is not among the tenants.
    pub fn new(tenants: Vec<Tenant>, default: &str) -> Option<Self> {
        let default = tenants.iter().position(|t| &*t.name == default)?;
        Some(ApiState { tenants, default })
    }

    /// All served schemas, in configuration order.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    /// The default schema.
    pub fn default_tenant(&self) -> &Tenant {
        &self.tenants[self.default]
    }

    /// The schema a request selects.
    pub fn select(&self, requested: Option<&str>) -> Result<&Tenant, ApiError> {
        match requested.map(str::trim) {
            // An empty value names no served schema: 400 like any unknown name (the document
            // declares the header as the enumeration of served schemas).
            None => Ok(self.default_tenant()),
            Some(name) => {
                self.tenants
                    .iter()
                    .find(|t| &*t.name == name)
                    .ok_or_else(|| ApiError::UnknownSchema {
                        requested: name.to_owned(),
                        available: self.tenants.iter().map(|t| t.name.to_string()).collect(),
                    })
            }
        }
    }
}

impl FromRequest for Tenant {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<ApiState>>() else {
            return ready(Err(ApiError::BadRequest("service not configured".into())));
        };
        let requested = match req.headers().get(SCHEMA_HEADER).map(|v| v.to_str()) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                return ready(Err(ApiError::BadRequest(format!(
                    "{SCHEMA_HEADER} must be ASCII"
                ))));
            }
        };
        ready(state.select(requested).cloned())
    }
}

impl ApiComponent for Tenant {
    fn child_schemas(_: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        vec![]
    }

    fn schema(_: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        None
    }

    fn request_body(_: OpenApiVersion, _: Option<String>) -> Option<apistos::paths::RequestBody> {
        None
    }

    fn parameters(oas: OpenApiVersion, _: Option<String>) -> Vec<Parameter> {
        let schema = <String as ApiComponent>::raw_schema(oas);
        vec![Parameter {
            name: SCHEMA_HEADER.to_owned(),
            _in: ParameterIn::Header,
            description: Some(
                "Data set (PostgreSQL schema) to use, e.g. `app`, `demo`, `test`; default: the configured default. \
                 `GET /api/v1/schemas` lists them. An unknown name is a 400."
                    .to_owned(),
            ),
            required: Some(false),
            style: Some(ParameterStyle::Simple),
            definition: schema.map(ParameterDefinition::Schema),
            ..Default::default()
        }]
    }
}
