//! Idempotent submission: the `Idempotency-Key` request header of creating `POST`s, and the
//! `201` response that is replayed (marked `Idempotent-Replayed: true`) when the key is reused
//! with the same request.
//!
//! Keys are scoped to the calling API key (`key:<id>`), or to one anonymous scope when
//! authentication is off, and to the schema (each schema has its own table).

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError};
use apistos::paths::Responses;
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use genonaut_domain::model::{IdempotencyKey, Idempotent};
use serde::Serialize;
use serde_json::json;

use crate::extract::{Header, HeaderField};
use crate::guard::Caller;

/// The request header carrying the client's key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// The response header marking a replayed response.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// The scope of keys sent without an API key (authentication off).
pub const ANONYMOUS_SCOPE: &str = "anonymous";

/// The request's `Idempotency-Key`, scoped to its caller; `None` without the header.
pub type IdempotencyHeader = Header<IdempotencyKey>;

impl HeaderField for IdempotencyKey {
    const NAME: &'static str = IDEMPOTENCY_HEADER;
    const DESCRIPTION: &'static str = "Makes the request safe to retry: 1–255 printable ASCII characters (e.g. a UUID), \
         chosen by the client, one per intended job. The first request with a key creates the job; \
         a later one with the same key and the same body (within 24 h, from the same API key, \
         in the same schema) creates nothing and gets the original `201` response again, with \
         `Idempotent-Replayed: true` — also when retries race. The same key with a different \
         body is a 422. An invalid key is a 422.";
    type Documented = String;
    const ERROR_TYPE: &'static str = "idempotency_key";

    fn example() -> Option<serde_json::Value> {
        Some(json!("5f0c2b7e-3f4a-4c1d-9a57-0d3b8e2f6a11"))
    }

    fn parse(req: &HttpRequest, value: &HeaderValue) -> Result<Self, String> {
        let scope = req
            .extensions()
            .get::<Caller>()
            .map_or_else(|| ANONYMOUS_SCOPE.to_owned(), |c| format!("key:{}", c.id));
        value
            .to_str()
            .map_err(|_| "Idempotency-Key must consist of printable ASCII characters".to_owned())
            .and_then(|text| IdempotencyKey::parse(scope, text))
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
