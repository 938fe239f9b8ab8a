//! The request id: the client's `X-Request-Id` when it is usable, else a new one; echoed in
//! the response header and in 5xx JSON bodies, and carried by the request's span.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::HttpResponse;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;

/// The request id header.
pub const REQUEST_ID: &str = "X-Request-Id";

/// A request's id (in its extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn new_request_id() -> String {
    static BOOT: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let boot = *BOOT.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        nanos ^ std::process::id().rotate_left(16)
    });
    // `{boot:08x}-{n:010x}`, written digit by digit.
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut id = [b'-'; 19];
    for (i, slot) in id[..8].iter_mut().enumerate() {
        *slot = HEX[(boot >> (28 - 4 * i) & 0xf) as usize];
    }
    for (i, slot) in id[9..].iter_mut().enumerate() {
        *slot = HEX[(n >> (36 - 4 * i) & 0xf) as usize];
    }
    String::from_utf8_lossy(&id).into_owned()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A client's id is kept if it is short and printable; otherwise a new one is made.
pub(super) fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned)
}

/// Adds `"request_id"` to a JSON object body, so a client can quote it.
pub(super) async fn with_request_id(res: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let (req, response) = res.into_parts();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return ServiceResponse::new(req, response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let Ok(bytes) = actix_web::body::to_bytes(response.into_body()).await else {
        return ServiceResponse::new(req, HttpResponse::build(status).finish());
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.insert("request_id".into(), serde_json::Value::from(id));
            serde_json::to_vec(&object).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut rebuilt = HttpResponse::build(status).body(body);
    for (name, value) in &headers {
        if name != header::CONTENT_LENGTH {
            rebuilt.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_request_ids_are_boot_and_counter_in_fixed_width_hex() {
        let (a, b) = (new_request_id(), new_request_id());
        for id in [&a, &b] {
            assert_eq!(id.len(), 19, "{id}");
            assert_eq!(&id[8..9], "-");
            assert!(
                id.bytes()
                    .enumerate()
                    .all(|(i, c)| i == 8 || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
        }
        assert_eq!(a[..8], b[..8], "same boot part");
        let n = |id: &str| u64::from_str_radix(&id[9..], 16).unwrap();
        assert!(n(&b) > n(&a), "{a} then {b}");
    }
}
