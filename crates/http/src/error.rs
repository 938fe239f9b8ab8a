//! The one place errors become HTTP responses (contract §1.6).
//!
//! * validation problems → 422 `{"detail": [ … ]}` (a list);
//! * business rules and conflicts → 422 `{"detail": "…"}` (a string — never 409);
//! * missing entities → 404 `{"detail": "… not found"}`;
//! * unknown schema header → 400; oversized body → 413;
//! * database unavailable or saturated → 503 with `Retry-After`;
//! * anything unexpected → 500 `{"detail": "Internal server error"}`; the cause chain is logged
//!   once here and never sent to the client.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use apistos::paths::{MediaType, Response};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApiErrorComponent, ApistosSchema, OpenApiVersion};
use genonaut_domain::model::WEBHOOK_EVENTS;
use genonaut_domain::recommender::Algorithm;
use genonaut_domain::{
    BulkProblem, Conflict, DomainError, Entity, ErrorChain, InactiveAction, Invalid, NotFound, Rule,
};
use serde::Serialize;
use serde_json::json;

use crate::input::{FieldError, LocPart};

/// An error answered to a client.
#[derive(Debug)]
pub enum ApiError {
    /// Request validation failed (422, list body).
    Validation(Vec<FieldError>),
    /// A use case failed.
    Domain(DomainError),
    /// `X-Genonaut-Schema` names a schema this server does not serve (400).
    UnknownSchema {
        /// The requested name.
        requested: String,
        /// Served names.
        available: Vec<String>,
    },
    /// The request body exceeds the configured limit (413).
    PayloadTooLarge(usize),
    /// The request body could not be read (400).
    BadRequest(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Validation(errors) => write!(f, "{} validation error(s)", errors.len()),
            ApiError::Domain(e) => write!(f, "{e}"),
            ApiError::UnknownSchema { requested, .. } => write!(f, "unknown schema '{requested}'"),
            ApiError::PayloadTooLarge(limit) => write!(f, "request body over {limit} bytes"),
            ApiError::BadRequest(m) => f.write_str(m),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

/// `{"detail": "<message>"}` — every error except request validation.
#[derive(Debug, Serialize, apistos::JsonSchema, ApiComponent)]
#[schemars(example = ErrorDetail::example())]
pub struct ErrorDetail {
    /// What went wrong.
    pub detail: String,
}

impl ErrorDetail {
    fn example() -> ErrorDetail {
        ErrorDetail {
            detail: "User with id 99999 not found".into(),
        }
    }
}

/// A 422 body: `detail` is either the list of validation problems (malformed input) or a
/// string (a business rule, e.g. `"Username already exists"`).
#[derive(Debug, Serialize, apistos::JsonSchema, ApiComponent)]
#[schemars(example = Unprocessable::example())]
pub struct Unprocessable {
    /// Validation problems, or a business-rule message.
    pub detail: UnprocessableDetail,
}

/// List of problems or rule message.
#[derive(Debug, Serialize, apistos::JsonSchema)]
#[serde(untagged)]
#[schemars(inline)]
pub enum UnprocessableDetail {
    /// Request validation problems.
    Problems(Vec<FieldError>),
    /// Business-rule message.
    Rule(String),
}

impl Unprocessable {
    fn example() -> Unprocessable {
        Unprocessable {
            detail: UnprocessableDetail::Problems(vec![FieldError {
                kind: "string_too_short",
                loc: vec!["body".into(), "username".into()],
                msg: "String should have at least 3 characters".into(),
                input: json!("ab"),
                ctx: Some(json!({"min_length": 3})),
            }]),
        }
    }
}

/// A client's words for a missing thing.
pub fn not_found_message(missing: &NotFound) -> String {
    match missing {
        NotFound::Id { entity, id } => format!("{} with id {id} not found", entity_name(*entity)),
        NotFound::Username(username) => format!("User with username '{username}' not found"),
        NotFound::Email(email) => format!("User with email '{email}' not found"),
        NotFound::ExperimentName(name) => format!("Experiment '{name}' not found"),
        NotFound::ApiKey(prefix) => format!("API key {prefix} not found"),
        NotFound::KeysDisabled => "API keys are not in use: authentication is off (API_AUTH=off)".to_owned(),
        NotFound::InteractionBetween {
            user,
            content,
            interaction_type,
        } => format!("No {interaction_type} interaction found between user {user} and content {content}"),
    }
}

/// The entity names of the contract's not-found messages (`"User with id 7 not found"`).
fn entity_name(entity: Entity) -> &'static str {
    match entity {
        Entity::User => "User",
        Entity::ContentItem => "ContentItem",
        Entity::UserInteraction => "UserInteraction",
        Entity::Recommendation => "Recommendation",
        Entity::GenerationJob => "GenerationJob",
        Entity::Experiment => "Experiment",
    }
}

/// A client's words for a broken business rule.
fn rule_message(rule: &Rule) -> Cow<'static, str> {
    Cow::Borrowed(match rule {
        Rule::CreatorMissing => "Creator not found",
        Rule::UserMissing => "User not found",
        Rule::ContentMissing => "Content not found",
        Rule::ReferenceMissing => "A referenced entity does not exist",
        Rule::OutOfRange => "A value is out of the allowed range",
        Rule::PublicAndPrivate => "Content cannot be both public and private",
        Rule::EmptyTitle => "Title cannot be empty",
        Rule::EmptyContentData => "Content data cannot be empty",
        Rule::EmptyPrompt => "Prompt cannot be empty",
        Rule::EmptyAlgorithmVersion => "Algorithm version cannot be empty",
        Rule::InactiveUser(InactiveAction::CreateJobs) => "Cannot create generation jobs for inactive users",
        Rule::InactiveUser(InactiveAction::CreateRecommendations) => {
            "Cannot create recommendations for inactive users"
        }
        Rule::InactiveUser(InactiveAction::ReadRecommendations) => {
            "Cannot get recommendations for inactive users"
        }
        Rule::InactiveUser(InactiveAction::RecordInteractions) => {
            "Cannot record interactions for inactive users"
        }
        Rule::JobNotPending => "Can only update pending jobs",
        Rule::JobActive => "Cannot delete pending or running jobs",
        Rule::ErrorMessageRequired => "Error message is required for failed jobs",
        Rule::IdempotencyKeyReused => {
            "This Idempotency-Key was already used with a different request; send the same request to get \
             the original response, or use a new key for a new request"
        }
        Rule::RevokeOwnKey => "Cannot revoke the API key this request is made with; use another admin key",
        Rule::JobFinished(status) => {
            return format!("Cannot cancel a finished job (status: {status})").into();
        }
        Rule::Bulk(at, problem) => {
            let reason = match problem {
                BulkProblem::UserMissing(user) => format!("User {user} not found"),
                BulkProblem::UserInactive(user) => format!("User {user} is inactive"),
                BulkProblem::ContentMissing(content) => format!("Content {content} not found"),
                BulkProblem::EmptyAlgorithmVersion => "Algorithm version cannot be empty".to_owned(),
            };
            return format!("Validation failed for recommendation {at}: {reason}").into();
        }
        Rule::SemanticSearchUnavailable(why) => {
            return format!("Semantic search is unavailable: {why}; search without search_mode 'semantic'")
                .into();
        }
    })
}

impl ApiError {
    /// A 422 `value_error` at `body.<field…>` (numeric parts are list positions), the shape of
    /// every check made after the body parsed.
    pub fn body_value_error(field: &[impl AsRef<str>], message: impl fmt::Display) -> ApiError {
        let mut loc: Vec<LocPart> = vec!["body".into()];
        loc.extend(field.iter().map(AsRef::as_ref).map(|f| match f.parse::<usize>() {
            Ok(i) => LocPart::Index(i),
            Err(_) => LocPart::Key(f.to_owned()),
        }));
        ApiError::Validation(vec![FieldError::at(
            loc,
            "value_error",
            format!("Value error, {message}"),
            serde_json::Value::Null,
        )])
    }
}

/// The words of a domain-judged invalid field.
pub fn invalid_message(reason: &Invalid) -> Cow<'static, str> {
    Cow::Borrowed(match reason {
        Invalid::KeyName { max } | Invalid::ExperimentName { max } => {
            return format!("name must be 1 to {max} characters").into();
        }
        Invalid::ExpiryNotInFuture => "expiry must be in the future",
        Invalid::ExperimentNameCharacters => "name may only contain ASCII letters, digits, '-', '_' and '.'",
        Invalid::ExperimentDescription { max } => {
            return format!("description must be at most {max} characters").into();
        }
        Invalid::VariantCount { min, max } => {
            return format!("an experiment needs {min} to {max} variants").into();
        }
        Invalid::VariantName { max } => {
            return format!("variant name must be 1 to {max} characters").into();
        }
        Invalid::DuplicateVariant(name) => return format!("duplicate variant name '{name}'").into(),
        Invalid::UnknownAlgorithm(label) => {
            return format!(
                "unknown algorithm '{label}'; expected one of {}",
                Algorithm::ALL.map(Algorithm::as_str).join(", ")
            )
            .into();
        }
        Invalid::VariantWeight => "weight must be a finite number greater than 0",
        Invalid::WeightSum => "the weights' sum must be finite",
        Invalid::EngagementWindow { max } => {
            return format!("engagement_window_hours must be 1 to {max}").into();
        }
        Invalid::WebhookUrlTooLong { max } => {
            return format!("webhook URL longer than {max} characters").into();
        }
        Invalid::WebhookUrl(why) => return format!("invalid webhook URL: {why}").into(),
        Invalid::WebhookScheme => "webhook URL must use http or https",
        Invalid::WebhookHost => "webhook URL must name a host",
        Invalid::WebhookPort => "webhook URL has no port",
        Invalid::NoWebhookEvents => "webhook_events_filter must name at least one event",
        Invalid::UnknownWebhookEvent(name) => {
            return format!(
                "unknown webhook event '{name}': expected any of {}",
                WEBHOOK_EVENTS.map(|k| k.as_str()).join(", ")
            )
            .into();
        }
        Invalid::Parameter(words) => return words.clone().into(),
    })
}

fn detail(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "detail": message.into() }))
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnknownSchema { .. } | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Domain(e) => match e {
                DomainError::NotFound(_) => StatusCode::NOT_FOUND,
                DomainError::Rule(_) | DomainError::Conflict(_) | DomainError::Invalid { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                DomainError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                DomainError::Unexpected { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Validation(errors) => {
                HttpResponse::UnprocessableEntity().json(json!({ "detail": errors }))
            }
            ApiError::UnknownSchema { requested, available } => detail(
                StatusCode::BAD_REQUEST,
                format!(
                    "Unknown schema '{requested}'; available: {}",
                    available.join(", ")
                ),
            ),
            ApiError::PayloadTooLarge(limit) => detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body is too large (limit: {limit} bytes)"),
            ),
            ApiError::BadRequest(message) => detail(StatusCode::BAD_REQUEST, message.clone()),
            ApiError::Domain(e) => match e {
                DomainError::NotFound(missing) => detail(StatusCode::NOT_FOUND, not_found_message(missing)),
                DomainError::Rule(rule) => detail(StatusCode::UNPROCESSABLE_ENTITY, rule_message(rule)),
                DomainError::Conflict(c) => detail(StatusCode::UNPROCESSABLE_ENTITY, conflict_message(c)),
                DomainError::Invalid { field, reason } => {
                    ApiError::body_value_error(field, invalid_message(reason)).error_response()
                }
                DomainError::Unavailable(m) => {
                    tracing::warn!(reason = %m, "answering 503");
                    let mut response = detail(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("Service temporarily unavailable: {m}"),
                    );
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                    response
                }
                DomainError::Unexpected { .. } => {
                    tracing::error!(error = %ErrorChain(e), "request failed");
                    detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
                }
            },
        }
    }
}

fn schema_of<T: ApiComponent>(oas: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
    T::schema(oas)
}

fn response(description: &str, schema_name: &str) -> Response {
    let reference = ReferenceOr::Reference {
        _ref: format!("#/components/schemas/{schema_name}"),
    };
    Response {
        description: description.to_owned(),
        content: BTreeMap::from([(
            "application/json".to_owned(),
            MediaType {
                schema: Some(apistos::VersionSpecificSchema::OAS3_0(reference)),
                ..Default::default()
            },
        )]),
        ..Default::default()
    }
}

impl ApiErrorComponent for ApiError {
    fn schemas_by_status_code(oas: OpenApiVersion) -> BTreeMap<String, (String, ReferenceOr<ApistosSchema>)> {
        let mut schemas = BTreeMap::new();
        for status in ["400", "404", "413", "500", "503"] {
            if let Some(s) = schema_of::<ErrorDetail>(oas) {
                schemas.insert(status.to_owned(), s);
            }
        }
        if let Some(s) = schema_of::<Unprocessable>(oas) {
            schemas.insert("422".to_owned(), s);
        }
        schemas
    }

    fn error_responses(_: OpenApiVersion) -> Vec<(String, Response)> {
        vec![
            (
                "400".into(),
                response(
                    "Unknown `X-Genonaut-Schema`, or an unreadable body.",
                    "ErrorDetail",
                ),
            ),
            (
                "404".into(),
                response(
                    "The addressed or referenced entity does not exist.",
                    "ErrorDetail",
                ),
            ),
            (
                "413".into(),
                response("The request body is over the configured limit.", "ErrorDetail"),
            ),
            (
                "422".into(),
                response(
                    "Invalid input (`detail` is a list of problems) or a violated business rule (`detail` is a string).",
                    "Unprocessable",
                ),
            ),
            (
                "500".into(),
                response(
                    "Unexpected failure; details are only in the server log.",
                    "ErrorDetail",
                ),
            ),
            (
                "503".into(),
                response(
                    "The database is unreachable or saturated; retry after `Retry-After` seconds.",
                    "ErrorDetail",
                ),
            ),
        ]
    }
}

/// The words of each conflict, as the contract (and the previous service) wrote them.
fn conflict_message(conflict: &Conflict) -> String {
    match conflict {
        Conflict::Username(None) => "Username already exists".into(),
        Conflict::Username(Some(name)) => format!("Username '{name}' already exists"),
        Conflict::Email(None) => "Email already exists".into(),
        Conflict::Email(Some(email)) => format!("Email '{email}' already exists"),
        Conflict::ExperimentName(None) => "Experiment name already exists".into(),
        Conflict::ExperimentName(Some(name)) => format!("Experiment name '{name}' already exists"),
        Conflict::SameInstantInteraction => {
            "An identical interaction was recorded at the same instant".into()
        }
        Conflict::KeyPrefix => "API key prefix already in use; try again".into(),
        Conflict::JobChanged => "The job changed concurrently; try again".into(),
        Conflict::BuildRunning(worker) => format!("A recommender build is already running (on {worker})"),
        Conflict::Duplicate => "Duplicate value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of domain-judged fields are the ones the domain used to write itself (clients
    /// may match them); a 422 carries them at `body.<field…>`.
    #[test]
    fn invalid_fields_keep_their_words_and_locations() {
        let cases = [
            (Invalid::KeyName { max: 100 }, "name must be 1 to 100 characters"),
            (Invalid::ExpiryNotInFuture, "expiry must be in the future"),
            (
                Invalid::ExperimentName { max: 39 },
                "name must be 1 to 39 characters",
            ),
            (
                Invalid::ExperimentNameCharacters,
                "name may only contain ASCII letters, digits, '-', '_' and '.'",
            ),
            (
                Invalid::ExperimentDescription { max: 1000 },
                "description must be at most 1000 characters",
            ),
            (
                Invalid::VariantCount { min: 2, max: 20 },
                "an experiment needs 2 to 20 variants",
            ),
            (
                Invalid::VariantName { max: 50 },
                "variant name must be 1 to 50 characters",
            ),
            (
                Invalid::DuplicateVariant("a".into()),
                "duplicate variant name 'a'",
            ),
            (
                Invalid::UnknownAlgorithm("magic".into()),
                "unknown algorithm 'magic'; expected one of ",
            ),
            (
                Invalid::VariantWeight,
                "weight must be a finite number greater than 0",
            ),
            (Invalid::WeightSum, "the weights' sum must be finite"),
            (
                Invalid::EngagementWindow { max: 720 },
                "engagement_window_hours must be 1 to 720",
            ),
            (
                Invalid::WebhookUrlTooLong { max: 2048 },
                "webhook URL longer than 2048 characters",
            ),
            (
                Invalid::WebhookUrl("relative URL without a base".into()),
                "invalid webhook URL: relative URL without a base",
            ),
            (Invalid::WebhookScheme, "webhook URL must use http or https"),
            (Invalid::WebhookHost, "webhook URL must name a host"),
            (Invalid::WebhookPort, "webhook URL has no port"),
            (
                Invalid::NoWebhookEvents,
                "webhook_events_filter must name at least one event",
            ),
            (
                Invalid::UnknownWebhookEvent("done".into()),
                "unknown webhook event 'done': expected any of started, progress, completed, failed, cancelled",
            ),
            (
                Invalid::Parameter("width must be a multiple of 8".into()),
                "width must be a multiple of 8",
            ),
        ];
        for (reason, words) in cases {
            let message = invalid_message(&reason);
            assert!(message.starts_with(words), "{reason:?}: {message}");
        }
        let all = invalid_message(&Invalid::UnknownAlgorithm("magic".into()));
        assert!(
            all.ends_with(&Algorithm::ALL.map(Algorithm::as_str).join(", ")),
            "{all}"
        );

        let error = ApiError::Domain(DomainError::Invalid {
            field: vec!["variants".into(), "1".into(), "weight".into()],
            reason: Invalid::VariantWeight,
        });
        let ApiError::Validation(items) = ApiError::body_value_error(&["variants", "1", "weight"], "x")
        else {
            panic!("not a validation error");
        };
        let item = serde_json::to_value(&items[0]).expect("serialisable");
        assert_eq!(item["loc"], json!(["body", "variants", 1, "weight"]));
        assert_eq!(item["msg"], json!("Value error, x"));
        assert_eq!(error.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
