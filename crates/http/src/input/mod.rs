//! Request input parsing compatible with the contract's validation errors (§1.6.1).
//!
//! Clients of the previous service rely on its 422 body: every problem of a request reported
//! together, each with `type`, `loc`, `msg`, `input` and sometimes `ctx`, plus lenient
//! coercion (numeric strings, `"yes"` booleans, integral floats). serde stops at the first
//! error and cannot coerce, so inputs are read from a `serde_json::Value` through [`Fields`],
//! which records every violation and yields typed values.
//!
//! A DTO implements [`Input`] by reading all its fields first (each read records its own
//! errors) and only then combining them, so one request reports all of its problems.

use serde::Serialize;
use serde_json::{Map, Value};

mod coerce;
pub mod cursor;
mod field;
mod fields;

use coerce::*;
pub use coerce::{Failure, MODEL_TYPE};
pub use field::Field;
pub use fields::Fields;

/// One element of an error location: a field name or a list index.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LocPart {
    /// Field or source name (`"body"`, `"query"`, `"path"`, `"username"`).
    Key(String),
    /// Position in a list (or character offset of a JSON syntax error).
    Index(usize),
}

impl From<&str> for LocPart {
    fn from(value: &str) -> Self {
        LocPart::Key(value.to_owned())
    }
}

/// One validation problem, serialized exactly as the contract's 422 list element.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// Machine-readable kind (`missing`, `int_parsing`, …).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Where the problem is.
    pub loc: Vec<LocPart>,
    /// Human-readable message.
    pub msg: String,
    /// The offending input.
    pub input: Value,
    /// Parameters of the rule (bounds, expected values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

impl FieldError {
    /// A problem with the request as a whole (located at `["body"]` etc.).
    pub fn at(loc: Vec<LocPart>, kind: &'static str, msg: impl Into<String>, input: Value) -> Self {
        FieldError {
            kind,
            loc,
            msg: msg.into(),
            input,
            ctx: None,
        }
    }

    /// Adds the rule parameters.
    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(ctx);
        self
    }
}

/// A closed set of string values accepted by an input (`enum` errors list them).
pub trait InputEnum: Sized {
    /// Parses an exact spelling.
    fn parse_input(raw: &str) -> Option<Self>;
    /// `'a', 'b', 'c' or 'd'`.
    fn expected() -> String;
}

/// Formats `['a', 'b', 'c']` as `'a', 'b' or 'c'`.
pub fn expected_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

macro_rules! input_enum {
    ($($ty:ty),*) => {$(
        impl InputEnum for $ty {
            fn parse_input(raw: &str) -> Option<Self> {
                <$ty>::parse(raw)
            }
            fn expected() -> String {
                expected_list(&<$ty>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>())
            }
        }
    )*};
}
input_enum!(
    genonaut_domain::model::ContentType,
    genonaut_domain::model::InteractionType,
    genonaut_domain::model::Feedback,
    genonaut_domain::model::Scope
);

/// `base` followed by field `name`.
fn field_loc(base: &[LocPart], name: &str) -> Vec<LocPart> {
    let mut loc = Vec::with_capacity(base.len() + 1);
    loc.extend_from_slice(base);
    loc.push(name.into());
    loc
}

/// A DTO that can be read from request input.
pub trait Input: Sized {
    /// Reads every field from `fields`, recording problems there; `None` if any failed.
    fn parse(fields: &mut Fields<'_>) -> Option<Self>;

    /// A shortcut for plain string input (path segments), given each field's raw value:
    /// `Some` only where [`parse`](Self::parse) would read exactly the same value; `None` sends
    /// the input through `parse`, which words any problem.
    fn plain<'v>(_raw: &dyn Fn(&str) -> Option<&'v str>) -> Option<Self> {
        None
    }

    /// The same shortcut for a JSON object body (`body` starts with `{`): `Some` only where
    /// `parse` would read exactly the same value and the body has nothing that cannot be
    /// stored; anything unusual goes through `parse`.
    fn plain_json(_body: &[u8]) -> Option<Self> {
        None
    }
}

/// A string of ASCII digits (at most 18, so it fits an `i64`) as the integer it spells.
pub fn plain_int(raw: &str) -> Option<i64> {
    if raw.is_empty() || raw.len() > 18 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// Parses a whole input object with `T`, or returns every problem found.
pub fn parse_object<T: Input>(
    object: &Map<String, Value>,
    whole: &Value,
    base: Vec<LocPart>,
) -> Result<T, Vec<FieldError>> {
    let mut fields = Fields::new(object, whole, base);
    let parsed = T::parse(&mut fields);
    match parsed {
        Some(t) if !fields.has_errors() => Ok(t),
        _ => Err(fields.into_errors()),
    }
}
