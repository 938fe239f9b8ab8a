//! Cross-cutting request handling: CORS and JSON bodies for framework errors.

use actix_cors::Cors;
use actix_web::HttpResponse;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
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
    let (req, res) = res.into_parts();
    let mut body = HttpResponse::MethodNotAllowed().json(serde_json::json!({"detail": "Method Not Allowed"}));
    // RFC 9110 §15.5.6: a 405 lists the methods the resource supports. actix-web sets `Allow`
    // from the registered routes; keep it, adding HEAD wherever GET is served (HEAD is routed
    // as GET).
    if let Some(allow) = allow_with_head(res.headers().get(header::ALLOW)) {
        body.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, body).map_into_right_body(),
    ))
}

/// `Allow` as actix-web computed it, with HEAD added where GET is allowed.
fn allow_with_head(allow: Option<&HeaderValue>) -> Option<HeaderValue> {
    let allow = allow?.to_str().ok()?;
    let mut methods: Vec<&str> = allow
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    if methods.contains(&"GET") && !methods.contains(&"HEAD") {
        methods.push("HEAD");
    }
    HeaderValue::from_str(&methods.join(", ")).ok()
}
