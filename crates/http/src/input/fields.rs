//! [`Fields`]: one JSON object's fields, read one by one, with every problem recorded.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value, json};

use super::*;

/// The fields of one JSON object (a body, a nested object, the query string or the path), with
/// the problems found so far.
pub struct Fields<'a> {
    pub(super) values: &'a Map<String, Value>,
    pub(super) multi: Option<&'a HashMap<String, Vec<String>>>,
    pub(super) whole: &'a Value,
    pub(super) base: Vec<LocPart>,
    pub(super) errors: Vec<FieldError>,
    /// The names looked up so far: the fields this input knows (unknown ones are ignored).
    pub(super) touched: Vec<String>,
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
    pub(super) fn get(&mut self, name: &str) -> Option<&'a Value> {
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

    pub(super) fn field<'s, T>(
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

    pub(super) fn list<'s, T>(
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
