//! [`Field`]: one field being read — its constraints (bounds, lengths, patterns) and whether
//! it is required, optional or defaulted.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::*;

/// One field being read: constraints apply only to valid values; a finisher says whether the
/// field is required, optional or defaulted.
///
/// It borrows the request's values: the error location and input are only built when a
/// problem is recorded.
pub struct Field<'e, T> {
    pub(super) errors: &'e mut Vec<FieldError>,
    pub(super) base: &'e [LocPart],
    pub(super) name: &'e str,
    pub(super) raw: Option<Cow<'e, Value>>,
    pub(super) whole: &'e Value,
    pub(super) null: TypeError,
    pub(super) state: State<T>,
}

impl<T> Field<'_, T> {
    pub(super) fn loc(&self) -> Vec<LocPart> {
        field_loc(self.base, self.name)
    }

    pub(super) fn violate(&mut self, kind: &'static str, msg: String, ctx: Option<Value>) {
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

    pub(super) fn null_error(&mut self) {
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
pub(super) fn short(bound: f64) -> String {
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
