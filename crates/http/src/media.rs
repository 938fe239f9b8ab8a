//! Signed, expiring media URLs: what a browser's `<img>`, `<video>` or `<audio>` tag uses, as it
//! cannot send an `Authorization` header.
//!
//! `GET /media/<file>?expires=<unix seconds>&sig=<hex>` is served without a key when `sig` is
//! the HMAC-SHA256 of `<path>\n<expires>` under the server's media key and `expires` is not
//! past (like presigned object-store URLs). A wrong or expired signature is a 403; a plain
//! `/media/...` request still needs a key (401 without one). Content representations carry
//! such a URL in `media_url`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use apistos::paths::{Parameter, RequestBody};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use futures_util::future::{Ready, ready};
use hmac::{KeyInit, Mac};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Why a signed media request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRefusal {
    /// `expires` is past.
    Expired,
    /// `sig` is not the signature of this path and expiry (or `expires` is not a number).
    BadSignature,
}

impl MediaRefusal {
    /// The 403 body's `detail`.
    pub fn message(self) -> &'static str {
        match self {
            MediaRefusal::Expired => "This media URL has expired; fetch the item again for a fresh media_url",
            MediaRefusal::BadSignature => "Invalid media URL signature",
        }
    }
}

/// Signs and verifies media URLs with one secret key.
pub struct MediaSigner {
    key: Vec<u8>,
    ttl: Duration,
}

impl std::fmt::Debug for MediaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSigner")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl MediaSigner {
    /// A signer with `key` (any length; 32+ random bytes recommended), URLs valid for `ttl`.
    pub fn new(key: &[u8], ttl: Duration) -> Self {
        MediaSigner {
            key: key.to_vec(),
            ttl: ttl.max(Duration::from_secs(1)),
        }
    }

    /// A signer with 32 fresh random bytes as key (URLs do not survive a restart).
    pub fn random(ttl: Duration) -> Result<Self, String> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| format!("no randomness: {e}"))?;
        Ok(MediaSigner::new(&key, ttl))
    }

    #[expect(
        clippy::expect_used,
        reason = "HMAC takes keys of any length: this cannot fail"
    )]
    fn mac(&self, path: &str, expires: &str) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key).expect("HMAC key of any length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.as_bytes());
        mac
    }

    /// The signed URL of `path` (a `/media/...` path) at `now` (unix seconds). The expiry is
    /// rounded up to the minute, so a path's URL stays the same for a minute (browser caches).
    pub fn sign_at(&self, path: &str, now: u64) -> String {
        let expires = (now + self.ttl.as_secs()).div_ceil(60) * 60;
        let expires = expires.to_string();
        let sig = to_hex(&self.mac(path, &expires).finalize().into_bytes());
        format!("{path}?expires={expires}&sig={sig}")
    }

    /// The signed URL of `path`, valid from now for the configured time.
    pub fn sign(&self, path: &str) -> String {
        self.sign_at(path, now_unix())
    }

    /// The signed URL for a content item's `content_data`, if it is a media path.
    pub fn media_url(&self, content_data: &str) -> Option<String> {
        (content_data.starts_with("/media/") && !content_data.contains(['?', '#']))
            .then(|| self.sign(content_data))
    }

    /// Checks a signature at `now` (unix seconds); constant-time comparison.
    pub fn verify_at(&self, path: &str, expires: &str, sig: &str, now: u64) -> Result<(), MediaRefusal> {
        let Ok(at) = expires.parse::<u64>() else {
            return Err(MediaRefusal::BadSignature);
        };
        let Some(sig) = from_hex(sig) else {
            return Err(MediaRefusal::BadSignature);
        };
        self.mac(path, expires)
            .verify_slice(&sig)
            .map_err(|_| MediaRefusal::BadSignature)?;
        if at < now {
            return Err(MediaRefusal::Expired);
        }
        Ok(())
    }

    /// Checks a signature now.
    pub fn verify(&self, path: &str, expires: &str, sig: &str) -> Result<(), MediaRefusal> {
        self.verify_at(path, expires, sig, now_unix())
    }
}

/// The `expires` and `sig` of a request's query, when both are there.
pub(crate) fn signature_of(query: &str) -> Option<(String, String)> {
    let mut expires = None;
    let mut sig = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "expires" => expires = Some(v.into_owned()),
            "sig" => sig = Some(v.into_owned()),
            _ => {}
        }
    }
    Some((expires?, sig?))
}

/// Extractor: turns media paths into signed URLs in responses (no signer configured: none).
#[derive(Clone, Default)]
pub struct MediaLinks(Option<Arc<MediaSigner>>);

impl MediaLinks {
    /// Links signed by `signer`.
    pub fn new(signer: Arc<MediaSigner>) -> Self {
        MediaLinks(Some(signer))
    }

    /// The signed URL for `content_data`, if it is a media path and a signer is configured.
    pub fn url(&self, content_data: &str) -> Option<String> {
        self.0.as_ref()?.media_url(content_data)
    }

    /// The links of the app serving `req`.
    pub fn of(req: &HttpRequest) -> Self {
        MediaLinks(
            req.app_data::<web::Data<MediaSigner>>()
                .map(|d| d.clone().into_inner()),
        )
    }
}

impl FromRequest for MediaLinks {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(MediaLinks::of(req)))
    }
}

impl ApiComponent for MediaLinks {
    fn child_schemas(_: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        vec![]
    }

    fn schema(_: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        None
    }

    fn request_body(_: OpenApiVersion, _: Option<String>) -> Option<RequestBody> {
        None
    }

    fn parameters(_: OpenApiVersion, _: Option<String>) -> Vec<Parameter> {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_url_verifies_until_it_expires_and_only_for_its_path() {
        let signer = MediaSigner::new(b"test key", Duration::from_secs(3600));
        let url = signer.sign_at("/media/a.png", 1_000_000);
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, "/media/a.png");
        let (expires, sig) = signature_of(query).unwrap();
        let at: u64 = expires.parse().unwrap();
        assert!(
            (1_003_600..1_003_660).contains(&at) && at.is_multiple_of(60),
            "{at}"
        );
        assert_eq!(signer.verify_at(path, &expires, &sig, 1_000_000), Ok(()));
        assert_eq!(signer.verify_at(path, &expires, &sig, at), Ok(()));
        assert_eq!(
            signer.verify_at(path, &expires, &sig, at + 1),
            Err(MediaRefusal::Expired)
        );
        assert_eq!(
            signer.verify_at("/media/b.png", &expires, &sig, 1_000_000),
            Err(MediaRefusal::BadSignature)
        );
        let later = (at + 60).to_string();
        assert_eq!(
            signer.verify_at(path, &later, &sig, 1_000_000),
            Err(MediaRefusal::BadSignature),
            "the expiry cannot be extended"
        );
        assert_eq!(
            signer.verify_at(path, &expires, "zz", 1_000_000),
            Err(MediaRefusal::BadSignature)
        );
        let other = MediaSigner::new(b"other key", Duration::from_secs(3600));
        assert_eq!(
            other.verify_at(path, &expires, &sig, 1_000_000),
            Err(MediaRefusal::BadSignature)
        );
    }

    #[test]
    fn only_media_paths_get_urls() {
        let signer = MediaSigner::new(b"k", Duration::from_secs(60));
        assert!(
            signer
                .media_url("/media/x.png")
                .unwrap()
                .starts_with("/media/x.png?expires=")
        );
        assert_eq!(signer.media_url("A short story."), None);
        assert_eq!(signer.media_url("https://example.com/x.png"), None);
        assert_eq!(signer.media_url("/media/x.png?v=1"), None);
    }
}
