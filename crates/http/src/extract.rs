//! Extractors that read bodies, query strings and paths through [`Input`], so every handler
//! gets typed, validated values or the request is answered with the contract's 422 list.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use apistos::paths::{Parameter, RequestBody};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::input::{FieldError, Fields, Input, LocPart, MODEL_TYPE, parse_object};

/// Default maximum request body size (bytes); configure with [`BodyLimit`].
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Maximum request body size, as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Marks an input whose whole body may be omitted (then it reads as `{}`).
pub trait OptionalBody {}

/// A JSON body read with `T`'s [`Input`].
#[derive(Debug)]
pub struct Body<T>(pub T);

/// The query string read with `T`'s [`Input`].
#[derive(Debug)]
pub struct Query<T>(pub T);

/// The path parameters read with `T`'s [`Input`].
#[derive(Debug)]
pub struct Path<T>(pub T);

/// A body whose absence is allowed.
#[derive(Debug)]
pub struct MaybeBody<T>(pub T);

fn is_json(req: &HttpRequest) -> Result<bool, ()> {
    match req.headers().get(CONTENT_TYPE) {
        None => Ok(true),
        Some(value) => {
            let value = value.to_str().map_err(|_| ())?;
            let essence = value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            Ok(essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json")))
        }
    }
}

/// Character offset of a JSON syntax error (what the previous service reported).
fn char_offset(body: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, text) in body.split('\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(text.chars().count());
        }
        offset += text.chars().count() + 1;
    }
    offset
}

fn body_error(error: FieldError) -> ApiError {
    ApiError::Validation(vec![error])
}

/// Reads and validates a body. `optional` bodies may be empty.
async fn read_body<T: Input>(req: HttpRequest, mut payload: Payload, optional: bool) -> Result<T, ApiError> {
    let limit = req.app_data::<BodyLimit>().map_or(DEFAULT_BODY_LIMIT, |l| l.0);
    let json = is_json(&req).unwrap_or(false);
    let bytes = web::Bytes::from_request(&req, &mut payload).await.map_err(|e| {
        let overflow = matches!(e.as_error::<PayloadError>(), Some(PayloadError::Overflow))
            || matches!(
                e.as_error::<JsonPayloadError>(),
                Some(JsonPayloadError::Overflow { .. })
            )
            || e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE;
        if overflow {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::BadRequest("The request body could not be read".into())
        }
    })?;
    if bytes.len() > limit {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let body_loc = || vec![LocPart::from("body")];
    if !json {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        return Err(body_error(FieldError::at(
            body_loc(),
            MODEL_TYPE.0,
            MODEL_TYPE.1,
            Value::String(text),
        )));
    }
    read_json(&bytes, optional)
}

/// A JSON body (already read, within the limit) through `T`'s shortcut or its full pass.
fn read_json<T: Input>(bytes: &[u8], optional: bool) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && let Some(plain) = T::plain_json(bytes)
    {
        return Ok(plain);
    }
    read_json_value(bytes, optional)
}

/// The full pass: the body as a JSON value, checked for what cannot be stored, then read
/// field by field with every problem recorded.
fn read_json_value<T: Input>(bytes: &[u8], optional: bool) -> Result<T, ApiError> {
    let body_loc = || vec![LocPart::from("body")];
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        if optional {
            Value::Object(Map::new())
        } else {
            return Err(body_error(FieldError::at(
                body_loc(),
                "missing",
                "Field required",
                Value::Null,
            )));
        }
    } else {
        serde_json::from_slice(bytes).map_err(|e| {
            let text = String::from_utf8_lossy(bytes);
            let offset = char_offset(&text, e.line(), e.column());
            body_error(
                FieldError::at(
                    vec!["body".into(), LocPart::Index(offset)],
                    "json_invalid",
                    "JSON decode error",
                    json!({}),
                )
                .with_ctx(json!({ "error": e.to_string() })),
            )
        })?
    };
    let Value::Object(object) = &value else {
        return Err(body_error(FieldError::at(
            body_loc(),
            MODEL_TYPE.0,
            MODEL_TYPE.1,
            value,
        )));
    };
    let mut fields = Fields::new(object, &value, body_loc());
    let parsed = T::parse(&mut fields);
    // Only the fields `T` knows are stored; unknown ones are ignored whatever they hold (§1.2).
    let unstorable_known = fields.touched().iter().find_map(|name| {
        let mut below = unstorable(object.get(name)?)?;
        below.push(LocPart::Key(name.clone()));
        Some(with_path(body_loc(), below))
    });
    if let Some(loc) = unstorable_known {
        return Err(ApiError::Validation(vec![nul_error(loc)]));
    }
    match parsed {
        Some(t) if !fields.has_errors() => Ok(t),
        _ => Err(ApiError::Validation(fields.into_errors())),
    }
}

/// Where in an object a value cannot be stored and read back ([`unstorable`]), located
/// below `base`.
fn find_nul_in(map: &Map<String, Value>, base: Vec<LocPart>) -> Option<Vec<LocPart>> {
    unstorable_in(map).map(|below| with_path(base, below))
}

fn with_path(mut base: Vec<LocPart>, mut reversed: Vec<LocPart>) -> Vec<LocPart> {
    reversed.reverse();
    base.append(&mut reversed);
    base
}

/// The path (innermost first) to the first value that cannot be stored and read back: a
/// string (or object key) with a NUL character, which PostgreSQL rejects, or a number beyond
/// ±1e300. Nothing is allocated unless one is found.
fn unstorable(value: &Value) -> Option<Vec<LocPart>> {
    match value {
        Value::String(text) => text.contains('\0').then(Vec::new),
        // PostgreSQL prints huge JSONB numbers as long digit strings that JSON parsers (ours
        // included) cannot read back as numbers; nothing legitimate is that large.
        Value::Number(n) => n.as_f64().is_some_and(|x| x.abs() > 1e300).then(Vec::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let mut path = unstorable(v)?;
            path.push(LocPart::Index(i));
            Some(path)
        }),
        Value::Object(map) => unstorable_in(map),
        _ => None,
    }
}

pub(crate) fn unstorable_in(map: &Map<String, Value>) -> Option<Vec<LocPart>> {
    map.iter().find_map(|(k, v)| {
        let mut path = if k.contains('\0') {
            Vec::new()
        } else {
            unstorable(v)?
        };
        path.push(LocPart::Key(k.clone()));
        Some(path)
    })
}

fn nul_error(loc: Vec<LocPart>) -> FieldError {
    FieldError::at(
        loc,
        "value_error",
        "Value error, text may not contain NUL (\\u0000) characters and numbers must be within ±1e300",
        Value::Null,
    )
}

impl<T: Input + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move { read_body(req, payload, false).await.map(Body) })
    }
}

impl<T: Input + OptionalBody + 'static> FromRequest for MaybeBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move { read_body(req, payload, true).await.map(MaybeBody) })
    }
}

/// Splits a query string into last-value-per-key and all-values-per-key.
fn query_values(query: &str) -> (Map<String, Value>, HashMap<String, Vec<String>>) {
    let mut last = Map::new();
    let mut all: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        last.insert(k.to_string(), Value::String(v.to_string()));
        all.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    (last, all)
}

/// Where a query value holds a NUL character: `query.<name>` for a single value,
/// `query.<name>.<index>` for one of a repeated parameter's values. Names in sorted order, so
/// the answer does not depend on hashing.
fn nul_in_query(all: &HashMap<String, Vec<String>>) -> Option<Vec<LocPart>> {
    let mut names: Vec<&String> = all.keys().collect();
    names.sort();
    names.into_iter().find_map(|name| {
        let values = &all[name];
        let mut loc = vec![LocPart::from("query"), LocPart::Key(name.clone())];
        let index = values.iter().position(|v| v.contains('\0'))?;
        if values.len() > 1 {
            loc.push(LocPart::Index(index));
        }
        Some(loc)
    })
}

impl<T: Input> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (last, all) = query_values(req.query_string());
        // Every value of a repeated parameter (`?tags=a&tags=b`) counts, not only the last.
        if let Some(loc) = nul_in_query(&all) {
            return ready(Err(ApiError::Validation(vec![nul_error(loc)])));
        }
        let mut fields = Fields::query(&last, &all, &Value::Null);
        let parsed = T::parse(&mut fields);
        ready(match parsed {
            Some(t) if !fields.has_errors() => Ok(Query(t)),
            _ => Err(ApiError::Validation(fields.into_errors())),
        })
    }
}

impl<T: Input> FromRequest for Path<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let path = req.match_info();
        if let Some(plain) = T::plain(&|name| path.get(name)) {
            return ready(Ok(Path(plain)));
        }
        let values: Map<String, Value> = path
            .iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        if let Some(loc) = find_nul_in(&values, vec!["path".into()]) {
            return ready(Err(ApiError::Validation(vec![nul_error(loc)])));
        }
        ready(
            parse_object(&values, &Value::Null, vec!["path".into()])
                .map(Path)
                .map_err(ApiError::Validation),
        )
    }
}

// OpenAPI: document these exactly as actix's own Json / Query / Path of the same type.

macro_rules! delegate_api_component {
    ($ours:ident => $theirs:ty) => {
        impl<T: ApiComponent> ApiComponent for $ours<T> {
            fn required() -> bool {
                <$theirs as ApiComponent>::required()
            }
            fn child_schemas(oas: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
                <$theirs as ApiComponent>::child_schemas(oas)
            }
            fn raw_schema(oas: OpenApiVersion) -> Option<ReferenceOr<ApistosSchema>> {
                <$theirs as ApiComponent>::raw_schema(oas)
            }
            fn schema(oas: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
                <$theirs as ApiComponent>::schema(oas)
            }
            fn request_body(oas: OpenApiVersion, description: Option<String>) -> Option<RequestBody> {
                <$theirs as ApiComponent>::request_body(oas, description)
            }
            fn parameters(oas: OpenApiVersion, description: Option<String>) -> Vec<Parameter> {
                <$theirs as ApiComponent>::parameters(oas, description)
            }
        }
    };
}

delegate_api_component!(Body => web::Json<T>);
delegate_api_component!(Query => web::Query<T>);
delegate_api_component!(Path => web::Path<T>);

impl<T: ApiComponent> ApiComponent for MaybeBody<T> {
    fn required() -> bool {
        false
    }
    fn child_schemas(oas: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        <web::Json<T> as ApiComponent>::child_schemas(oas)
    }
    fn raw_schema(oas: OpenApiVersion) -> Option<ReferenceOr<ApistosSchema>> {
        <web::Json<T> as ApiComponent>::raw_schema(oas)
    }
    fn schema(oas: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        <web::Json<T> as ApiComponent>::schema(oas)
    }
    fn request_body(oas: OpenApiVersion, description: Option<String>) -> Option<RequestBody> {
        let mut body = <web::Json<T> as ApiComponent>::request_body(oas, description)?;
        body.required = Some(false);
        Some(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_offsets_count_characters_across_lines() {
        assert_eq!(char_offset("invalid json", 1, 1), 0);
        assert_eq!(char_offset("{\n  \"a\": x}", 2, 8), 9);
        assert_eq!(char_offset("{\"ü\": x", 1, 7), 6);
    }

    fn find_nul(value: &Value, base: Vec<LocPart>) -> Option<Vec<LocPart>> {
        unstorable(value).map(|below| with_path(base, below))
    }

    #[test]
    fn unstorable_values_are_located_below_the_base() {
        let body = json!({"a": 1, "b": {"c": [0, "x\0"]}});
        assert_eq!(
            find_nul(&body, vec!["body".into()]),
            Some(vec!["body".into(), "b".into(), "c".into(), LocPart::Index(1)])
        );
        let key = json!({"ok": {"k\0": 1}});
        assert_eq!(
            find_nul(&key, vec!["body".into()]),
            Some(vec!["body".into(), "ok".into(), "k\0".into()])
        );
        assert_eq!(
            find_nul(&json!([1, 2e300]), vec![]),
            Some(vec![LocPart::Index(1)])
        );
        assert_eq!(
            find_nul(&json!({"a": [1, "b", 1e300]}), vec!["body".into()]),
            None
        );
    }

    #[test]
    fn the_interaction_shortcut_reads_what_the_full_pass_reads() {
        use crate::dto::interactions::InteractionCreate;
        let bodies = [
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view"}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "like", "rating": 5, "duration": 0, "metadata": {"a": [1, 2.5, "x"], "b": null}}"#,
            r#"  {"interaction_type": "rate", "rating": null, "duration": null, "metadata": null, "user_id": 3, "content_item_id": 4}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "duration": 2147483647}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "duration": 2147483648}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "rating": 0}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "rating": 6}"#,
            r#"{"user_id": 0, "content_item_id": 2, "interaction_type": "view"}"#,
            r#"{"user_id": -1, "content_item_id": 2, "interaction_type": "view"}"#,
            r#"{"user_id": 1.0, "content_item_id": 2, "interaction_type": "view"}"#,
            r#"{"user_id": "1", "content_item_id": 2, "interaction_type": "view"}"#,
            r#"{"user_id": true, "content_item_id": 2, "interaction_type": "view"}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "VIEW"}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "vi\u0065w"}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "extra": "x\u0000"}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "user_id": 7}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "metadata": {"k": "v\u0000"}}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "metadata": {"n": 1e301}}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "metadata": [1]}"#,
            r#"{"user_id": 1, "content_item_id": 2}"#,
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view"} x"#,
            r#"{"user_id": 99999999999999999999, "content_item_id": 2, "interaction_type": "view"}"#,
        ];
        let mut shortcuts = 0;
        for body in bodies {
            let full = read_json_value::<InteractionCreate>(body.as_bytes(), false);
            let Some(plain) = InteractionCreate::plain_json(body.as_bytes()) else {
                continue;
            };
            shortcuts += 1;
            let full =
                full.unwrap_or_else(|e| panic!("shortcut accepted what the pass refuses: {body}: {e:?}"));
            assert_eq!(format!("{plain:?}"), format!("{full:?}"), "{body}");
        }
        assert_eq!(shortcuts, 4, "the four plain bodies take the shortcut");
        // Through the extractor's entry: a non-object never reaches the shortcut.
        assert!(read_json::<InteractionCreate>(b"[1, 2, \"view\"]", false).is_err());
    }

    #[test]
    fn unknown_fields_are_ignored_whatever_they_hold_known_ones_are_checked() {
        use crate::dto::interactions::InteractionCreate;
        // §1.2: unknown fields are ignored — even text PostgreSQL could not store.
        let unknown =
            r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "x": {"k\u0000": 1e301}}"#;
        assert!(read_json_value::<InteractionCreate>(unknown.as_bytes(), false).is_ok());
        let known = r#"{"user_id": 1, "content_item_id": 2, "interaction_type": "view", "metadata": {"k": "v\u0000"}}"#;
        let Err(ApiError::Validation(errors)) = read_json_value::<InteractionCreate>(known.as_bytes(), false)
        else {
            panic!("NUL in a known field must be refused");
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].loc,
            vec!["body".into(), "metadata".into(), LocPart::Key("k".into())]
        );
    }

    #[test]
    fn query_strings_keep_every_value_of_repeated_keys() {
        let (last, all) = query_values("tags=a&tags=b%20c&limit=5");
        assert_eq!(last["tags"], json!("b c"));
        assert_eq!(all["tags"], vec!["a", "b c"]);
        assert_eq!(last["limit"], json!("5"));
    }
}

/// What an optional request header parses into, for [`Header`].
pub trait HeaderField: Sized {
    /// The header's name.
    const NAME: &'static str;
    /// Its description in the OpenAPI document.
    const DESCRIPTION: &'static str;
    /// The 422 item's `type` when the value is refused.
    const ERROR_TYPE: &'static str;

    /// The type whose schema documents the value.
    type Documented: ApiComponent;

    /// An example value for the document.
    fn example() -> Option<Value> {
        None
    }

    /// Parses the value (the request gives context, e.g. the caller); `Err` is the 422 message.
    fn parse(req: &HttpRequest, value: &actix_web::http::header::HeaderValue) -> Result<Self, String>;
}

/// An optional request header parsed into `T`: absent → `None`; refused → a 422 in the
/// contract's shape, located at `["header", NAME]`.
#[derive(Debug, Clone)]
pub struct Header<T>(pub Option<T>);

impl<T: HeaderField> FromRequest for Header<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(T::NAME) else {
            return ready(Ok(Header(None)));
        };
        ready(T::parse(req, value).map(|v| Header(Some(v))).map_err(|msg| {
            ApiError::Validation(vec![FieldError::at(
                vec!["header".into(), T::NAME.into()],
                T::ERROR_TYPE,
                msg,
                json!(String::from_utf8_lossy(value.as_bytes())),
            )])
        }))
    }
}

impl<T: HeaderField> ApiComponent for Header<T> {
    fn child_schemas(_: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        vec![]
    }

    fn schema(_: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        None
    }

    fn parameters(oas: OpenApiVersion, _: Option<String>) -> Vec<Parameter> {
        use apistos::paths::{Examples, ParameterDefinition, ParameterIn, ParameterStyle};
        vec![Parameter {
            name: T::NAME.to_owned(),
            _in: ParameterIn::Header,
            description: Some(T::DESCRIPTION.to_owned()),
            required: Some(false),
            style: Some(ParameterStyle::Simple),
            definition: <T::Documented as ApiComponent>::raw_schema(oas).map(ParameterDefinition::Schema),
            example: T::example().map(Examples::Example),
            ..Default::default()
        }]
    }
}
