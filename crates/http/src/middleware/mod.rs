//! The layers every request passes, outermost first:
//!
//! 1. [`observe`] — request id and span, `HEAD` as `GET`, one spelling per path ([`normalize`]);
//!    on the way out security headers ([`security`]), the id in 5xx bodies ([`request_id`]),
//!    [`metrics`] and the access-log line;
//! 2. CORS ([`errors::cors`]);
//! 3. [`guard`] — API keys, scopes, schema restrictions, rate limits, signed media URLs and
//!    live-status tickets;
//! 4. JSON bodies for the framework's own errors ([`errors::method_not_allowed`]);
//! 5. the OpenAPI document's finishing pass (`crate::openapi::serve`);
//!
//! then routing, the extractors and the handler.

pub mod errors;
pub mod guard;
pub mod metrics;
pub mod normalize;
pub mod observe;
pub mod request_id;
pub mod security;
