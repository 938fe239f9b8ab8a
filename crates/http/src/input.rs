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

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value, json};

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
    genonaut_domain::model::Feedback
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

/// The fields of one JSON object (a body, a nested object, the query string or the path), with
/// the problems found so far.
pub struct Fields<'a> {
    values: &'a Map<String, Value>,
    multi: Option<&'a HashMap<String, Vec<String>>>,
    whole: &'a Value,
    base: Vec<LocPart>,
    errors: Vec<FieldError>,
    /// The names looked up so far: the fields this input knows (unknown ones are ignored).
    touched: Vec<String>,
}

impl<'a> Fields<'a> {
    /// Fields of `object`, located under `base` (e.g. `["body"]`).
    pub fn new(object: &'a Map<String, Value>, whole: &'a Value, base: Vec<LocPart>) -> Self {
        Fields {
            values: object,
            multi: None,
            whole,
            base,
            errors: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Query-string fields: the last value of each key, all values for list fields.
    pub fn query(
        last: &'a Map<String, Value>,
        all: &'a HashMap<String, Vec<String>>,
        whole: &'a Value,
    ) -> Self {
        Fields {
            values: last,
            multi: Some(all),
            whole,
            base: vec!["query".into()],
            errors: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// The problems recorded.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    /// Whether any problem was recorded.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The names the input looked up, in order (each once).
    pub fn touched(&self) -> &[String] {
        &self.touched
    }

    /// The raw value of field `name`, remembered as a known field.
    fn get(&mut self, name: &str) -> Option<&'a Value> {
        if !self.touched.iter().any(|t| t == name) {
            self.touched.push(name.to_owned());
        }
        self.values.get(name)
    }

    /// Records a problem with field `name` (a custom rule).
    pub fn fail(&mut self, name: &str, kind: &'static str, msg: impl Into<String>, ctx: Option<Value>) {
        let input = self.get(name).cloned().unwrap_or(Value::Null);
        let loc = field_loc(&self.base, name);
        self.errors.push(FieldError {
            kind,
            loc,
            msg: msg.into(),
            input,
            ctx,
        });
    }

    /// Records a `value_error` (a domain rule) for field `name`.
    pub fn value_error(&mut self, name: &str, message: impl fmt::Display) {
        self.fail(
            name,
            "value_error",
            format!("Value error, {message}"),
            Some(json!({"error": {}})),
        );
    }

    /// Runs a domain parser on a value already read; a failure is recorded as `value_error`
    /// (or with the kind/ctx the parser's error maps to) at field `name`.
    pub fn validate<T, U, E: fmt::Display>(
        &mut self,
        name: &str,
        value: Option<T>,
        parse: impl FnOnce(T) -> Result<U, E>,
    ) -> Option<U> {
        match parse(value?) {
            Ok(u) => Some(u),
            Err(e) => {
                self.value_error(name, e);
                None
            }
        }
    }

    fn field<'s, T>(
        &'s mut self,
        name: &'s str,
        null: (&'static str, &'static str),
        parse: impl FnOnce(&Value) -> Result<T, Failure>,
    ) -> Field<'s, T> {
        let raw = self.get(name);
        let state = match raw {
            None => State::Absent,
            Some(Value::Null) => State::Null,
            Some(v) => match parse(v) {
                Ok(t) => State::Valid(t),
                Err(f) => {
                    self.errors.push(FieldError {
                        kind: f.kind,
                        loc: field_loc(&self.base, name),
                        msg: f.msg,
                        input: v.clone(),
                        ctx: f.ctx,
                    });
                    State::Invalid
                }
            },
        };
        Field {
            errors: &mut self.errors,
            base: &self.base,
            name,
            raw: raw.map(Cow::Borrowed),
            whole: self.whole,
            null,
            state,
        }
    }

    /// A field read by a custom parser (`null` counts as the error `null`).
    pub fn custom<'s, T>(
        &'s mut self,
        name: &'s str,
        null: (&'static str, &'static str),
        parse: impl FnOnce(&Value) -> Result<T, Failure>,
    ) -> Field<'s, T> {
        self.field(name, null, parse)
    }

    /// An integer (JSON integer, integral float, numeric string, boolean).
    pub fn int<'s>(&'s mut self, name: &'s str) -> Field<'s, i64> {
        self.field(name, INT_TYPE, coerce_int)
    }

    /// A number (JSON number, numeric string, boolean); must be finite.
    pub fn float<'s>(&'s mut self, name: &'s str) -> Field<'s, f64> {
        self.field(name, FLOAT_TYPE, coerce_float)
    }

    /// A boolean (`true/false`, `1/0`, `yes/no`, `on/off`, `t/f`, `y/n`, any case).
    pub fn boolean<'s>(&'s mut self, name: &'s str) -> Field<'s, bool> {
        self.field(name, BOOL_TYPE, coerce_bool)
    }

    /// A string (must be a JSON string).
    pub fn string<'s>(&'s mut self, name: &'s str) -> Field<'s, String> {
        self.field(name, STRING_TYPE, |v| match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(Failure::of(STRING_TYPE)),
        })
    }

    /// A JSON object.
    pub fn object<'s>(&'s mut self, name: &'s str) -> Field<'s, Map<String, Value>> {
        self.field(name, DICT_TYPE, |v| match v {
            Value::Object(m) => Ok(m.clone()),
            _ => Err(Failure::of(DICT_TYPE)),
        })
    }

    /// One of a closed set of strings.
    pub fn enumeration<'s, E: InputEnum>(&'s mut self, name: &'s str) -> Field<'s, E> {
        // The list of allowed values is only spelled out for an error.
        let failure = || {
            let expected = E::expected();
            Failure {
                kind: "enum",
                msg: format!("Input should be {expected}"),
                ctx: Some(json!({ "expected": expected })),
            }
        };
        let null_failure = ("enum", "Input should be one of the allowed values");
        self.field(name, null_failure, move |v| match v {
            Value::String(s) => E::parse_input(s).ok_or_else(failure),
            _ => Err(failure()),
        })
    }

    /// A list of strings (a JSON array, or every occurrence of a repeated query parameter).
    pub fn string_list<'s>(&'s mut self, name: &'s str) -> Field<'s, Vec<String>> {
        self.list(name, |v| match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(Failure::of(STRING_TYPE)),
        })
    }

    /// A list of integers.
    pub fn int_list<'s>(&'s mut self, name: &'s str) -> Field<'s, Vec<i64>> {
        self.list(name, coerce_int)
    }

    fn list<'s, T>(
        &'s mut self,
        name: &'s str,
        item: impl Fn(&Value) -> Result<T, Failure>,
    ) -> Field<'s, Vec<T>> {
        let from_query: Option<Value> = self
            .multi
            .and_then(|m| m.get(name))
            .map(|all| Value::Array(all.iter().cloned().map(Value::String).collect()));
        let raw: Option<Cow<'s, Value>> = from_query
            .map(Cow::Owned)
            .or_else(|| self.get(name).map(Cow::Borrowed));
        let state = match raw.as_deref() {
            None => State::Absent,
            Some(Value::Null) => State::Null,
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                let mut failed = false;
                for (i, v) in items.iter().enumerate() {
                    match item(v) {
                        Ok(t) => out.push(t),
                        Err(f) => {
                            failed = true;
                            let mut item_loc = field_loc(&self.base, name);
                            item_loc.push(LocPart::Index(i));
                            self.errors.push(FieldError {
                                kind: f.kind,
                                loc: item_loc,
                                msg: f.msg,
                                input: v.clone(),
                                ctx: f.ctx,
                            });
                        }
                    }
                }
                if failed { State::Invalid } else { State::Valid(out) }
            }
            Some(other) => {
                self.errors.push(FieldError {
                    kind: LIST_TYPE.0,
                    loc: field_loc(&self.base, name),
                    msg: LIST_TYPE.1.into(),
                    input: other.clone(),
                    ctx: None,
                });
                State::Invalid
            }
        };
        Field {
            errors: &mut self.errors,
            base: &self.base,
            name,
            raw,
            whole: self.whole,
            null: LIST_TYPE,
            state,
        }
    }

    /// A list of nested objects, each read with `T`'s [`Input`]; problems are located at
    /// `[…, name, index, field]`. `min`/`max` bound the number of items.
    pub fn object_list<T: Input>(&mut self, name: &str, min: usize, max: usize) -> Option<Vec<T>> {
        let loc = field_loc(&self.base, name);
        let Some(raw) = self.get(name) else {
            self.errors.push(FieldError::at(
                loc,
                "missing",
                "Field required",
                self.whole.clone(),
            ));
            return None;
        };
        let Value::Array(items) = raw else {
            self.errors
                .push(FieldError::at(loc, LIST_TYPE.0, LIST_TYPE.1, raw.clone()));
            return None;
        };
        if items.len() < min {
            let noun = if min == 1 { "item" } else { "items" };
            self.errors.push(
                FieldError::at(
                    loc,
                    "too_short",
                    format!(
                        "List should have at least {min} {noun} after validation, not {}",
                        items.len()
                    ),
                    raw.clone(),
                )
                .with_ctx(json!({"field_type": "List", "min_length": min, "actual_length": items.len()})),
            );
            return None;
        }
        if items.len() > max {
            self.errors.push(
                FieldError::at(
                    loc,
                    "too_long",
                    format!(
                        "List should have at most {max} items after validation, not {}",
                        items.len()
                    ),
                    raw.clone(),
                )
                .with_ctx(json!({"field_type": "List", "max_length": max, "actual_length": items.len()})),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let mut item_loc = loc.clone();
            item_loc.push(LocPart::Index(i));
            match item {
                Value::Object(map) => {
                    let mut nested = Fields::new(map, item, item_loc);
                    let parsed = T::parse(&mut nested);
                    self.errors.extend(nested.errors);
                    out.extend(parsed);
                }
                other => self.errors.push(FieldError::at(
                    item_loc,
                    MODEL_TYPE.0,
                    MODEL_TYPE.1,
                    other.clone(),
                )),
            }
        }
        (out.len() == items.len()).then_some(out)
    }
}

/// `(type, msg)` of the error for a value of the wrong JSON type.
type TypeError = (&'static str, &'static str);
const INT_TYPE: TypeError = ("int_type", "Input should be a valid integer");
const FLOAT_TYPE: TypeError = ("float_type", "Input should be a valid number");
const BOOL_TYPE: TypeError = ("bool_type", "Input should be a valid boolean");
const STRING_TYPE: TypeError = ("string_type", "Input should be a valid string");
const DICT_TYPE: TypeError = ("dict_type", "Input should be a valid dictionary");
const LIST_TYPE: TypeError = ("list_type", "Input should be a valid list");
/// The body (or a list element) is not a JSON object.
pub const MODEL_TYPE: TypeError = (
    "model_attributes_type",
    "Input should be a valid dictionary or object to extract fields from",
);

/// Why a value is rejected by a custom reader: `type`, `msg` and optional `ctx`.
pub struct Failure {
    /// Error kind.
    pub kind: &'static str,
    /// Message.
    pub msg: String,
    /// Rule parameters.
    pub ctx: Option<Value>,
}

impl Failure {
    fn of((kind, msg): TypeError) -> Self {
        Failure {
            kind,
            msg: msg.to_owned(),
            ctx: None,
        }
    }
}

fn parse_int_str(s: &str) -> Result<i64, Failure> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(i);
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(f as i64),
        _ if !t.is_empty()
            && t.trim_start_matches(['+', '-'])
                .bytes()
                .all(|b| b.is_ascii_digit()) =>
        {
            Err(Failure {
                kind: "int_parsing_size",
                msg: "Unable to parse input string as an integer, exceeded maximum size".into(),
                ctx: None,
            })
        }
        _ => Err(Failure {
            kind: "int_parsing",
            msg: "Input should be a valid integer, unable to parse string as an integer".into(),
            ctx: None,
        }),
    }
}

fn coerce_int(v: &Value) -> Result<i64, Failure> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else if let Some(f) = n.as_f64() {
                if f.fract() != 0.0 {
                    Err(Failure {
                        kind: "int_from_float",
                        msg: "Input should be a valid integer, got a number with a fractional part".into(),
                        ctx: None,
                    })
                } else if f.abs() < 9.2e18 {
                    Ok(f as i64)
                } else {
                    Err(Failure {
                        kind: "int_parsing_size",
                        msg: "Unable to parse input as an integer, exceeded maximum size".into(),
                        ctx: None,
                    })
                }
            } else {
                Err(Failure::of(INT_TYPE))
            }
        }
        Value::String(s) => parse_int_str(s),
        Value::Bool(b) => Ok(i64::from(*b)),
        _ => Err(Failure::of(INT_TYPE)),
    }
}

fn coerce_float(v: &Value) -> Result<f64, Failure> {
    let f = match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| Failure::of(FLOAT_TYPE))?,
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| Failure {
            kind: "float_parsing",
            msg: "Input should be a valid number, unable to parse string as a number".into(),
            ctx: None,
        })?,
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => return Err(Failure::of(FLOAT_TYPE)),
    };
    if f.is_finite() {
        Ok(f)
    } else {
        Err(Failure {
            kind: "finite_number",
            msg: "Input should be a finite number".into(),
            ctx: None,
        })
    }
}

fn coerce_bool(v: &Value) -> Result<bool, Failure> {
    let parsing = || Failure {
        kind: "bool_parsing",
        msg: "Input should be a valid boolean, unable to interpret input".into(),
        ctx: None,
    };
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            _ => Err(parsing()),
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "t" | "y" | "1" => Ok(true),
            "false" | "no" | "off" | "f" | "n" | "0" => Ok(false),
            _ => Err(parsing()),
        },
        _ => Err(Failure::of(BOOL_TYPE)),
    }
}

enum State<T> {
    Absent,
    Null,
    Valid(T),
    Invalid,
}

/// One field being read: constraints apply only to valid values; a finisher says whether the
/// field is required, optional or defaulted.
///
/// It borrows the request's values: the error location and input are only built when a
/// problem is recorded.
pub struct Field<'e, T> {
    errors: &'e mut Vec<FieldError>,
    base: &'e [LocPart],
    name: &'e str,
    raw: Option<Cow<'e, Value>>,
    whole: &'e Value,
    null: TypeError,
    state: State<T>,
}

impl<T> Field<'_, T> {
    fn loc(&self) -> Vec<LocPart> {
        field_loc(self.base, self.name)
    }

    fn violate(&mut self, kind: &'static str, msg: String, ctx: Option<Value>) {
        self.errors.push(FieldError {
            kind,
            loc: self.loc(),
            msg,
            input: self.raw.as_deref().cloned().unwrap_or(Value::Null),
            ctx,
        });
        self.state = State::Invalid;
    }

    /// Applies a custom rule: `Err((kind, msg, ctx))` records a violation.
    pub fn check(
        mut self,
        rule: impl FnOnce(&T) -> Result<(), (&'static str, String, Option<Value>)>,
    ) -> Self {
        if let State::Valid(v) = &self.state
            && let Err((kind, msg, ctx)) = rule(v)
        {
            self.violate(kind, msg, ctx);
        }
        self
    }

    fn null_error(&mut self) {
        let (kind, msg) = self.null;
        self.violate(kind, msg.to_owned(), None);
    }

    /// Required: absent → `missing`; `null` → the type error.
    pub fn required(mut self) -> Option<T> {
        match std::mem::replace(&mut self.state, State::Invalid) {
            State::Absent => {
                self.errors.push(FieldError {
                    kind: "missing",
                    loc: self.loc(),
                    msg: "Field required".into(),
                    input: self.whole.clone(),
                    ctx: None,
                });
                None
            }
            State::Null => {
                self.null_error();
                None
            }
            State::Valid(v) => Some(v),
            State::Invalid => None,
        }
    }

    /// Optional and nullable: absent or `null` → `None`.
    pub fn optional(mut self) -> Option<T> {
        match std::mem::replace(&mut self.state, State::Invalid) {
            State::Valid(v) => Some(v),
            _ => None,
        }
    }

    /// Optional with a default; an explicit `null` is a type error.
    pub fn or(mut self, default: T) -> T {
        match std::mem::replace(&mut self.state, State::Invalid) {
            State::Valid(v) => v,
            State::Null => {
                self.null_error();
                default
            }
            _ => default,
        }
    }

    /// Optional with a default; `null` also means the default.
    pub fn nullable_or(self, default: T) -> T {
        self.optional().unwrap_or(default)
    }
}

impl Field<'_, i64> {
    /// `> bound`.
    pub fn gt(self, bound: i64) -> Self {
        self.check(|v| {
            if *v > bound {
                Ok(())
            } else {
                Err((
                    "greater_than",
                    format!("Input should be greater than {bound}"),
                    Some(json!({"gt": bound})),
                ))
            }
        })
    }

    /// `>= bound`.
    pub fn ge(self, bound: i64) -> Self {
        self.check(|v| {
            if *v >= bound {
                Ok(())
            } else {
                Err((
                    "greater_than_equal",
                    format!("Input should be greater than or equal to {bound}"),
                    Some(json!({"ge": bound})),
                ))
            }
        })
    }

    /// `<= bound`.
    pub fn le(self, bound: i64) -> Self {
        self.check(|v| {
            if *v <= bound {
                Ok(())
            } else {
                Err((
                    "less_than_equal",
                    format!("Input should be less than or equal to {bound}"),
                    Some(json!({"le": bound})),
                ))
            }
        })
    }
}

/// A float bound printed as the contract does: shortest form in the message, float in `ctx`.
fn short(bound: f64) -> String {
    if bound.fract() == 0.0 {
        format!("{}", bound as i64)
    } else {
        format!("{bound}")
    }
}

impl Field<'_, f64> {
    /// `>= bound`.
    pub fn ge(self, bound: f64) -> Self {
        self.check(|v| {
            if *v >= bound {
                Ok(())
            } else {
                Err((
                    "greater_than_equal",
                    format!("Input should be greater than or equal to {}", short(bound)),
                    Some(json!({"ge": bound})),
                ))
            }
        })
    }

    /// `<= bound`.
    pub fn le(self, bound: f64) -> Self {
        self.check(|v| {
            if *v <= bound {
                Ok(())
            } else {
                Err((
                    "less_than_equal",
                    format!("Input should be less than or equal to {}", short(bound)),
                    Some(json!({"le": bound})),
                ))
            }
        })
    }
}

impl Field<'_, String> {
    /// At least `n` characters.
    pub fn min_len(self, n: usize) -> Self {
        self.check(|s| {
            if s.chars().count() >= n {
                Ok(())
            } else {
                let unit = if n == 1 { "character" } else { "characters" };
                Err((
                    "string_too_short",
                    format!("String should have at least {n} {unit}"),
                    Some(json!({"min_length": n})),
                ))
            }
        })
    }

    /// At most `n` characters.
    pub fn max_len(self, n: usize) -> Self {
        self.check(|s| {
            if s.chars().count() <= n {
                Ok(())
            } else {
                let unit = if n == 1 { "character" } else { "characters" };
                Err((
                    "string_too_long",
                    format!("String should have at most {n} {unit}"),
                    Some(json!({"max_length": n})),
                ))
            }
        })
    }

    /// Must match `pattern` (described by its source text, tested by `matches`).
    pub fn pattern(self, pattern: &'static str, matches: impl FnOnce(&str) -> bool) -> Self {
        self.check(|s| {
            if matches(s) {
                Ok(())
            } else {
                Err((
                    "string_pattern_mismatch",
                    format!("String should match pattern '{pattern}'"),
                    Some(json!({"pattern": pattern})),
                ))
            }
        })
    }
}

impl<T> Field<'_, Vec<T>> {
    /// At least `n` items.
    pub fn min_items(self, n: usize) -> Self {
        self.check(|items| {
            if items.len() >= n {
                Ok(())
            } else {
                let noun = if n == 1 { "item" } else { "items" };
                Err((
                    "too_short",
                    format!(
                        "List should have at least {n} {noun} after validation, not {}",
                        items.len()
                    ),
                    Some(json!({"field_type": "List", "min_length": n, "actual_length": items.len()})),
                ))
            }
        })
    }

    /// At most `n` items.
    pub fn max_items(self, n: usize) -> Self {
        self.check(|items| {
            if items.len() <= n {
                Ok(())
            } else {
                Err((
                    "too_long",
                    format!(
                        "List should have at most {n} items after validation, not {}",
                        items.len()
                    ),
                    Some(json!({"field_type": "List", "max_length": n, "actual_length": items.len()})),
                ))
            }
        })
    }
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
