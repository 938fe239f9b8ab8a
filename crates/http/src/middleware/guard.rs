//! Who may call what, and how often: API-key authentication, scopes, schema restrictions and
//! rate limits (contract §7.7).
//!
//! * Which scope a request needs is declared in the route table ([`crate::routes`], next to each
//!   route) and read here, before routing, from its [`RouteAccess`]: `read` for `GET`/`HEAD` and
//!   `write` for other methods (also on paths no route serves) unless the table says otherwise —
//!   today `admin` for `/api/v1/admin/…` (any path under it), `POST
//!   /api/v1/generation-jobs/queue/process` and the job status/result overrides, `read` for
//!   `POST /api/v1/ws-tickets`. The check stays before routing so that its answers come in the
//!   same order as the other refusals (see docs/decisions.md).
//! * Public (no key), also declared there: `/`, `/health`, `/api/v1/health`, and the paths
//!   mounted beside the table — `/ready`, `/docs`, `/redoc`, `/openapi.json`, the console's page
//!   and assets (`/console…`: the page then asks for a key); and CORS pre-flights.
//! * A key limited to a schema may only select that schema.
//! * Keys come in `Authorization: Bearer <key>` or `X-API-Key: <key>`. Missing or invalid →
//!   401 with `WWW-Authenticate: Bearer`; not allowed → 403; over the rate limit → 429 with
//!   `Retry-After` and the `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and
//!   `RateLimit-Policy` fields of draft-ietf-httpapi-ratelimit-headers-06. Verified keys are
//!   cached for `cache_ttl` (revocation takes effect within it).
//! * Rate limits (GCRA, `governor`): per key, and per client IP for requests without a key.
//! * Browsers: `/media/...?expires=…&sig=…` (a signed URL, [`crate::media`]) needs no key — a
//!   wrong or expired signature is a 403; the job WebSocket and the job's SSE events accept
//!   `?ticket=…` (a single-use ticket from `POST /api/v1/ws-tickets`) instead of a key.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};
use genonaut_domain::model::{ApiKey, Scope};
use genonaut_domain::services::{KeyRefusal, KeyService, TicketService, hash_key};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

use crate::error::ApiError;
use crate::routes::{Needs, RouteAccess};
use crate::state::SCHEMA_HEADER;

/// A request rate: `per_second` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Requests allowed at once.
    pub burst: NonZeroU32,
}

/// Access settings.
#[derive(Clone)]
pub struct AccessSettings {
    /// Keys checked against this service; `None` = authentication off.
    pub keys: Option<KeyService>,
    /// How long a verified (or refused) key is remembered.
    pub cache_ttl: Duration,
    /// Limit per API key; `None` = unlimited.
    pub per_key: Option<Rate>,
    /// Limit per client IP for requests without a key; `None` = unlimited.
    pub per_ip: Option<Rate>,
    /// Live-status tickets (`POST /api/v1/ws-tickets`, `?ticket=`); `None` = not offered.
    pub tickets: Option<TicketService>,
}

/// The key a request was authenticated with (in the request's extensions), for logs.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's id (scopes idempotency keys).
    pub id: i32,
    /// The key's public prefix.
    pub prefix: String,
    /// Its scope.
    pub scope: Scope,
}

type Cached = (Result<ApiKey, KeyRefusal>, Instant);

/// The shared state of the access middleware (one per server, shared by its workers).
pub struct Access {
    settings: AccessSettings,
    cache: Mutex<HashMap<String, Cached>>,
    keys_limiter: Option<DefaultKeyedRateLimiter<String>>,
    ip_limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    seen: AtomicU64,
}

impl Access {
    /// Access control with `settings`.
    pub fn new(settings: AccessSettings) -> Arc<Self> {
        let quota = |r: Rate| Quota::per_second(r.per_second).allow_burst(r.burst);
        Arc::new(Access {
            keys_limiter: settings.per_key.map(|r| RateLimiter::keyed(quota(r))),
            ip_limiter: settings.per_ip.map(|r| RateLimiter::keyed(quota(r))),
            settings,
            cache: Mutex::new(HashMap::new()),
            seen: AtomicU64::new(0),
        })
    }

    /// No authentication, no limits.
    pub fn open() -> Arc<Self> {
        Access::new(AccessSettings {
            keys: None,
            cache_ttl: Duration::ZERO,
            per_key: None,
            per_ip: None,
            tickets: None,
        })
    }

    /// The key service, if authentication is on.
    pub fn keys(&self) -> Option<&KeyService> {
        self.settings.keys.as_ref()
    }

    /// Forgets every cached verdict for the key with `prefix` (after its revocation), so the
    /// next request with it is checked against the store.
    pub fn forget(&self, prefix: &str) {
        self.lock_cache()
            .retain(|_, (verdict, _)| !matches!(verdict, Ok(key) if key.prefix == prefix));
    }

    /// The ticket service, if tickets are offered.
    pub fn tickets(&self) -> Option<&TicketService> {
        self.settings.tickets.as_ref()
    }

    async fn authenticate(&self, presented: &str) -> Result<Result<ApiKey, KeyRefusal>, ApiError> {
        let Some(keys) = &self.settings.keys else {
            return Ok(Err(KeyRefusal::Invalid));
        };
        let digest = hash_key(presented);
        let now = Instant::now();
        if let Some((verdict, at)) = self.lock_cache().get(&digest)
            && now.duration_since(*at) < self.settings.cache_ttl
        {
            return Ok(verdict.clone());
        }
        let verdict = keys.authenticate(presented).await?;
        if !self.settings.cache_ttl.is_zero() {
            let mut cache = self.lock_cache();
            if cache.len() > 10_000 {
                let ttl = self.settings.cache_ttl;
                cache.retain(|_, (_, at)| now.duration_since(*at) < ttl);
            }
            cache.insert(digest, (verdict.clone(), now));
        }
        Ok(verdict)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long to wait, and under which quota, if the request must be throttled.
    fn throttle(&self, caller: Option<&str>, ip: Option<IpAddr>) -> Option<Throttled> {
        // Forget idle buckets now and then so the maps stay small.
        if self.seen.fetch_add(1, Ordering::Relaxed) % 8192 == 8191 {
            if let Some(l) = &self.keys_limiter {
                l.retain_recent();
            }
            if let Some(l) = &self.ip_limiter {
                l.retain_recent();
            }
        }
        let wait = match (caller, ip) {
            (Some(prefix), _) => self.keys_limiter.as_ref()?.check_key(&prefix.to_owned()).err()?,
            (None, Some(ip)) => self.ip_limiter.as_ref()?.check_key(&ip).err()?,
            (None, None) => return None,
        };
        let quota = wait.quota();
        let wait = wait.wait_time_from(DefaultClock::default().now());
        let burst = quota.burst_size().get();
        // The time a spent burst takes to refill, whole seconds: the policy's window.
        let refill = quota.replenish_interval().saturating_mul(burst);
        Some(Throttled {
            wait: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
            limit: burst,
            window: (refill.as_secs() + u64::from(refill.subsec_nanos() > 0)).max(1),
        })
    }
}

/// A refusal by a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Throttled {
    /// Whole seconds until one more request is allowed (at least 1).
    wait: u64,
    /// Requests allowed at once (the burst).
    limit: u32,
    /// Seconds a spent burst takes to refill.
    window: u64,
}

impl Throttled {
    /// The 429: `Retry-After`, and the fields of draft-ietf-httpapi-ratelimit-headers-06
    /// (<https://datatracker.ietf.org/doc/html/draft-ietf-httpapi-ratelimit-headers-06>):
    /// `RateLimit-Reset` names the same moment as `Retry-After`, as the draft asks.
    fn response(self) -> HttpResponse {
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Rate limit exceeded; retry in {} s", self.wait),
        );
        let headers = response.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from(self.wait));
        headers.insert(
            header::HeaderName::from_static("ratelimit-limit"),
            HeaderValue::from(self.limit),
        );
        headers.insert(
            header::HeaderName::from_static("ratelimit-remaining"),
            HeaderValue::from_static("0"),
        );
        headers.insert(
            header::HeaderName::from_static("ratelimit-reset"),
            HeaderValue::from(self.wait),
        );
        if let Ok(policy) = HeaderValue::from_str(&format!("{};w={}", self.limit, self.window)) {
            headers.insert(header::HeaderName::from_static("ratelimit-policy"), policy);
        }
        response
    }
}

/// The job whose live status `path` follows (`/ws/generation/{id}` or
/// `/api/v1/generation-jobs/{id}/events`), as written in the path.
fn followed_job(path: &str) -> Option<&str> {
    path.strip_prefix("/ws/generation/")
        .or_else(|| {
            path.strip_prefix("/api/v1/generation-jobs/")?
                .strip_suffix("/events")
        })
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// The `ticket` of a query string, if any.
fn ticket_of(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
}

/// The key presented with a request, if any.
fn presented_key(req: &ServiceRequest) -> Option<&str> {
    let headers = req.headers();
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (kind, token) = value.trim().split_once(' ')?;
        return kind.eq_ignore_ascii_case("bearer").then_some(token.trim());
    }
    headers
        .get("X-API-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn refuse(status: StatusCode, detail: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status).json(json!({ "detail": detail }));
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The middleware: authenticates, authorises and rate-limits every request.
pub async fn check(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(access) = req
        .app_data::<web::Data<Access>>()
        .map(|a| a.clone().into_inner())
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    // What the route needs matters only to authentication and to the two stand-ins for a key
    // (a signed media URL, a live-status ticket); without them the lookup is skipped.
    let consulted = access.settings.keys.is_some()
        || req.path().starts_with("/media/")
        || followed_job(req.path()).is_some();
    let mut needed = if preflight || !consulted {
        None
    } else {
        // As the route table declares (by default: read for GET/HEAD, write otherwise).
        req.app_data::<web::Data<RouteAccess>>().map_or_else(
            || Needs::default_for(req.method()).scope(),
            |table| table.needed_scope(req.method(), req.path()),
        )
    };
    // A signed media URL stands in for a key (browsers' <img>/<video> cannot send one).
    if needed.is_some()
        && req.path().starts_with("/media/")
        && let Some((expires, sig)) = crate::media::signature_of(req.query_string())
    {
        let verdict = match req.app_data::<web::Data<crate::media::MediaSigner>>() {
            Some(signer) => signer.verify(req.path(), &expires, &sig),
            None => Err(crate::media::MediaRefusal::BadSignature),
        };
        match verdict {
            Ok(()) => {
                // Issued to a key holder by a (rate-limited) API response, and a page shows many
                // at once (a gallery): not counted against the per-IP limit.
                return Ok(next.call(req).await?.map_into_boxed_body());
            }
            Err(refusal) => {
                return Ok(req.into_response(refuse(StatusCode::FORBIDDEN, refusal.message())));
            }
        }
    }
    // A live-status ticket stands in for a key on the job's socket and event stream, and
    // selects the job's schema (browsers cannot set headers there either).
    if needed.is_some()
        && let Some(tickets) = &access.settings.tickets
        && let Some(job) = followed_job(req.path())
        && let Some(ticket) = ticket_of(req.query_string())
    {
        let grant = match tickets.redeem(&ticket).await {
            Ok(Some(grant)) => grant,
            Ok(None) => {
                return Ok(req.into_response(refuse(
                    StatusCode::UNAUTHORIZED,
                    "Invalid, expired or already used ticket",
                )));
            }
            Err(e) => return Ok(req.into_response(ApiError::from(e).error_response())),
        };
        let requested = req
            .headers()
            .get(SCHEMA_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let same_schema = requested.is_none_or(|s| s.is_empty() || s == grant.schema);
        if job.trim() != grant.job_id.to_string() || !same_schema {
            return Ok(req.into_response(refuse(StatusCode::FORBIDDEN, "This ticket is for another job")));
        }
        let Ok(schema) = HeaderValue::from_str(&grant.schema) else {
            return Ok(req.into_response(refuse(StatusCode::FORBIDDEN, "This ticket is for another job")));
        };
        req.headers_mut()
            .insert(header::HeaderName::from_static("x-genonaut-schema"), schema);
        needed = None;
    }
    let ip = req.peer_addr().map(|a| a.ip());

    let mut caller = None;
    if access.settings.keys.is_some() && needed.is_some() {
        let Some(presented) = presented_key(&req) else {
            return Ok(req.into_response(refuse(StatusCode::UNAUTHORIZED, "Not authenticated")));
        };
        let key = match access.authenticate(presented).await {
            Ok(Ok(key)) => key,
            Ok(Err(refusal)) => {
                return Ok(req.into_response(refuse(StatusCode::UNAUTHORIZED, refusal.message())));
            }
            Err(e) => return Ok(req.into_response(e.error_response())),
        };
        if let Some(needed) = needed
            && !key.scope.covers(needed)
        {
            let detail = format!("This API key lacks the '{needed}' scope");
            return Ok(req.into_response(refuse(StatusCode::FORBIDDEN, &detail)));
        }
        if let Some(only) = &key.schema {
            // The schema the request will use, resolved as the `Tenant` extractor resolves it.
            let requested = req.headers().get(SCHEMA_HEADER).and_then(|v| v.to_str().ok());
            let allowed = req
                .app_data::<web::Data<crate::ApiState>>()
                .is_some_and(|state| state.select(requested).is_ok_and(|t| &*t.name == only));
            if !allowed {
                let detail = format!("This API key may only use schema '{only}'");
                return Ok(req.into_response(refuse(StatusCode::FORBIDDEN, &detail)));
            }
        }
        crate::middleware::observe::record_key(&key.prefix);
        caller = Some(Caller {
            id: key.id,
            prefix: key.prefix,
            scope: key.scope,
        });
    }

    if let Some(throttled) = access.throttle(caller.as_ref().map(|c| c.prefix.as_str()), ip) {
        return Ok(req.into_response(throttled.response()));
    }
    if let Some(caller) = caller {
        req.extensions_mut().insert(caller);
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("authentication", &self.settings.keys.is_some())
            .field("per_key", &self.settings.per_key)
            .field("per_ip", &self.settings.per_ip)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scopes the route table declares, as the guard reads them; unknown paths get the
    /// default, as before the table declared them.
    #[test]
    fn scopes_follow_the_route_table() {
        let table = crate::route_access();
        let needed_scope = |method: &Method, path: &str| table.needed_scope(method, path);
        assert_eq!(needed_scope(&Method::GET, "/api/v1/health"), None);
        assert_eq!(
            needed_scope(&Method::GET, "/api/v1/experiments/1/results"),
            Some(Scope::Read)
        );
        assert_eq!(
            needed_scope(&Method::POST, "/api/v1/experiments/1/stop"),
            Some(Scope::Write)
        );
        assert_eq!(needed_scope(&Method::GET, "/docs/"), None);
        assert_eq!(needed_scope(&Method::GET, "/openapi.json"), None);
        assert_eq!(needed_scope(&Method::GET, "/console"), None);
        assert_eq!(needed_scope(&Method::GET, "/console/v/1/app.js"), None);
        assert_eq!(needed_scope(&Method::GET, "/consoles"), Some(Scope::Read));
        assert_eq!(
            needed_scope(&Method::GET, "/api/v1/admin/keys"),
            Some(Scope::Admin)
        );
        assert_eq!(needed_scope(&Method::GET, "/api/v1/users"), Some(Scope::Read));
        assert_eq!(
            needed_scope(&Method::HEAD, "/api/v1/content/1"),
            Some(Scope::Read)
        );
        assert_eq!(needed_scope(&Method::POST, "/api/v1/users"), Some(Scope::Write));
        assert_eq!(
            needed_scope(&Method::DELETE, "/api/v1/content/3"),
            Some(Scope::Write)
        );
        assert_eq!(
            needed_scope(&Method::GET, "/api/v1/admin/recommender"),
            Some(Scope::Admin)
        );
        assert_eq!(
            needed_scope(&Method::POST, "/api/v1/generation-jobs/queue/process"),
            Some(Scope::Admin)
        );
        assert_eq!(
            needed_scope(&Method::PUT, "/api/v1/generation-jobs/4/status"),
            Some(Scope::Admin)
        );
        assert_eq!(
            needed_scope(&Method::POST, "/api/v1/generation-jobs/4/cancel"),
            Some(Scope::Write)
        );
        assert_eq!(needed_scope(&Method::GET, "/metrics"), Some(Scope::Read));
        assert_eq!(
            needed_scope(&Method::POST, "/api/v1/ws-tickets"),
            Some(Scope::Read)
        );
        assert_eq!(
            needed_scope(&Method::PUT, "/api/v1/generation-jobs/4/result"),
            Some(Scope::Admin)
        );
        // Only PUT is admin there; other methods keep the default (and then answer 405).
        assert_eq!(
            needed_scope(&Method::GET, "/api/v1/generation-jobs/4/status"),
            Some(Scope::Read)
        );
        assert_eq!(
            needed_scope(&Method::POST, "/api/v1/generation-jobs/4/status"),
            Some(Scope::Write)
        );
        // A scope's declaration covers every path under it and every method.
        assert_eq!(
            needed_scope(&Method::DELETE, "/api/v1/admin/keys"),
            Some(Scope::Admin)
        );
        assert_eq!(
            needed_scope(&Method::GET, "/api/v1/admin/nothing"),
            Some(Scope::Admin)
        );
        // Public resources are public for every method (then 405).
        assert_eq!(needed_scope(&Method::POST, "/api/v1/health"), None);
        assert_eq!(needed_scope(&Method::HEAD, "/"), None);
        assert_eq!(needed_scope(&Method::GET, "/ready"), None);
        assert_eq!(needed_scope(&Method::GET, "/redoc"), None);
        // Paths no route serves: the default.
        assert_eq!(
            needed_scope(&Method::GET, "/api/v1/nonexistent"),
            Some(Scope::Read)
        );
        assert_eq!(
            needed_scope(&Method::POST, "/api/v1/nonexistent"),
            Some(Scope::Write)
        );
        assert_eq!(needed_scope(&Method::GET, "/media/a.png"), Some(Scope::Read));
        assert_eq!(needed_scope(&Method::GET, "/ws/generation/3"), Some(Scope::Read));
    }

    /// The rule the guard applied by path before the route table declared access.
    fn by_path_before(method: &Method, path: &str) -> Option<Scope> {
        let public = matches!(
            path,
            "" | "/" | "/health" | "/api/v1/health" | "/ready" | "/openapi.json"
        ) || path.starts_with("/docs")
            || path.starts_with("/redoc")
            || crate::console::is_console(path);
        if public {
            return None;
        }
        let admin = path.starts_with("/api/v1/admin")
            || (method == Method::POST && path == "/api/v1/generation-jobs/queue/process")
            || (method == Method::PUT
                && path.starts_with("/api/v1/generation-jobs/")
                && (path.ends_with("/status") || path.ends_with("/result")));
        let read_only = method == Method::POST && path == "/api/v1/ws-tickets";
        Some(if admin {
            Scope::Admin
        } else if read_only || matches!(*method, Method::GET | Method::HEAD) {
            Scope::Read
        } else {
            Scope::Write
        })
    }

    /// Every route of the table (at a sample path and at its pattern, as the document names
    /// it) and a set of unknown paths, with every method: the same answer as the rule by path.
    #[test]
    fn the_table_answers_as_the_path_rule_did() {
        let table = crate::route_access();
        let mut paths: Vec<String> = table
            .routes()
            .iter()
            .flat_map(|r| [r.pattern.clone(), r.sample_path()])
            .collect();
        paths.extend(
            [
                "",
                "/",
                "/nope",
                "/api/v1",
                "/api/v1/nope",
                "/api/v1/admin",
                "/api/v1/adminx",
                "/api/v1/admin/nope/deeper",
                "/docs",
                "/docs/x.js",
                "/redoc",
                "/console",
                "/console/v/1/app.js",
                "/consoles",
                "/metrics",
                "/ready",
                "/openapi.json",
                "/media/a/b.png",
                "/ws/generation/3",
                "/api/v1/health",
                "/health",
                "/api/v1/generation-jobs/queue/process",
                "/api/v1/generation-jobs/queue",
                "/api/v1/ws-tickets",
                "/api/v1/generation-jobs/abc/status",
            ]
            .map(str::to_owned),
        );
        let methods = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ];
        for path in &paths {
            for method in &methods {
                assert_eq!(
                    table.needed_scope(method, path),
                    by_path_before(method, path),
                    "{method} {path}"
                );
            }
        }
        // Where they differ: a PUT the text match took for a status/result override although no
        // such route serves it (a write key got 403 there; now the router answers: 404, or 422
        // for a job id `status` on `PUT /generation-jobs/{job_id}`).
        for path in [
            "/api/v1/generation-jobs/1/x/status",
            "/api/v1/generation-jobs/status",
        ] {
            assert_eq!(by_path_before(&Method::PUT, path), Some(Scope::Admin));
            assert_eq!(table.needed_scope(&Method::PUT, path), Some(Scope::Write));
        }
    }

    #[test]
    fn tickets_apply_to_a_jobs_socket_and_event_stream_only() {
        assert_eq!(followed_job("/ws/generation/12"), Some("12"));
        assert_eq!(followed_job("/api/v1/generation-jobs/12/events"), Some("12"));
        assert_eq!(followed_job("/api/v1/generation-jobs/12"), None);
        assert_eq!(followed_job("/api/v1/generation-jobs/12/cancel"), None);
        assert_eq!(followed_job("/ws/generation/"), None);
        assert_eq!(followed_job("/media/x.png"), None);
        assert_eq!(ticket_of("since=3&ticket=gwt_ab"), Some("gwt_ab".into()));
        assert_eq!(ticket_of("since=3"), None);
    }

    #[test]
    fn limits_answer_a_wait_once_the_burst_is_spent() {
        let one = NonZeroU32::MIN;
        let access = Access::new(AccessSettings {
            keys: None,
            cache_ttl: Duration::ZERO,
            per_key: None,
            tickets: None,
            per_ip: Some(Rate {
                per_second: one,
                burst: NonZeroU32::new(2).unwrap_or(one),
            }),
        });
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        assert_eq!(access.throttle(None, ip), None);
        assert_eq!(access.throttle(None, ip), None);
        assert_eq!(
            access.throttle(None, ip),
            Some(Throttled {
                wait: 1,
                limit: 2,
                window: 2
            })
        );
        // Another client is not affected; keys are unlimited here.
        assert_eq!(access.throttle(None, Some(IpAddr::from([10, 0, 0, 2]))), None);
        assert_eq!(access.throttle(Some("abcd1234"), ip), None);
    }

    #[test]
    fn a_429_carries_retry_after_and_the_ratelimit_fields() {
        let response = Throttled {
            wait: 3,
            limit: 40,
            window: 2,
        }
        .response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let field = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(field("retry-after").as_deref(), Some("3"));
        assert_eq!(field("ratelimit-limit").as_deref(), Some("40"));
        assert_eq!(field("ratelimit-remaining").as_deref(), Some("0"));
        assert_eq!(field("ratelimit-reset").as_deref(), Some("3"));
        assert_eq!(field("ratelimit-policy").as_deref(), Some("40;w=2"));
    }
}
