//! Cross-cutting request handling: CORS and JSON bodies for framework errors.

use actix_cors::Cors;
use actix_web::HttpResponse;
use actix_web::dev::ServiceResponse;
use actix_web::middleware::ErrorHandlerResponse;

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
