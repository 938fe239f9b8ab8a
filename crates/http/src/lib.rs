//! # genonaut-http
//!
//! The HTTP adapter of Genonaut: actix-web routes for every endpoint of the API contract,
//! wire-compatible with the previous service (paths, fields, statuses, error bodies), plus the
//! OpenAPI document (`/openapi.json`), the docs UIs (`/docs`, `/redoc`, embedded assets) and the
//! [`console`] (`/console`, a web page over the same API).
//!
//! Request path: the [`middleware`] layers (request id and span, `HEAD` as `GET`, path
//! normalised, log line, metrics, security headers → CORS → [`guard`]: API keys, scopes, rate
//! limits) → route → extractors ([`state::Tenant`] picks the schema from
//! `X-Genonaut-Schema`; [`extract::Body`], [`extract::Query`], [`extract::Path`] validate input
//! with contract-compatible 422 lists) → handler (calls one domain service) → DTO → JSON.
//! Every failure goes through [`error::ApiError`].

pub mod console;
pub mod docs;
pub mod dto;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod input;
pub mod media;
pub mod middleware;
mod openapi;
pub mod routes;
pub mod state;
pub mod webhooks;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlers;
use actix_web::{App, HttpResponse, web};
use apistos::app::OpenApiWrapper;

pub use extract::{BodyLimit, DEFAULT_BODY_LIMIT};
pub use middleware::guard::{self, Access, AccessSettings, Rate};
pub use middleware::metrics::{Metrics, Sampler};
pub use routes::ops::ListenerProbe;
pub use state::{ApiState, SCHEMA_HEADER, Tenant};
pub use webhooks::WebhookSettings;

/// HTTP settings of the application.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Maximum request body size in bytes.
    pub body_limit: usize,
    /// Allowed CORS origins; `None` = any origin (the contract's behaviour).
    pub cors_origins: Option<Vec<String>>,
    /// Directory of generated media, served under `/media/` (with range requests).
    pub media_dir: Option<std::path::PathBuf>,
    /// Signs media URLs (`media_url` of content) and checks them on `/media/...`; `None`: no
    /// `media_url`s, and signed requests are refused.
    pub media_signer: Option<std::sync::Arc<media::MediaSigner>>,
    /// Authentication and rate limits (shared by every worker).
    pub access: std::sync::Arc<Access>,
    /// The metrics registry (shared by every worker).
    pub metrics: std::sync::Arc<Metrics>,
    /// Reports whether the job-event listener is connected (for `/ready`).
    pub listener: Option<ListenerProbe>,
    /// Whether jobs may ask for webhooks, and to which targets.
    pub webhooks: WebhookSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            body_limit: DEFAULT_BODY_LIMIT,
            cors_origins: None,
            media_dir: None,
            media_signer: None,
            access: Access::open(),
            metrics: std::sync::Arc::new(Metrics::default()),
            listener: None,
            webhooks: WebhookSettings::default(),
        }
    }
}

/// The route table, and what it declares about access together with the public paths mounted
/// beside it by [`app`] (`/ready`, the document, the documentation UIs, the console).
fn routes_and_access() -> (
    Vec<apistos::web::Resource>,
    apistos::web::Scope,
    routes::RouteAccess,
) {
    let table = routes::Table::new();
    let root = routes::root(&table);
    let api_v1 = routes::api_v1(&table);
    // An empty path is `/`.
    table.public_path("");
    table.public_path("/ready");
    table.public_path(openapi::OPENAPI_PATH);
    table.public_prefix("/docs");
    table.public_prefix("/redoc");
    table.public_mount(console::is_console);
    (root, api_v1, table.finish())
}

/// What the route table declares about access (the guard's and the document's source).
pub fn route_access() -> routes::RouteAccess {
    routes_and_access().2
}

/// The whole application: API routes, documentation, middleware, state.
pub fn app(
    state: web::Data<ApiState>,
    settings: HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut app = App::new()
        .document(openapi::spec())
        .app_data(state)
        .app_data(BodyLimit(settings.body_limit))
        .app_data(web::PayloadConfig::new(settings.body_limit))
        .app_data(web::Data::from(settings.access.clone()))
        .app_data(web::Data::from(settings.metrics.clone()))
        .app_data(web::Data::new(settings.webhooks))
        .app_data(openapi::Finished::default())
        .wrap(actix_web::middleware::from_fn(openapi::serve))
        .wrap(ErrorHandlers::new().handler(
            StatusCode::METHOD_NOT_ALLOWED,
            middleware::errors::method_not_allowed,
        ))
        .wrap(actix_web::middleware::from_fn(guard::check))
        .wrap(middleware::errors::cors(settings.cors_origins.as_deref()))
        .wrap(actix_web::middleware::from_fn(middleware::observe::observe));
    // Optional state is registered only when present: an `Option<Data<T>>` would be stored as
    // its own type, and the handlers' `Option<Data<T>>` extractors would never find it.
    if let Some(signer) = settings.media_signer.clone() {
        app = app.app_data(web::Data::from(signer));
    }
    if let Some(probe) = settings.listener.clone() {
        app = app.app_data(web::Data::new(probe));
    }
    // Built after `document`, which sets the OpenAPI version the routes are documented in.
    let (root, api_v1, access) = routes_and_access();
    app = app.app_data(web::Data::new(access));
    for resource in root {
        app = app.service(resource);
    }
    let media_dir = settings.media_dir.clone();
    app.service(api_v1)
        .build(openapi::OPENAPI_PATH)
        .configure(docs::configure)
        .configure(console::configure)
        .route("/ws/generation/{job_id}", web::get().to(routes::ws::generation))
        .route("/metrics", web::get().to(routes::ops::metrics))
        .route("/ready", web::get().to(routes::ops::ready))
        .configure(move |cfg| {
            if let Some(dir) = media_dir {
                // Content type from the extension; Range requests for audio and video.
                cfg.service(
                    actix_files::Files::new("/media", dir)
                        .use_etag(true)
                        .use_last_modified(true),
                );
            }
        })
        .default_service(web::to(|| async {
            HttpResponse::NotFound().json(serde_json::json!({"detail": "Not Found"}))
        }))
}
