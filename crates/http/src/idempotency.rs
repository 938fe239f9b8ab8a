//! Idempotent submission: the `Idempotency-Key` request header of creating `POST`s, and the
//! `201` response that is replayed (marked `Idempotent-Replayed: true`) when the key is reused
//! with the same request.
//!
//! Keys are scoped to the calling API key (`key:<id>`), or to one anonymous scope when
//! authentication is off, and to the schema (each schema has its own table).

use actix_web::body::BoxBody;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError};
use apistos::paths::{Examples, Parameter, ParameterDefinition, ParameterIn, ParameterStyle, Responses};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use futures_util::future::{Ready, ready};
use genonaut_domain::model::{IdempotencyKey, Idempotent};
use serde::Serialize;
use serde_json::json;

use crate::error::ApiError;
use crate::guard::Caller;
use crate::input::FieldError;

/// The request header carrying the client's key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// The response header marking a replayed response.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// The scope of keys sent without an API key (authentication off).
pub const ANONYMOUS_SCOPE: &str = "anonymous";

/// The request's `Idempotency-Key`, scoped to its caller; `None` without the header.
#[derive(Debug, Clone)]
pub struct IdempotencyHeader(pub Option<IdempotencyKey>);

impl FromRequest for IdempotencyHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(IDEMPOTENCY_HEADER) else {
            return ready(Ok(IdempotencyHeader(None)));
        };
        let scope = req
            .extensions()
            .get::<Caller>()
            .map_or_else(|| ANONYMOUS_SCOPE.to_owned(), |c| format!("key:{}", c.id));
        let parsed = value
            .to_str()
            .map_err(|_| "Idempotency-Key must consist of printable ASCII characters".to_owned())
            .and_then(|text| IdempotencyKey::parse(scope, text));
        ready(match parsed {
            Ok(key) => Ok(IdempotencyHeader(Some(key))),
            Err(msg) => Err(ApiError::Validation(vec![FieldError::at(
                vec!["header".into(), IDEMPOTENCY_HEADER.into()],
                "idempotency_key",
                msg,
                json!(String::from_utf8_lossy(value.as_bytes())),
            )])),
        })
    }
}

impl ApiComponent for IdempotencyHeader {
    fn child_schemas(_: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        vec![]
    }

    fn schema(_: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        None
    }

    fn parameters(oas: OpenApiVersion, _: Option<String>) -> Vec<Parameter> {
        vec![Parameter {
            name: IDEMPOTENCY_HEADER.to_owned(),
            _in: ParameterIn::Header,
            description: Some(
                "Makes the request safe to retry: 1–255 printable ASCII characters (e.g. a UUID), \
                 chosen by the client, one per intended job. The first request with a key creates the job; \
                 a later one with the same key and the same body (within 24 h, from the same API key, \
                 in the same schema) creates nothing and gets the original `201` response again, with \
                 `Idempotent-Replayed: true` — also when retries race. The same key with a different \
                 body is a 422. An invalid key is a 422."
                    .to_owned(),
            ),
            required: Some(false),
            style: Some(ParameterStyle::Simple),
            definition: <String as ApiComponent>::raw_schema(oas).map(ParameterDefinition::Schema),
            example: Some(Examples::Example(json!("5f0c2b7e-3f4a-4c1d-9a57-0d3b8e2f6a11"))),
            ..Default::default()
        }]
    }
}

/// A `201 Created` JSON response; replays add `Idempotent-Replayed: true`.
pub struct Submitted<T>(pub Idempotent<T>);

impl<T: Serialize + ApiComponent> Responder for Submitted<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let replayed = self.0.is_replayed();
        let body = match serde_json::to_string(&self.0.into_inner()) {
            Ok(body) => body,
            Err(e) => return e.error_response(),
        };
        let mut response = HttpResponse::build(StatusCode::CREATED);
        response.content_type("application/json");
        if replayed {
            response.insert_header((REPLAYED_HEADER, HeaderValue::from_static("true")));
        }
        response.body(body)
    }
}

impl<T: Serialize + ApiComponent> ApiComponent for Submitted<T> {
    fn child_schemas(oas: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        <apistos::actix::CreatedJson<T> as ApiComponent>::child_schemas(oas)
    }

    fn raw_schema(oas: OpenApiVersion) -> Option<ReferenceOr<ApistosSchema>> {
        <apistos::actix::CreatedJson<T> as ApiComponent>::raw_schema(oas)
    }

    fn schema(oas: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        <apistos::actix::CreatedJson<T> as ApiComponent>::schema(oas)
    }

    fn responses(
        oas: OpenApiVersion,
        content_type: Option<String>,
        description: Option<String>,
    ) -> Option<Responses> {
        <apistos::actix::CreatedJson<T> as ApiComponent>::responses(oas, content_type, description)
    }
}
