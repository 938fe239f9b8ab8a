//! Idempotent submission: a client-chosen key makes a creating request safe to retry. The first
//! request with a key creates; a later one with the same key and the same request replays the
//! first answer; the same key with a different request is refused.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// How long a key is remembered (hours).
pub const IDEMPOTENCY_KEY_TTL_HOURS: i64 = 24;

/// Longest accepted key (characters).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A client's idempotency key within its scope (the API key, or one anonymous scope).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// Whose key it is (keys of different scopes never meet).
    pub scope: String,
    /// The key as sent.
    pub key: String,
}

impl IdempotencyKey {
    /// The key `key` of `scope`: 1–255 printable ASCII characters (space to `~`).
    ///
    /// ```
    /// use genonaut_domain::model::IdempotencyKey;
    /// assert!(IdempotencyKey::parse("anonymous", "order-42").is_ok());
    /// assert!(IdempotencyKey::parse("anonymous", "").is_err());
    /// assert!(IdempotencyKey::parse("anonymous", "caf\u{e9}").is_err());
    /// ```
    pub fn parse(scope: impl Into<String>, key: &str) -> Result<Self, String> {
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters long"
            ));
        }
        if !key.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err("Idempotency-Key must consist of printable ASCII characters".to_owned());
        }
        Ok(IdempotencyKey {
            scope: scope.into(),
            key: key.to_owned(),
        })
    }
}

/// A key together with the fingerprint of the request that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRequest {
    /// The key.
    pub key: IdempotencyKey,
    /// SHA-256 (hex) of the canonical request ([`fingerprint`]).
    pub fingerprint: String,
}

/// The outcome of an idempotent creation.
#[derive(Debug, Clone, PartialEq)]
pub enum Idempotent<T> {
    /// Created now.
    Created(T),
    /// Created by an earlier request with the same key: the value as it was then.
    Replayed(T),
}

impl<T> Idempotent<T> {
    /// Whether this is a replay.
    pub fn is_replayed(&self) -> bool {
        matches!(self, Idempotent::Replayed(_))
    }

    /// The value.
    pub fn into_inner(self) -> T {
        match self {
            Idempotent::Created(v) | Idempotent::Replayed(v) => v,
        }
    }

    /// The same outcome with the value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Idempotent<U> {
        match self {
            Idempotent::Created(v) => Idempotent::Created(f(v)),
            Idempotent::Replayed(v) => Idempotent::Replayed(f(v)),
        }
    }
}

/// SHA-256 (hex) of `operation` and `request` in canonical JSON (object keys sorted, no
/// whitespace), so key order and formatting do not matter.
pub fn fingerprint(operation: &str, request: &Value) -> String {
    let mut text = String::from(operation);
    text.push('\n');
    canonical(request, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_printable_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("s", &"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("s", &"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("s", "tab\there").is_err());
        assert_eq!(
            IdempotencyKey::parse("s", "a b~").map(|k| k.key),
            Ok("a b~".to_owned())
        );
    }

    #[test]
    fn fingerprints_ignore_key_order_but_not_values_or_operation() {
        let a = json!({"x": 1, "p": {"b": [1, {"d": 2, "c": 3}], "a": null}});
        let b = json!({"p": {"a": null, "b": [1, {"c": 3, "d": 2}]}, "x": 1});
        assert_eq!(fingerprint("op", &a), fingerprint("op", &b));
        assert_ne!(fingerprint("op", &a), fingerprint("other", &a));
        assert_ne!(fingerprint("op", &a), fingerprint("op", &json!({"x": 2})));
        assert_eq!(fingerprint("op", &a).len(), 64);
    }
}
