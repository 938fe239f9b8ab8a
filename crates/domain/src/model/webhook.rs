//! Signed webhooks of generation jobs (docs/jobs.md, "Webhooks"): what a job asks for, how a
//! delivery is signed (the Standard Webhooks specification), which targets are refused, and
//! when a delivery ends.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};

use super::{JobEventKind, Timestamp, string_enum};
use crate::error::{DomainError, Invalid};
use crate::ids::JobId;
use crate::ports::{Entropy, EntropyUnavailable};

/// The event kinds a webhook may ask for, in their canonical order.
pub const WEBHOOK_EVENTS: [JobEventKind; 5] = [
    JobEventKind::Started,
    JobEventKind::Progress,
    JobEventKind::Completed,
    JobEventKind::Failed,
    JobEventKind::Cancelled,
];

/// The kinds delivered when a job names no `webhook_events_filter`: the final ones.
pub const DEFAULT_WEBHOOK_EVENTS: [JobEventKind; 3] = [
    JobEventKind::Completed,
    JobEventKind::Failed,
    JobEventKind::Cancelled,
];

/// Longest accepted webhook URL.
pub const MAX_WEBHOOK_URL_LEN: usize = 2000;

/// Where a job's events are delivered, and which of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Absolute `http`/`https` URL.
    pub url: String,
    /// The kinds delivered (non-empty, canonical order, no duplicates).
    pub events: Vec<JobEventKind>,
}

impl Webhook {
    /// Parses a job's `webhook` and `webhook_events_filter` (absent filter: the final kinds).
    /// Errors are [`DomainError::Invalid`] at the offending field.
    pub fn parse(url: &str, events: Option<&[String]>) -> Result<Webhook, DomainError> {
        let target = WebhookTarget::parse(url).map_err(|r| DomainError::invalid(&["webhook"], r))?;
        let events = match events {
            None => DEFAULT_WEBHOOK_EVENTS.to_vec(),
            Some(raw) => {
                parse_events(raw).map_err(|r| DomainError::invalid(&["webhook_events_filter"], r))?
            }
        };
        Ok(Webhook {
            url: target.url,
            events,
        })
    }

    /// The target's host and port (for the address check).
    pub fn target(&self) -> Result<WebhookTarget, Invalid> {
        WebhookTarget::parse(&self.url)
    }
}

/// Parses an events filter: each one of [`WEBHOOK_EVENTS`] (duplicates allowed, dropped).
pub fn parse_events(raw: &[String]) -> Result<Vec<JobEventKind>, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::NoWebhookEvents);
    }
    let mut kinds = Vec::new();
    for name in raw {
        match JobEventKind::parse(name).filter(|k| WEBHOOK_EVENTS.contains(k)) {
            Some(k) => kinds.push(k),
            None => {
                return Err(Invalid::UnknownWebhookEvent(name.clone()));
            }
        }
    }
    Ok(WEBHOOK_EVENTS.into_iter().filter(|k| kinds.contains(k)).collect())
}

/// A parsed webhook URL: what the address check and the sender need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The URL as normalised by the parser.
    pub url: String,
    /// Host name or address literal (IPv6 without brackets).
    pub host: String,
    /// Port (explicit or the scheme's default).
    pub port: u16,
}

impl WebhookTarget {
    /// An absolute `http` or `https` URL with a host, at most [`MAX_WEBHOOK_URL_LEN`] long.
    pub fn parse(raw: &str) -> Result<WebhookTarget, Invalid> {
        if raw.len() > MAX_WEBHOOK_URL_LEN {
            return Err(Invalid::WebhookUrlTooLong {
                max: MAX_WEBHOOK_URL_LEN,
            });
        }
        let url = url::Url::parse(raw.trim()).map_err(|e| Invalid::WebhookUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Invalid::WebhookScheme);
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(Invalid::WebhookHost),
        };
        let port = url.port_or_known_default().ok_or(Invalid::WebhookPort)?;
        Ok(WebhookTarget {
            url: url.to_string(),
            host,
            port,
        })
    }

    /// The host as an address, when it is a literal.
    pub fn literal_ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

/// Why a target is refused: it is (or resolves to) an address webhooks may not reach —
/// loopback, private (RFC 1918, ULA `fc00::/7`), link-local (`169.254/16` with the cloud
/// metadata address, `fe80::/10`), unspecified, multicast, broadcast, reserved or carrier-grade
/// NAT (`100.64/10`). IPv4-mapped IPv6 addresses are judged as their IPv4 address.
pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || a >= 240 {
        Some("reserved")
    } else if a == 100 && (64..128).contains(&b) {
        Some("carrier-grade NAT")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if first & 0xfe00 == 0xfc00 {
        Some("private")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else {
        None
    }
}

/// The message of a refused target.
fn forbidden_message(ip: IpAddr, why: &str) -> String {
    format!(
        "webhook target {ip} is a {why} address; such targets are refused (GENONAUT_WEBHOOK_ALLOW_PRIVATE=true allows them)"
    )
}

/// Why a target whose host has `addresses` is refused — the first [`forbidden_address`] among
/// them — or `None` if every one may be reached. Checked at submission and again when a
/// delivery connects.
pub fn refusal(addresses: impl IntoIterator<Item = IpAddr>) -> Option<String> {
    addresses
        .into_iter()
        .find_map(|ip| forbidden_address(ip).map(|why| forbidden_message(ip, why)))
}

/// The message when a job asks for a webhook and the server has no signing secret.
pub const WEBHOOKS_NOT_CONFIGURED: &str =
    "webhooks are not configured on this server (GENONAUT_WEBHOOK_SECRET is not set)";

/// The signing secret, `whsec_<base64>` (24–64 key bytes). Its `Debug` never shows the key.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// Prefix of a webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";

impl WebhookSecret {
    /// Parses `whsec_<base64>`: the key is the decoded base64 part.
    pub fn parse(raw: &str) -> Result<WebhookSecret, String> {
        let encoded = raw
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| format!("a webhook secret starts with {SECRET_PREFIX}"))?;
        let key = BASE64
            .decode(encoded)
            .map_err(|_| "the webhook secret after whsec_ is not valid base64".to_owned())?;
        if !(24..=64).contains(&key.len()) {
            return Err(format!(
                "a webhook secret holds 24 to 64 bytes, not {} (generate one with `genonaut webhooks secret`)",
                key.len()
            ));
        }
        Ok(WebhookSecret(key))
    }

    /// A fresh random secret (32 bytes), in its `whsec_` text form.
    pub fn generate(entropy: &dyn Entropy) -> Result<String, EntropyUnavailable> {
        let mut key = [0u8; 32];
        entropy.fill(&mut key)?;
        Ok(format!("{SECRET_PREFIX}{}", BASE64.encode(key)))
    }

    /// The `webhook-signature` header of a message: `v1,<base64 HMAC-SHA256(key,
    /// "{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        // HMAC accepts keys of any length.
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

string_enum!(
    /// State of one webhook delivery.
    DeliveryStatus {
        /// Not delivered yet; will be attempted (again).
        Pending => "pending",
        /// The receiver answered 2xx.
        Delivered => "delivered",
        /// Given up: a 4xx other than 429, a refused target, or retries exhausted.
        Failed => "failed",
    }
);

/// One delivery of one job event, as listed by `GET /generation-jobs/{id}/webhook-deliveries`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// The `webhook-id` header of every attempt.
    pub webhook_id: String,
    /// The job.
    pub job_id: JobId,
    /// The event's `seq`.
    pub seq: i64,
    /// The event's kind.
    pub event: JobEventKind,
    /// State.
    pub status: DeliveryStatus,
    /// Attempts made (or under way).
    pub attempts: i32,
    /// The last attempt's HTTP status, if it got one.
    pub last_status: Option<i32>,
    /// The last attempt's error (network, refused target, or status).
    pub last_error: Option<String>,
    /// When it is attempted next (pending only).
    pub next_attempt_at: Option<Timestamp>,
    /// When the receiver accepted it.
    pub delivered_at: Option<Timestamp>,
    /// When the event happened.
    pub created_at: Timestamp,
}

/// What one attempt got back.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    /// An HTTP response (its status, and `Retry-After` in seconds if it had one).
    Response {
        /// Status code.
        status: u16,
        /// `Retry-After`, when present as seconds or an HTTP date.
        retry_after: Option<Duration>,
    },
    /// No response: connection refused, timeout, TLS, DNS…
    Network(String),
    /// The target resolved to a forbidden address (DNS rebinding) and was not contacted.
    Forbidden(String),
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryDecision {
    /// Done: accepted.
    Delivered,
    /// Done: given up.
    Failed,
    /// Attempt again at this time.
    Retry(Timestamp),
}

/// Retry schedule and limits of deliveries.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// Delay after the first failed attempt; doubles with each further attempt.
    pub base: Duration,
    /// Longest delay between attempts (also caps `Retry-After`).
    pub cap: Duration,
    /// Retries continue until the delivery is this old; the first failure after that ends it.
    pub give_up_after: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(5),
        }
    }
}

impl DeliveryPolicy {
    /// The delay before attempt `attempts + 1` after `attempts` failed ones (≥ 1):
    /// `base · 2^(attempts−1)`, capped, scaled by `0.75 + jitter/2` (`jitter` in [0, 1)).
    pub fn backoff(&self, attempts: i32, jitter: f64) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(30);
        let raw = self.base.saturating_mul(1u32 << exponent).min(self.cap);
        raw.mul_f64(0.75 + jitter.clamp(0.0, 1.0) / 2.0)
    }

    /// Decides what an attempt's result means: 2xx delivers; 429, 5xx and network errors
    /// retry (after `Retry-After` when the receiver sent one, never sooner than the backoff)
    /// until the delivery is [`give_up_after`](Self::give_up_after) old; other statuses and
    /// refused targets end it as failed.
    pub fn decide(
        &self,
        result: &AttemptResult,
        attempts: i32,
        created_at: Timestamp,
        now: Timestamp,
        jitter: f64,
    ) -> DeliveryDecision {
        let retry_after = match result {
            AttemptResult::Response { status, .. } if (200..300).contains(status) => {
                return DeliveryDecision::Delivered;
            }
            AttemptResult::Response { status, retry_after } if *status == 429 || *status >= 500 => {
                *retry_after
            }
            AttemptResult::Network(_) => None,
            AttemptResult::Response { .. } | AttemptResult::Forbidden(_) => return DeliveryDecision::Failed,
        };
        let age = (now - created_at).to_std().unwrap_or_default();
        if age >= self.give_up_after {
            return DeliveryDecision::Failed;
        }
        let mut delay = self.backoff(attempts, jitter);
        if let Some(after) = retry_after {
            delay = delay.max(after.min(self.cap));
        }
        let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
        DeliveryDecision::Retry(now + delay)
    }
}
