//! The opaque `cursor` of the keyset-paged content listing: where the next page starts.
//!
//! Clients pass back the `next_cursor` of a page unchanged; its text is not part of the API.
//! Inside it is base64url (no padding) of `1:<created_at seconds>:<nanoseconds>:<id>` — a
//! version, then the [`ContentKey`] of the last item of the previous page. A new layout gets a
//! new version; an unknown version, bad base64 or a malformed key is a 422 at the parameter.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use genonaut_domain::ids::ContentId;
use genonaut_domain::model::ContentKey;
use serde_json::{Value, json};

use super::coerce::State;
use super::{Failure, Field, Fields};

/// The version written by [`encode`].
const VERSION: &str = "1";

/// The longest cursor read (a version-1 cursor is at most ~60 characters).
const MAX_LEN: usize = 200;

/// The cursor of the page that starts after `key`.
pub fn encode(key: ContentKey) -> String {
    let t = key.created_at.and_utc();
    let text = format!(
        "{VERSION}:{}:{}:{}",
        t.timestamp(),
        t.timestamp_subsec_nanos(),
        key.id.0
    );
    URL_SAFE_NO_PAD.encode(text)
}

/// The key a cursor written by [`encode`] holds; `None` for anything else.
pub fn decode(raw: &str) -> Option<ContentKey> {
    if raw.len() > MAX_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let mut parts = text.split(':');
    let (version, secs, nanos, id) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != VERSION || parts.next().is_some() {
        return None;
    }
    let digits = |s: &str| !s.is_empty() && s.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
    if !digits(secs) || !digits(nanos) || !digits(id) {
        return None;
    }
    let nanos: u32 = nanos.parse().ok().filter(|n| *n < 1_000_000_000)?;
    let created_at = chrono::DateTime::from_timestamp(secs.parse().ok()?, nanos)?.naive_utc();
    // Within what PostgreSQL's `timestamp` holds (and any cursor the server writes).
    if !(1..=9999).contains(&chrono::Datelike::year(&created_at)) {
        return None;
    }
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    Some(ContentKey {
        created_at,
        id: ContentId(id),
    })
}

/// Why a cursor is refused (a `value_error`, as the contract words custom rules).
fn refused() -> Failure {
    Failure {
        kind: "value_error",
        msg: "Value error, Invalid cursor: pass back the next_cursor of a previous page unchanged".into(),
        ctx: Some(json!({"error": {}})),
    }
}

impl<'a> Fields<'a> {
    /// A paging cursor (a string [`decode`] accepts); an empty string means no cursor (the
    /// first page, like `null`), so a client may send `cursor=` before it has one.
    pub fn cursor<'s>(&'s mut self, name: &'s str) -> Field<'s, ContentKey> {
        let field = self.custom(
            name,
            ("string_type", "Input should be a valid string"),
            |v| match v {
                Value::String(s) if s.is_empty() => Ok(None),
                Value::String(s) => decode(s).map(Some).ok_or_else(refused),
                _ => Err(refused()),
            },
        );
        let state = match field.state {
            State::Valid(Some(key)) => State::Valid(key),
            State::Valid(None) | State::Null => State::Null,
            State::Absent => State::Absent,
            State::Invalid => State::Invalid,
        };
        Field {
            errors: field.errors,
            base: field.base,
            name: field.name,
            raw: field.raw,
            whole: field.whole,
            null: field.null,
            state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secs: i64, nanos: u32, id: i64) -> ContentKey {
        ContentKey {
            created_at: chrono::DateTime::from_timestamp(secs, nanos).unwrap().naive_utc(),
            id: ContentId(id),
        }
    }

    #[test]
    fn a_cursor_round_trips_its_key_to_the_nanosecond() {
        for k in [
            key(1_752_300_000, 123_456_789, 42),
            key(0, 0, 1),
            key(-86_400, 1, i64::MAX),
        ] {
            let text = encode(k);
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(decode(&text), Some(k));
        }
    }

    #[test]
    fn malformed_cursors_are_refused() {
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        for bad in [
            String::new(),
            "not base64!".into(),
            b64("2:1752300000:0:42"),
            b64("1:1752300000:0"),
            b64("1:1752300000:0:42:7"),
            b64("1:1752300000:1000000000:42"),
            b64("1:1752300000:0:0"),
            b64("1:1752300000:0:-3"),
            b64("1:x:0:42"),
            b64("1:+5:0:42"),
            b64("1:99999999999999999:0:42"),
            b64("1:-62135596801:0:42"),
            b64("1:-300000000000:0:42"),
            b64("1:253402300800:0:42"),
            "A".repeat(MAX_LEN + 1),
        ] {
            assert_eq!(decode(&bad), None, "{bad:?}");
        }
    }
}
