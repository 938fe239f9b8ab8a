//! The documentation UIs, served from assets embedded in the binary: Swagger UI at `/docs` and
//! Redoc at `/redoc`, both reading `/openapi.json`. Nothing is loaded from another host, so the
//! pages work offline; the assets are vendored under `crates/http/assets/` at pinned versions
//! with their licences (`scripts/vendor-docs-ui.sh`; docs/decisions.md).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// Swagger UI's version (npm `swagger-ui-dist`).
pub const SWAGGER_UI_VERSION: &str = include_str!("../assets/swagger-ui/VERSION");
/// Redoc's version (npm `redoc`).
pub const REDOC_VERSION: &str = include_str!("../assets/redoc/VERSION");

const SWAGGER_UI_BUNDLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_UI_CSS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");
const REDOC_BUNDLE: &[u8] = include_bytes!("../assets/redoc/redoc.standalone.js");

const SWAGGER_UI_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Genonaut API — Swagger UI</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"##;

/// Swagger UI's start-up, a file of its own so the page's CSP needs no inline script. The
/// online validator badge is off (it would call a public service).
const SWAGGER_UI_INIT: &str = r##"window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
"##;

const REDOC_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Genonaut API — Redoc</title>
</head>
<body>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="/redoc/redoc.standalone.js"></script>
</body>
</html>
"#;

fn page(html: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(html)
}

fn asset(content_type: &'static str, bytes: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        // The assets change only with the binary; an hour spares reloads without pinning a
        // stale copy across an upgrade for long.
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(bytes)
}

/// The documentation routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    const JS: &str = "text/javascript; charset=utf-8";
    cfg.route("/docs", web::get().to(|| async { page(SWAGGER_UI_PAGE) }))
        .route(
            "/docs/init.js",
            web::get().to(|| async { asset(JS, SWAGGER_UI_INIT.as_bytes()) }),
        )
        .route(
            "/docs/swagger-ui-bundle.js",
            web::get().to(|| async { asset(JS, SWAGGER_UI_BUNDLE) }),
        )
        .route(
            "/docs/swagger-ui.css",
            web::get().to(|| async { asset("text/css; charset=utf-8", SWAGGER_UI_CSS) }),
        )
        .route("/redoc", web::get().to(|| async { page(REDOC_PAGE) }))
        .route(
            "/redoc/redoc.standalone.js",
            web::get().to(|| async { asset(JS, REDOC_BUNDLE) }),
        );
}
