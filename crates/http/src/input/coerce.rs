//! Lenient coercion as the previous service did it (numeric strings, `"yes"` booleans,
//! integral floats), and the `(type, msg)` of each wrong-type error.

use serde_json::Value;

/// `(type, msg)` of the error for a value of the wrong JSON type.
pub(super) type TypeError = (&'static str, &'static str);
pub(super) const INT_TYPE: TypeError = ("int_type", "Input should be a valid integer");
pub(super) const FLOAT_TYPE: TypeError = ("float_type", "Input should be a valid number");
pub(super) const BOOL_TYPE: TypeError = ("bool_type", "Input should be a valid boolean");
pub(super) const STRING_TYPE: TypeError = ("string_type", "Input should be a valid string");
pub(super) const DICT_TYPE: TypeError = ("dict_type", "Input should be a valid dictionary");
pub(super) const LIST_TYPE: TypeError = ("list_type", "Input should be a valid list");
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
    pub(super) fn of((kind, msg): TypeError) -> Self {
        Failure {
            kind,
            msg: msg.to_owned(),
            ctx: None,
        }
    }
}

pub(super) fn parse_int_str(s: &str) -> Result<i64, Failure> {
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

pub(super) fn coerce_int(v: &Value) -> Result<i64, Failure> {
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

pub(super) fn coerce_float(v: &Value) -> Result<f64, Failure> {
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

pub(super) fn coerce_bool(v: &Value) -> Result<bool, Failure> {
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

pub(super) enum State<T> {
    Absent,
    Null,
    Valid(T),
    Invalid,
}
