//! The console: a web page served by the binary under `/console` that shows, generates and
//! reacts through the public API (every action it takes is an ordinary API call made by the
//! browser with the key the user typed in; it has no private path into the service).
//!
//! The page is plain ES modules, a stylesheet and one HTML file under `crates/http/console/`,
//! embedded here with `include_bytes!`: no JavaScript toolchain builds or serves it
//! (docs/decisions.md, "The console: plain ES modules"). Its own content security policy
//! ([`CONSOLE_CSP`]) allows scripts, styles, images and connections from this server only, and
//! no inline script.
//!
//! * `/console` (and `/console/`) — the page, `no-cache`;
//! * `/console/v/{version}/{file}` — the assets under the build's content hash, which the page
//!   references: `immutable`, cached for a year (a new binary with other assets has another
//!   hash, so a browser never mixes modules of two versions);
//! * `/console/{file}` — the same assets under a stable name, cached for an hour.
//!
//! [`browser_redirect`] sends browsers asking for `/` to the console (303) when their `Accept`
//! header ranks HTML above JSON; every other client of `/` gets the JSON it always got.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};

/// The console's content security policy: everything from this server, no inline script or
/// style, images also as `data:` (the page's icon) and `blob:`.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; media-src 'self'; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const JS: &str = "text/javascript; charset=utf-8";

/// One embedded file of the console.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! assets {
    ($($name:literal => $type:expr),* $(,)?) => {
        &[$(Asset { name: $name, content_type: $type, bytes: include_bytes!(concat!("../console/", $name)) }),*]
    };
}

const ASSETS: &[Asset] = assets!(
    "app.js" => JS,
    "api.js" => JS,
    "ui.js" => JS,
    "charts.js" => JS,
    "gallery.js" => JS,
    "item.js" => JS,
    "generate.js" => JS,
    "for-you.js" => JS,
    "experiments.js" => JS,
    "ops.js" => JS,
    "console.css" => "text/css; charset=utf-8",
);

const INDEX: &str = include_str!("../console/index.html");

/// FNV-1a over every asset: the build's version of the console (computed at compile time).
const fn fingerprint(assets: &[Asset]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < assets.len() {
        let bytes = assets[i].bytes;
        let mut j = 0;
        while j < bytes.len() {
            hash ^= bytes[j] as u64;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            j += 1;
        }
        i += 1;
    }
    hash
}

/// The console's version: a hash of its assets, in the assets' URLs.
pub const VERSION: u64 = fingerprint(ASSETS);

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

fn asset_response(asset: &Asset, cache: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, format!("\"{VERSION:016x}\"")))
        .body(asset.bytes)
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({"detail": "Not Found"}))
}

async fn index(page: web::Data<IndexPage>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(page.0.clone())
}

async fn stable(path: web::Path<String>) -> HttpResponse {
    match find(&path) {
        Some(asset) => asset_response(asset, "public, max-age=3600"),
        None => not_found(),
    }
}

async fn versioned(path: web::Path<(String, String)>) -> HttpResponse {
    let (version, name) = path.into_inner();
    match find(&name) {
        Some(asset) if version == format!("{VERSION:016x}") => {
            asset_response(asset, "public, max-age=31536000, immutable")
        }
        // An old page asking for its version's file: the current file, not cached for long.
        Some(asset) => asset_response(asset, "no-cache"),
        None => not_found(),
    }
}

/// The page, with its assets' versioned URLs filled in (built once).
struct IndexPage(web::Bytes);

/// The console's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let page = INDEX.replace("{{ASSETS}}", &format!("/console/v/{VERSION:016x}"));
    cfg.app_data(web::Data::new(IndexPage(web::Bytes::from(page))))
        .route("/console", web::get().to(index))
        .route("/console/v/{version}/{file}", web::get().to(versioned))
        .route("/console/{file}", web::get().to(stable));
}

/// Whether a path belongs to the console (public: the page asks for a key itself).
pub fn is_console(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// The quality an `Accept` header gives `media` (`type/subtype`): the most specific matching
/// range wins (`text/html` over `text/*` over `*/*`); 0 if none matches.
fn quality(accept: &str, media: &str) -> f32 {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let specificity = if name == media {
            3
        } else if name.strip_suffix("/*") == Some(kind) {
            2
        } else if name == "*/*" {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// Whether a request with this `Accept` header prefers an HTML page to JSON.
pub fn prefers_html(accept: &str) -> bool {
    quality(accept, "text/html") > quality(accept, "application/json")
}

/// `GET /` from a browser (HTML ranked above JSON) → a 303 to `/console`; `None` for every
/// other request (checked by the outermost request layer, so it costs no layer of its own).
pub fn browser_redirect(req: &ServiceRequest) -> Option<HttpResponse> {
    if req.path() == "/"
        && req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(prefers_html)
    {
        return Some(
            HttpResponse::build(StatusCode::SEE_OTHER)
                .insert_header((header::LOCATION, HeaderValue::from_static("/console")))
                .insert_header((header::VARY, HeaderValue::from_static("Accept")))
                .finish(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_prefer_html_and_api_clients_do_not() {
        // Chromium's and Firefox's navigation headers.
        assert!(prefers_html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
        ));
        assert!(prefers_html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        // curl, HTTP libraries, explicit JSON.
        assert!(!prefers_html("*/*"));
        assert!(!prefers_html("application/json"));
        assert!(!prefers_html("application/json, text/html;q=0.5"));
        assert!(!prefers_html("text/html;q=0.5, application/json"));
        assert!(!prefers_html("text/html, application/json"));
        assert!(!prefers_html(""));
        assert!(prefers_html("text/*, application/json;q=0.2"));
    }

    #[test]
    fn every_asset_is_found_and_the_page_names_the_entry_module() {
        for name in ["app.js", "api.js", "ui.js", "console.css", "gallery.js", "ops.js"] {
            assert!(find(name).is_some_and(|a| !a.bytes.is_empty()), "{name}");
        }
        assert!(find("../lib.rs").is_none());
        assert!(INDEX.contains("{{ASSETS}}/app.js"));
        assert!(is_console("/console") && is_console("/console/app.js"));
        assert!(!is_console("/consoles") && !is_console("/"));
    }
}
