//! Shapes shared by every area: timestamps, the list envelope, paging, path ids.

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::Page as DomainPage;
use genonaut_domain::model::TimestampText;
use serde::{Serialize, Serializer};

use crate::input::{Fields, Input};

/// Timestamps as the contract prints them ([`TimestampText`]).
pub fn timestamp<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(TimestampText::new(t).as_str())
}

/// Optional timestamps in the same format.
pub fn optional_timestamp<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => timestamp(t, s),
        None => s.serialize_none(),
    }
}

/// The list envelope of every listing: `{"items": [...], "total": n, "skip": n, "limit": n}`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(rename = "PageOf{T}")]
pub struct Page<T: JsonSchema> {
    /// This page of results.
    pub items: Vec<T>,
    /// Matches before paging (for "recent/top/unserved/running" listings: the number of items).
    pub total: i64,
    /// Echo of the requested `skip` (0 where the endpoint has none).
    pub skip: i64,
    /// Echo of the requested `limit` (the number of items where the endpoint has none).
    pub limit: i64,
}

impl Page<crate::dto::content::ContentOut> {
    /// With every item's `media_url` filled in by `links`.
    pub fn linked(mut self, links: &crate::media::MediaLinks) -> Self {
        self.items = self.items.into_iter().map(|c| c.linked(links)).collect();
        self
    }
}

impl<T: JsonSchema> Page<T> {
    /// A page of domain items converted to DTOs, echoing the window.
    pub fn of<D>(page: DomainPage<D>, skip: i64, limit: i64) -> Self
    where
        T: From<D>,
    {
        Page {
            items: page.items.into_iter().map(T::from).collect(),
            total: page.total,
            skip,
            limit,
        }
    }

    /// A listing whose `total` is its length, with `skip = 0` and the requested `limit`.
    pub fn listing<D>(items: Vec<D>, limit: i64) -> Self
    where
        T: From<D>,
    {
        let items: Vec<T> = items.into_iter().map(T::from).collect();
        Page {
            total: items.len() as i64,
            items,
            skip: 0,
            limit,
        }
    }

    /// A listing without a `limit` parameter: `total = limit = len(items)`.
    pub fn everything<D>(items: Vec<D>) -> Self
    where
        T: From<D>,
    {
        let items: Vec<T> = items.into_iter().map(T::from).collect();
        let n = items.len() as i64;
        Page {
            items,
            total: n,
            skip: 0,
            limit: n,
        }
    }
}

/// `{"success": true, "message": "…"}` — the answer of every `DELETE`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = Success::example())]
pub struct Success {
    /// Always `true`.
    pub success: bool,
    /// What was done.
    pub message: String,
}

impl Success {
    /// A success message.
    pub fn new(message: String) -> Self {
        Success {
            success: true,
            message,
        }
    }

    fn example() -> Success {
        Success::new("User 5 deleted successfully".into())
    }
}

/// Default values of optional parameters, named so the OpenAPI document can show them.
pub mod defaults {
    macro_rules! int_default {
        ($($name:ident = $value:expr),*) => {$(
            /// Default value.
            pub fn $name() -> i64 {
                $value
            }
        )*};
    }
    int_default!(
        n_0 = 0,
        n_1 = 1,
        n_7 = 7,
        n_10 = 10,
        n_20 = 20,
        n_30 = 30,
        n_50 = 50,
        n_100 = 100
    );

    /// Default `min_score` of the "top" listing.
    pub fn half() -> f64 {
        0.5
    }

    /// `true`.
    pub fn yes() -> bool {
        true
    }
}

/// Maximum `limit` of any listing.
pub const MAX_LIMIT: i64 = 1000;

/// Reads `skip` (≥ 0, default 0) and `limit` (1…1000, default `default_limit`) for an input
/// that is hand-written (a derived one declares both fields).
pub fn read_window(f: &mut Fields<'_>, default_limit: i64) -> (i64, i64) {
    let skip = f.int("skip").ge(0).or(0);
    let limit = f.int("limit").ge(1).le(MAX_LIMIT).or(default_limit);
    (skip, limit)
}

/// Paging parameters: `skip` and `limit`.
#[derive(Debug, Clone, Copy, JsonSchema, ApiComponent, Input)]
pub struct PageQuery {
    /// Rows to skip (≥ 0).
    #[serde(default = "defaults::n_0")]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

impl PageQuery {
    /// The domain window.
    pub fn window(self) -> genonaut_domain::PageRequest {
        genonaut_domain::PageRequest::new(self.skip, self.limit)
    }
}

/// Declares a query DTO with only `limit` (1…1000) and the given default.
macro_rules! limit_query {
    ($(#[$meta:meta])* $name:ident, $default_fn:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, apistos::JsonSchema, apistos::ApiComponent, $crate::input::Input)]
        pub struct $name {
            /// Maximum number of items (1…1000).
            #[serde(default = $default_fn)]
            #[schemars(range(min = 1, max = 1000))]
            pub limit: i64,
        }
    };
}
pub(crate) use limit_query;

/// Declares a path DTO with one integer id parameter.
macro_rules! id_path {
    ($(#[$meta:meta])* $name:ident { $field:ident }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, apistos::JsonSchema, apistos::ApiComponent, $crate::input::Input)]
        #[input(plain)]
        pub struct $name {
            /// Identifier (integer).
            pub $field: i64,
        }
    };
}
pub(crate) use id_path;

/// Declares a path DTO with one string parameter (used verbatim).
macro_rules! text_path {
    ($(#[$meta:meta])* $name:ident { $field:ident }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, apistos::JsonSchema, apistos::ApiComponent, $crate::input::Input)]
        pub struct $name {
            /// Path value (percent-decoded, used verbatim).
            pub $field: String,
        }
    };
}
pub(crate) use text_path;

id_path!(
    /// `{user_id}`.
    UserIdPath { user_id }
);
id_path!(
    /// `{creator_id}`.
    CreatorIdPath { creator_id }
);
id_path!(
    /// `{content_id}`.
    ContentIdPath { content_id }
);
id_path!(
    /// `{content_item_id}`.
    ContentItemIdPath { content_item_id }
);
id_path!(
    /// `{interaction_id}`.
    InteractionIdPath { interaction_id }
);
id_path!(
    /// `{recommendation_id}`.
    RecommendationIdPath { recommendation_id }
);
id_path!(
    /// `{job_id}`.
    JobIdPath { job_id }
);

/// The kind of a content item.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "ContentType")]
pub enum ContentTypeDoc {
    // Text.
    Text,
    // Image.
    Image,
    // Video.
    Video,
    // Audio.
    Audio,
}

/// What an API key may do; each scope includes the ones before it.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "KeyScope")]
pub enum ScopeDoc {
    // GET and HEAD.
    Read,
    // Every request except administration.
    Write,
    // Everything, administration included.
    Admin,
}

/// What a user did with a content item.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "InteractionType")]
pub enum InteractionTypeDoc {
    // Viewed.
    View,
    // Liked.
    Like,
    // Shared.
    Share,
    // Downloaded.
    Download,
    // Bookmarked.
    Bookmark,
    // Commented.
    Comment,
    // Rated.
    Rate,
}

/// What a generation job makes (canonical names; `text`, `image`, `video`, `audio` are
/// accepted as input too).
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "JobType")]
pub enum JobTypeDoc {
    // Text.
    TextGeneration,
    // Image.
    ImageGeneration,
    // Video.
    VideoGeneration,
    // Audio.
    AudioGeneration,
}

/// Where a generation job is in its life.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "JobStatus")]
pub enum JobStatusDoc {
    // Queued.
    Pending,
    // Running.
    Running,
    // Finished with a result.
    Completed,
    // Finished with an error.
    Failed,
    // Stopped on request.
    Cancelled,
}

/// An event kind a webhook may ask for (documentation only).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "WebhookEvent")]
pub enum WebhookEventDoc {
    // A worker started an attempt.
    Started,
    // The generator reported progress.
    Progress,
    // Finished with a result.
    Completed,
    // Finished with an error.
    Failed,
    // Stopped on request.
    Cancelled,
}

/// State of a webhook delivery (documentation only).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "WebhookDeliveryStatus")]
pub enum DeliveryStatusDoc {
    // Not delivered yet; attempted (again) at `next_attempt_at`.
    Pending,
    // The receiver answered 2xx.
    Delivered,
    // Given up.
    Failed,
}

/// A JSON object.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn plain_path_ids_read_what_the_field_pass_reads() {
        use crate::input::{Input, parse_object};
        use serde_json::{Map, Value};
        for raw in [
            "0",
            "7",
            "007",
            "2147483647",
            "2147483648",
            "999999999999999999",
            "9999999999999999999",
            "99999999999999999999",
            "",
            " 5",
            "5 ",
            "+5",
            "-5",
            "5.0",
            "1e3",
            "٣",
            "0x10",
            "5\u{0}",
        ] {
            let plain = UserIdPath::plain(&|name| (name == "user_id").then_some(raw));
            let mut values = Map::new();
            values.insert("user_id".into(), Value::String(raw.into()));
            let parsed = parse_object::<UserIdPath>(&values, &Value::Null, vec!["path".into()]);
            if let Some(plain) = plain {
                // The shortcut may only answer where the full pass accepts the same value.
                assert_eq!(Some(plain.user_id), parsed.ok().map(|p| p.user_id), "{raw:?}");
            }
            let digits = !raw.is_empty() && raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit());
            assert_eq!(plain.is_some(), digits, "{raw:?}: plain digits take the shortcut");
        }
        assert!(
            UserIdPath::plain(&|_| None).is_none(),
            "a missing segment takes the full pass"
        );
    }

    #[test]
    fn timestamps_print_six_digits_or_none() {
        let at = |micro| {
            NaiveDate::from_ymd_opt(2025, 9, 19)
                .unwrap()
                .and_hms_micro_opt(23, 52, 25, micro)
                .unwrap()
        };
        let json = |t| {
            #[derive(Serialize)]
            struct W(#[serde(serialize_with = "timestamp")] NaiveDateTime);
            serde_json::to_string(&W(t)).unwrap()
        };
        assert_eq!(json(at(364_437)), "\"2025-09-19T23:52:25.364437\"");
        assert_eq!(json(at(0)), "\"2025-09-19T23:52:25\"");
        assert_eq!(json(at(5)), "\"2025-09-19T23:52:25.000005\"");
        assert_eq!(json(at(999_999)), "\"2025-09-19T23:52:25.999999\"");
    }
}
