//! Row types: private to this crate, converted to domain types at the seam.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use genonaut_domain::DomainError;
use genonaut_domain::ids::*;
use genonaut_domain::model::*;
use serde_json::Value;

use crate::schema::*;

/// Ids the storage (PostgreSQL `integer`) can hold; anything else does not exist.
pub(crate) fn key(id: i64) -> Option<i32> {
    i32::try_from(id).ok()
}

/// Keys of the ids the storage can hold.
pub(crate) fn keys(ids: impl IntoIterator<Item = i64>) -> Vec<i32> {
    ids.into_iter().filter_map(key).collect()
}

/// A JSON object column; anything else (impossible under the schema's CHECKs) reads as `{}`.
pub(crate) fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// A JSON array-of-strings column; non-string elements are skipped.
pub(crate) fn strings(value: Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| if let Value::String(s) = v { Some(s) } else { None })
            .collect(),
        _ => Vec::new(),
    }
}

fn invalid(what: &str, raw: &str) -> DomainError {
    DomainError::unexpected("reading a row", format!("stored {what} '{raw}' is not valid"))
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub id: i32,
    pub username: String,
    pub email: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub preferences: Value,
    pub is_active: bool,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId::from(r.id),
            username: r.username,
            email: r.email,
            created_at: r.created_at,
            updated_at: r.updated_at,
            preferences: object(r.preferences),
            is_active: r.is_active,
        }
    }
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = content_items, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ContentRow {
    pub id: i32,
    pub title: String,
    pub content_type: String,
    pub content_data: String,
    pub item_metadata: Value,
    pub creator_id: i32,
    pub created_at: NaiveDateTime,
    pub tags: Value,
    pub quality_score: f64,
    pub is_public: bool,
    pub is_private: bool,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<ContentRow> for Content {
    type Error = DomainError;

    fn try_from(r: ContentRow) -> Result<Self, DomainError> {
        Ok(Content {
            id: ContentId::from(r.id),
            content_type: ContentType::parse(&r.content_type)
                .ok_or_else(|| invalid("content type", &r.content_type))?,
            title: r.title,
            content_data: r.content_data,
            item_metadata: object(r.item_metadata),
            creator_id: UserId::from(r.creator_id),
            created_at: r.created_at,
            updated_at: r.updated_at,
            tags: strings(r.tags),
            quality_score: r.quality_score,
            is_public: r.is_public,
            is_private: r.is_private,
        })
    }
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = user_interactions, check_for_backend(diesel::pg::Pg))]
pub(crate) struct InteractionRow {
    pub id: i32,
    pub user_id: i32,
    pub content_item_id: i32,
    pub interaction_type: String,
    pub rating: Option<i32>,
    pub duration: Option<i32>,
    pub created_at: NaiveDateTime,
    pub interaction_metadata: Value,
}

impl TryFrom<InteractionRow> for Interaction {
    type Error = DomainError;

    fn try_from(r: InteractionRow) -> Result<Self, DomainError> {
        Ok(Interaction {
            id: InteractionId::from(r.id),
            user_id: UserId::from(r.user_id),
            content_item_id: ContentId::from(r.content_item_id),
            interaction_type: InteractionType::parse(&r.interaction_type)
                .ok_or_else(|| invalid("interaction type", &r.interaction_type))?,
            rating: r.rating,
            duration: r.duration,
            created_at: r.created_at,
            metadata: object(r.interaction_metadata),
        })
    }
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = recommendations, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RecommendationRow {
    pub id: i32,
    pub user_id: i32,
    pub content_item_id: i32,
    pub recommendation_score: f64,
    pub algorithm_version: String,
    pub created_at: NaiveDateTime,
    pub is_served: bool,
    pub rec_metadata: Value,
    pub served_at: Option<NaiveDateTime>,
}

impl From<RecommendationRow> for Recommendation {
    fn from(r: RecommendationRow) -> Self {
        Recommendation {
            id: RecommendationId::from(r.id),
            user_id: UserId::from(r.user_id),
            content_item_id: ContentId::from(r.content_item_id),
            score: r.recommendation_score,
            algorithm_version: r.algorithm_version,
            created_at: r.created_at,
            is_served: r.is_served,
            served_at: r.served_at,
            metadata: object(r.rec_metadata),
        }
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = generation_jobs, check_for_backend(diesel::pg::Pg))]
pub(crate) struct JobRow {
    pub id: i32,
    pub user_id: i32,
    pub job_type: String,
    pub prompt: String,
    pub parameters: Value,
    pub status: String,
    pub result_content_id: Option<i32>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub error_message: Option<String>,
    pub updated_at: NaiveDateTime,
    pub priority: i32,
    pub attempts: i32,
    pub max_attempts: i32,
    // Read by the worker queries that select every column; not part of the domain job.
    #[expect(dead_code, reason = "selected with the row, used only in SQL")]
    pub run_after: NaiveDateTime,
    #[expect(dead_code, reason = "selected with the row, used only in SQL")]
    pub lease_expires_at: Option<NaiveDateTime>,
    pub worker_id: Option<String>,
    pub progress: f64,
    pub event_seq: i64,
    pub start_deadline_at: Option<NaiveDateTime>,
    pub timeout_seconds: Option<i32>,
    pub webhook: Option<String>,
    pub webhook_events_filter: Option<Vec<Option<String>>>,
}

impl TryFrom<JobRow> for GenerationJob {
    type Error = DomainError;

    fn try_from(r: JobRow) -> Result<Self, DomainError> {
        Ok(GenerationJob {
            id: JobId::from(r.id),
            user_id: UserId::from(r.user_id),
            // Legacy rows may hold short aliases (`text`, `image`): normalise on read.
            job_type: JobType::parse_lenient(&r.job_type).ok_or_else(|| invalid("job type", &r.job_type))?,
            prompt: r.prompt,
            parameters: object(r.parameters),
            status: JobStatus::parse(&r.status).ok_or_else(|| invalid("job status", &r.status))?,
            result_content_id: r.result_content_id.map(ContentId::from),
            created_at: r.created_at,
            started_at: r.started_at,
            completed_at: r.completed_at,
            error_message: r.error_message,
            updated_at: r.updated_at,
            priority: r.priority,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            progress: r.progress,
            event_seq: r.event_seq,
            queue_position: None,
            start_deadline_at: r.start_deadline_at,
            timeout_seconds: r.timeout_seconds,
            webhook: r.webhook.map(|url| genonaut_domain::model::Webhook {
                url,
                events: match r.webhook_events_filter {
                    Some(kinds) => kinds
                        .iter()
                        .flatten()
                        .filter_map(|k| JobEventKind::parse(k))
                        .collect(),
                    None => genonaut_domain::model::DEFAULT_WEBHOOK_EVENTS.to_vec(),
                },
            }),
            worker_id: r.worker_id,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = job_events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct JobEventRow {
    pub job_id: i32,
    pub seq: i64,
    pub event_type: String,
    pub data: Value,
    pub created_at: NaiveDateTime,
}

impl TryFrom<JobEventRow> for JobEvent {
    type Error = DomainError;

    fn try_from(r: JobEventRow) -> Result<Self, DomainError> {
        Ok(JobEvent {
            job_id: JobId::from(r.job_id),
            seq: r.seq,
            kind: JobEventKind::parse(&r.event_type)
                .ok_or_else(|| invalid("job event type", &r.event_type))?,
            at: r.created_at,
            data: object(r.data),
        })
    }
}

/// Converts a list of rows.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, DomainError>
where
    T: TryFrom<R, Error = DomainError>,
{
    rows.into_iter().map(T::try_from).collect()
}
