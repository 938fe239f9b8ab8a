//! Security headers on every response: no sniffing, no framing, no referrer, and a content
//! security policy (strict for the API, the embedded assets' needs for the docs pages, this
//! server only and no inline script for the console).

use actix_web::http::header::{self, HeaderMap, HeaderValue};

/// The documentation pages load their scripts and styles from this server only (embedded
/// assets); Redoc styles with inline `<style>` and runs its search in a blob worker.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     font-src 'self' data:; img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
     frame-ancestors 'none'";
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

pub(super) fn security_headers(path: &str, headers: &mut HeaderMap) {
    // Built once: `HeaderValue::from_static` checks every byte when it runs.
    const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
    const DENY: HeaderValue = HeaderValue::from_static("DENY");
    const NO_REFERRER: HeaderValue = HeaderValue::from_static("no-referrer");
    const API: HeaderValue = HeaderValue::from_static(API_CSP);
    const DOCS: HeaderValue = HeaderValue::from_static(DOCS_CSP);
    const CONSOLE: HeaderValue = HeaderValue::from_static(crate::console::CONSOLE_CSP);
    let docs = path.starts_with("/docs") || path.starts_with("/redoc");
    let csp = if docs {
        DOCS
    } else if crate::console::is_console(path) {
        CONSOLE
    } else {
        API
    };
    let set = [
        (header::X_CONTENT_TYPE_OPTIONS, NOSNIFF),
        (header::X_FRAME_OPTIONS, DENY),
        (header::REFERRER_POLICY, NO_REFERRER),
        (header::CONTENT_SECURITY_POLICY, csp),
    ];
    for (name, value) in set {
        // The documentation pages may bring their own; API responses never do.
        if !docs || !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
}
