//! Cross-cutting request handling: CORS, `HEAD`, and JSON bodies for framework errors.

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpResponse};

/// CORS as the contract describes it (§1.8): any origin, method and header, credentials
/// allowed, pre-flight cached 600 s — or only the configured origins.
pub fn cors(origins: Option<&[String]>) -> Cors {
    let cors = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .supports_credentials()
        .max_age(600);
    match origins {
        None => cors.allow_any_origin(),
        Some(list) => list.iter().fold(cors, |c, origin| c.allowed_origin(origin)),
    }
}

/// `{"detail": "Method Not Allowed"}` for a path that exists without the requested method.
pub fn method_not_allowed<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (req, _) = res.into_parts();
    let body = HttpResponse::MethodNotAllowed().json(serde_json::json!({"detail": "Method Not Allowed"}));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, body).map_into_right_body(),
    ))
}

/// Answers `HEAD` on every `GET` route: routed as `GET`; the HTTP/1 codec, which remembers the
/// request was `HEAD`, sends the GET's headers (with its `Content-Length`) and no body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
