//! The OpenAPI document: its header (title, description, tags), and what is added to the
//! generated document before it is served ([`finish`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use apistos::OpenApiVersion;
use apistos::info::Info;
use apistos::spec::Spec;
use apistos::tag::Tag;
use serde_json::{Value, json};

use crate::idempotency::{IDEMPOTENCY_HEADER, REPLAYED_HEADER};
use crate::routes::{Needs, RouteAccess};
use crate::state::{ApiState, SCHEMA_HEADER};

const DESCRIPTION: &str = "\
Genonaut records what users do with generated content, recommends content, and runs content \
generation jobs.

**Compatibility.** Paths, fields, status codes and error bodies are those of the previous \
service: collection paths work with and without the trailing slash; timestamps are UTC without \
zone (`2025-09-19T23:52:25.364437`); listings answer `{items, total, skip, limit}`; validation \
errors are 422 with `detail` as a list of `{type, loc, msg, input, ctx}`, business-rule \
errors are 422 with `detail` as a string, missing entities 404.

**Data sets.** Every `/api/v1` route serves one PostgreSQL schema, chosen with the \
`X-Genonaut-Schema` header (default: the configured default; `GET /api/v1/schemas` lists them).";

fn tag(name: &str, description: &str) -> Tag {
    Tag {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        ..Default::default()
    }
}

/// The document's metadata; operations are collected from the routes.
pub fn spec() -> Spec {
    Spec {
        openapi: OpenApiVersion::OAS3_1,
        info: Info {
            title: "Genonaut API".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: Some(DESCRIPTION.to_owned()),
            ..Default::default()
        },
        tags: vec![
            tag("system", "Health, data sets and global counters."),
            tag("users", "User accounts, preferences and per-user views."),
            tag(
                "content",
                "Content items: creation, search, visibility and quality.",
            ),
            tag(
                "interactions",
                "What users do with content, and aggregates of it.",
            ),
            tag(
                "recommendations",
                "Stored recommendations, generation, serving and feedback.",
            ),
            tag("generation-jobs", "Content generation jobs and their queue."),
            tag(
                "experiments",
                "Online A/B tests of recommendation algorithms: assignment, results, leader.",
            ),
            tag(
                "admin",
                "Operations: the recommender's derived state and its builds.",
            ),
        ],
        ..Default::default()
    }
}

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The finished document, made once per worker on the first request for it.
#[derive(Default)]
pub(crate) struct Finished(std::cell::OnceCell<web::Bytes>);

/// The one place the generated document is post-processed, on its way out: `/openapi.json`
/// as apistos generates it, then [`finish`] with this server's schemas (cached per worker).
/// Every other request passes through untouched.
pub(crate) async fn serve(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if req.path() != OPENAPI_PATH {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let cached = req.app_data::<Finished>().and_then(|f| f.0.get()).cloned();
    if let Some(body) = cached {
        return Ok(req.into_response(json(body)));
    }
    let schemas = req
        .app_data::<web::Data<ApiState>>()
        .map(|state| {
            let names: Vec<String> = state.tenants().iter().map(|t| t.name.to_string()).collect();
            (names, state.default_tenant().name.to_string())
        })
        .unwrap_or_default();
    let res = next.call(req).await?;
    if !res.status().is_success() {
        return Ok(res.map_into_boxed_body());
    }
    let (req, generated) = res.map_into_boxed_body().into_parts();
    let bytes = actix_web::body::to_bytes(generated.into_body())
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    let mut doc: Value =
        serde_json::from_slice(&bytes).map_err(actix_web::error::ErrorInternalServerError)?;
    let access = req
        .app_data::<web::Data<RouteAccess>>()
        .cloned()
        .unwrap_or_default();
    finish(&mut doc, &schemas.0, &schemas.1, &access);
    let body =
        web::Bytes::from(serde_json::to_vec(&doc).map_err(actix_web::error::ErrorInternalServerError)?);
    if let Some(finished) = req.app_data::<Finished>() {
        let _ = finished.0.set(body.clone());
    }
    Ok(ServiceResponse::new(req, json(body)))
}

fn json(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(body)
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Completes what apistos generates (OpenAPI 3.1.0):
/// * `X-Genonaut-Schema` is the enumeration of the schemas this server serves (component
///   `SchemaName`, so a generated client has one type for it), and so is the `schema` a new
///   API key may be limited to;
/// * every status the server can answer is documented: 401/403 on routes that need a key,
///   429 everywhere, 400/503 where a schema is selected, 422 where there is input, 500
///   everywhere; 413 only where there is a body;
/// * the API-key schemes, and which operations need them;
/// * request and response bodies refer to named components (apistos inlines them in 3.1
///   documents, each with its `title`): one type per name in generated clients.
pub fn finish(doc: &mut Value, schemas: &[String], default: &str, access: &RouteAccess) {
    let mut hoisted = serde_json::Map::new();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            // Routes the table declares public need no key; the others list the key schemes.
            let keyed = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .is_ok_and(|m| access.needs(&m, path) != Needs::Public);
            finish_operation(op, keyed);
            hoist_bodies(op, &mut hoisted);
        }
    }
    let components = &mut doc["components"];
    if !components.is_object() {
        *components = json!({});
    }
    if !components["schemas"].is_object() {
        components["schemas"] = json!({});
    }
    if let Some(named) = components["schemas"].as_object_mut() {
        for (name, schema) in hoisted {
            named.entry(name).or_insert(schema);
        }
        // A component is not a schema resource of its own.
        for schema in named.values_mut() {
            if let Some(object) = schema.as_object_mut() {
                object.remove("$schema");
            }
            no_boolean_items(schema);
        }
    }
    // A key may be limited to one of the same schemas.
    if let Some(schema) = components["schemas"]["KeyCreate"]["properties"].get_mut("schema") {
        *schema = json!({
            "description": "Restrict the key to this served schema; `null`/absent = every schema.",
            "anyOf": [{"$ref": "#/components/schemas/SchemaName"}, {"type": "null"}],
        });
    }
    components["schemas"]["SchemaName"] = json!({
        "description": "A data set (PostgreSQL schema) this server serves.",
        "type": "string",
        "enum": schemas,
        "default": default,
    });
    components["securitySchemes"] = json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (`genonaut keys create`) as `Authorization: Bearer <key>`."
        },
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "The same key as `X-API-Key: <key>`."
        }
    });
    let responses = components
        .as_object_mut()
        .map(|c| c.entry("responses").or_insert_with(|| json!({})));
    if let Some(responses) = responses.and_then(Value::as_object_mut) {
        for (name, response) in shared_responses() {
            responses.insert(name.to_owned(), response);
        }
    }
}

fn finish_operation(op: &mut Value, keyed: bool) {
    let mut selects_schema = false;
    let mut idempotent = false;
    let mut has_input = op.get("requestBody").is_some();
    if let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for parameter in parameters {
            if parameter["name"] == SCHEMA_HEADER && parameter["in"] == "header" {
                selects_schema = true;
                parameter["schema"] = json!({"$ref": "#/components/schemas/SchemaName"});
            } else if parameter["name"] == IDEMPOTENCY_HEADER && parameter["in"] == "header" {
                idempotent = true;
                has_input = true;
                parameter["schema"] =
                    json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"});
            } else {
                has_input = true;
            }
        }
    }
    let has_body = op.get("requestBody").is_some();
    if keyed {
        op["security"] = json!([{"bearer": []}, {"apiKey": []}]);
    }
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    if idempotent && let Some(created) = responses.get_mut("201") {
        created["headers"] = json!({
            REPLAYED_HEADER: {
                "description": "`true` when this is the stored response of an earlier request with the same \
                                `Idempotency-Key` (nothing was created); absent otherwise.",
                "schema": {"type": "string", "enum": ["true"]}
            }
        });
    }
    let mut add = |status: &str, response: &str| {
        responses
            .entry(status)
            .or_insert_with(|| json!({"$ref": format!("#/components/responses/{response}")}));
    };
    if selects_schema || has_body {
        add("400", "BadRequest");
    }
    if keyed {
        add("401", "Unauthorized");
        add("403", "Forbidden");
    }
    if has_input {
        add("422", "Unprocessable");
    }
    add("429", "TooManyRequests");
    add("500", "InternalError");
    if selects_schema {
        add("503", "Unavailable");
    }
    if !has_body {
        responses.remove("413");
    }
}

/// `items: true` (any item; JSON Schema's boolean schema) as the equivalent `items: {}`, which
/// every generator reads.
fn no_boolean_items(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object.iter_mut() {
                if key == "items" && *value == Value::Bool(true) {
                    *value = json!({});
                } else {
                    no_boolean_items(value);
                }
            }
        }
        Value::Array(values) => values.iter_mut().for_each(no_boolean_items),
        _ => {}
    }
}

/// Replaces each inline body schema that has a `title` with a reference to the component of
/// that name (collected in `hoisted`, without its `$schema`), unless another schema already
/// took the name.
fn hoist_bodies(op: &mut Value, hoisted: &mut serde_json::Map<String, Value>) {
    if let Some(content) = op
        .pointer_mut("/requestBody/content")
        .and_then(Value::as_object_mut)
    {
        content.values_mut().for_each(|media| hoist(media, hoisted));
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        for response in responses.values_mut() {
            if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                content.values_mut().for_each(|media| hoist(media, hoisted));
            }
        }
    }
}

fn hoist(media: &mut Value, hoisted: &mut serde_json::Map<String, Value>) {
    let Some(schema) = media.get_mut("schema") else {
        return;
    };
    let Some(name) = schema.get("title").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let mut component = schema.clone();
    if let Some(object) = component.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    let same = match hoisted.get(&name) {
        Some(existing) => *existing == component,
        None => {
            hoisted.insert(name.clone(), component);
            true
        }
    };
    if same {
        *schema = json!({"$ref": format!("#/components/schemas/{name}")});
    }
}

fn error_response(description: &str, schema: &str, headers: Value) -> Value {
    let mut response = json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
    });
    if headers.as_object().is_some_and(|h| !h.is_empty()) {
        response["headers"] = headers;
    }
    response
}

fn integer_header(description: &str) -> Value {
    json!({"description": description, "schema": {"type": "integer", "minimum": 0}})
}

/// Responses every operation shares, referenced from `components/responses`.
fn shared_responses() -> [(&'static str, Value); 7] {
    let none = json!({});
    [
        (
            "BadRequest",
            error_response(
                "Unknown `X-Genonaut-Schema`, or an unreadable body.",
                "ErrorDetail",
                none.clone(),
            ),
        ),
        (
            "Unauthorized",
            error_response(
                "No API key, or an invalid, revoked or expired one (with `API_AUTH=on`).",
                "ErrorDetail",
                json!({"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}),
            ),
        ),
        (
            "Forbidden",
            error_response(
                "The key lacks the scope, or may not use the selected schema.",
                "ErrorDetail",
                none.clone(),
            ),
        ),
        (
            "Unprocessable",
            error_response(
                "Invalid input (`detail` is a list of problems) or a violated business rule (`detail` is a string).",
                "Unprocessable",
                none.clone(),
            ),
        ),
        (
            "TooManyRequests",
            error_response(
                "Over the per-key or per-IP rate limit. Fields of draft-ietf-httpapi-ratelimit-headers-06.",
                "ErrorDetail",
                json!({
                    "Retry-After": integer_header("Seconds to wait."),
                    "RateLimit-Limit": integer_header("Requests allowed at once (the burst)."),
                    "RateLimit-Remaining": integer_header("Requests left: 0."),
                    "RateLimit-Reset": integer_header("Seconds until a request is allowed again (as `Retry-After`)."),
                    "RateLimit-Policy": {
                        "description": "`<burst>;w=<seconds a spent burst takes to refill>`.",
                        "schema": {"type": "string"}
                    }
                }),
            ),
        ),
        (
            "InternalError",
            error_response(
                "Unexpected failure; details are only in the server log, under `request_id`.",
                "ErrorDetail",
                none.clone(),
            ),
        ),
        (
            "Unavailable",
            error_response(
                "The database is unreachable or saturated; retry after `Retry-After` seconds.",
                "ErrorDetail",
                json!({"Retry-After": integer_header("Seconds to wait.")}),
            ),
        ),
    ]
}
