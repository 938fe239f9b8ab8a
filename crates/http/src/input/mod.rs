//! Request input parsing compatible with the contract's validation errors (§1.6.1).
//!
//! Clients of the previous service rely on its 422 body: every problem of a request reported
//! together, each with `type`, `loc`, `msg`, `input` and sometimes `ctx`, plus lenient
//! coercion (numeric strings, `"yes"` booleans, integral floats). serde stops at the first
//! error and cannot coerce, so inputs are read from a `serde_json::Value` through [`Fields`],
//! which records every violation and yields typed values.
//!
//! A DTO implements [`Input`] by reading all its fields first (each read records its own
//! errors) and only then combining them, so one request reports all of its problems. Most
//! DTOs derive it (`#[derive(Input)]`, from `genonaut-input-derive`): the parser is generated
//! from the same field declarations (type, `#[schemars]` bounds, `#[serde]` default and name)
//! that document the input, so each is written once.

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
/// `#[derive(Input)]`: the parser generated from the declaration that documents the input.
pub use genonaut_input_derive::Input;

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

// The one type of a 422 list element: what the parser records, what the response serializes
// (the contract's shape) and what the OpenAPI document describes (its doc comments are the
// document's descriptions).
/// One request-validation problem.
#[derive(Debug, Clone, PartialEq, Serialize, apistos::JsonSchema)]
#[schemars(inline)]
pub struct FieldError {
    /// Machine-readable kind: `missing`, `int_parsing`, `string_too_short`, `enum`, …
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Location: `"body"`, `"query"` or `"path"`, then field names and list indexes.
    #[schemars(with = "Vec<Value>")]
    pub loc: Vec<LocPart>,
    /// Human-readable message.
    pub msg: String,
    /// The offending input.
    pub input: Value,
    /// Rule parameters (bounds, allowed values), when the rule has any.
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

#[cfg(test)]
mod derive_tests {
    use apistos::JsonSchema;
    use genonaut_domain::model::InteractionType;
    use serde_json::json;

    use super::*;
    use crate::dto::JsonObject;

    fn n_100() -> i64 {
        100
    }

    fn not_both(f: &mut Fields<'_>, flag: &bool, other: &Option<bool>) -> bool {
        if *flag && *other == Some(true) {
            f.value_error("other", "not both");
            return false;
        }
        true
    }

    /// Every kind of field the derive reads.
    #[derive(Debug, JsonSchema, Input)]
    #[input(check = not_both(flag, other))]
    #[expect(dead_code, reason = "read through Debug")]
    struct Derived {
        #[schemars(range(min = 1))]
        #[input(gt)]
        id: i64,
        #[schemars(range(min = 1, max = 5))]
        rating: Option<i32>,
        #[schemars(length(min = 1, max = 3))]
        name: String,
        #[schemars(with = "Option<String>")]
        kind: Option<InteractionType>,
        #[serde(default)]
        flag: bool,
        other: Option<bool>,
        #[serde(default = "n_100")]
        #[schemars(range(min = 1, max = 1000))]
        limit: i64,
        #[schemars(length(min = 1))]
        #[input(length(max = 2))]
        tags: Option<Vec<String>>,
        #[serde(rename = "meta")]
        metadata: Option<JsonObject>,
    }

    /// The same input written by hand with the `Fields` calls the derive must generate.
    #[derive(Debug)]
    #[expect(dead_code, reason = "read through Debug")]
    struct Hand {
        id: i64,
        rating: Option<i32>,
        name: String,
        kind: Option<InteractionType>,
        flag: bool,
        other: Option<bool>,
        limit: i64,
        tags: Option<Vec<String>>,
        metadata: Option<JsonObject>,
    }

    impl Input for Hand {
        fn parse(f: &mut Fields<'_>) -> Option<Self> {
            let id = f.int("id").gt(0).required();
            let rating = f.int("rating").ge(1).le(5).optional().map(|r| r as i32);
            let name = f.string("name").min_len(1).max_len(3).required();
            let kind = f.enumeration::<InteractionType>("kind").optional();
            let flag = f.boolean("flag").or(false);
            let other = f.boolean("other").optional();
            let limit = f.int("limit").ge(1).le(1000).or(100);
            let tags = f.string_list("tags").min_items(1).max_items(2).optional();
            let metadata = f.object("meta").optional();
            if !not_both(f, &flag, &other) {
                return None;
            }
            Some(Hand {
                id: id?,
                rating,
                name: name?,
                kind,
                flag,
                other,
                limit,
                tags,
                metadata,
            })
        }
    }

    #[test]
    fn the_derived_parser_reads_what_the_hand_written_one_reads() {
        let inputs = [
            json!({"id": 1, "name": "a"}),
            json!({"id": "7", "rating": 5, "name": "abc", "kind": "like", "flag": "yes", "limit": 1000,
                   "tags": ["x"], "meta": {"k": 1}}),
            json!({}),
            json!({"id": 0, "rating": 6, "name": "", "kind": "LIKE", "flag": null, "limit": 0, "tags": [],
                   "meta": [1]}),
            json!({"id": null, "rating": 0, "name": "abcd", "kind": 3, "flag": "maybe", "limit": 1001,
                   "tags": ["a", "b", "c"], "metadata": 5}),
            json!({"id": 1.5, "rating": 2.0, "name": 5, "limit": null, "tags": [1]}),
            json!({"id": 1, "name": "a", "flag": true, "other": true}),
            json!({"id": -1, "name": "a", "flag": true, "other": "t"}),
        ];
        for input in inputs {
            let Value::Object(map) = &input else {
                unreachable!()
            };
            let derived = parse_object::<Derived>(map, &input, vec!["body".into()]);
            let hand = parse_object::<Hand>(map, &input, vec!["body".into()]);
            let derived = format!("{derived:?}").replacen("Derived", "Hand", 1);
            assert_eq!(derived, format!("{hand:?}"), "{input}");
        }
    }
}
