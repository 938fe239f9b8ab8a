//! Content items (contract §4.3).

use apistos::{ApiComponent, JsonSchema};
use chrono::NaiveDateTime;
use genonaut_domain::KeysetPage;
use genonaut_domain::ids::UserId;
use genonaut_domain::model::{
    Content, ContentChanges, ContentKey, ContentQuery, ContentStart, ContentStats, ContentType, NewContent,
};
use genonaut_domain::values::Tags;
use serde::Serialize;
use serde_json::json;

use super::{ContentTypeDoc, JsonObject, limit_query, read_window, text_path, timestamp};
use crate::input::{Fields, Input, cursor};

/// A content item.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = ContentOut::example())]
pub struct ContentOut {
    /// Identifier.
    pub id: i64,
    /// Title.
    pub title: String,
    /// `text`, `image`, `video` or `audio`.
    #[schemars(with = "ContentTypeDoc")]
    pub content_type: &'static str,
    /// The content, or a reference (URL/path) to it.
    pub content_data: String,
    /// Free-form metadata.
    pub item_metadata: JsonObject,
    /// Creator's user id.
    pub creator_id: i64,
    /// Creation time (UTC, no zone).
    #[serde(serialize_with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: NaiveDateTime,
    /// Tags, in first-occurrence order.
    pub tags: Vec<String>,
    /// Quality in [0, 1].
    pub quality_score: f64,
    /// Listed publicly.
    pub is_public: bool,
    /// Private (never together with `is_public`).
    pub is_private: bool,
    /// For media items (`content_data` a `/media/...` path): a signed, expiring URL of the file
    /// that a browser can load without an API key (`<img src>`, `<video src>`, `<audio src>`),
    /// valid for `GENONAUT_MEDIA_URL_TTL_SECS` (default an hour); `null` otherwise. Fetch the
    /// item again for a fresh one. An expired or altered URL answers 403.
    pub media_url: Option<String>,
}

impl ContentOut {
    fn example() -> serde_json::Value {
        json!({"id": 7, "title": "Nebula Dreams", "content_type": "image", "content_data": "/media/7.png",
               "item_metadata": {"style": "surreal", "resolution": "1024x768"}, "creator_id": 1,
               "created_at": "2025-09-19T23:52:25.364437", "tags": ["space", "surreal"], "quality_score": 0.5,
               "is_public": true, "is_private": false,
               "media_url": "/media/7.png?expires=1758329580&sig=5c1f0e2a9b7d4c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"})
    }

    /// With `media_url` filled in by `links`.
    pub fn linked(mut self, links: &crate::media::MediaLinks) -> Self {
        self.media_url = links.url(&self.content_data);
        self
    }
}

impl From<Content> for ContentOut {
    fn from(c: Content) -> Self {
        ContentOut {
            id: c.id.0,
            title: c.title,
            content_type: c.content_type.as_str(),
            content_data: c.content_data,
            item_metadata: c.item_metadata,
            creator_id: c.creator_id.0,
            created_at: c.created_at,
            tags: c.tags,
            quality_score: c.quality_score,
            is_public: c.is_public,
            is_private: c.is_private,
            media_url: None,
        }
    }
}

/// Tags read as a list of strings (normalised and validated by the domain).
fn read_tags(f: &mut Fields<'_>, name: &str, raw: Option<Vec<String>>) -> Option<Tags> {
    f.validate(name, raw, Tags::parse)
}

/// An item is public or private, not both.
fn not_public_and_private(f: &mut Fields<'_>, is_public: &bool, is_private: &bool) -> bool {
    if *is_public && *is_private {
        f.value_error("is_private", "Content cannot be both public and private");
        return false;
    }
    true
}

/// A cursor says where the page starts: no `skip` with it.
fn cursor_starts_the_page(f: &mut Fields<'_>, cursor: &Option<ContentKey>, skip: &i64) -> bool {
    if cursor.is_some() && *skip > 0 {
        f.value_error(
            "skip",
            "skip cannot be combined with cursor: a cursor already says where the page starts",
        );
        return false;
    }
    true
}

/// Body of `POST /api/v1/content/`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = ContentCreate::example())]
#[input(check = not_public_and_private(is_public, is_private))]
pub struct ContentCreate {
    /// 1–255 characters, not blank; stored trimmed.
    #[schemars(length(min = 1, max = 255))]
    pub title: String,
    /// Kind of content.
    #[schemars(with = "ContentTypeDoc")]
    pub content_type: ContentType,
    /// The content or a reference to it; not blank.
    #[schemars(length(min = 1))]
    pub content_data: String,
    /// Creator (an existing user; an unknown one is a 422 "Creator not found").
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub creator_id: i64,
    /// Metadata (`null` = `{}`).
    pub item_metadata: Option<JsonObject>,
    /// Tags: trimmed, blanks dropped, duplicates removed (first occurrence kept), at most 20.
    #[schemars(with = "Option<Vec<String>>")]
    #[input(then = read_tags)]
    pub tags: Option<Tags>,
    /// Listed publicly.
    #[serde(default = "crate::dto::defaults::yes")]
    pub is_public: bool,
    /// Private; cannot be combined with `is_public: true` (send `is_public: false`).
    #[serde(default)]
    pub is_private: bool,
}

impl ContentCreate {
    fn example() -> serde_json::Value {
        json!({"title": "Nebula Dreams", "content_type": "image", "content_data": "/media/7.png", "creator_id": 1,
               "item_metadata": {"style": "surreal"}, "tags": ["space", "surreal"], "is_public": true, "is_private": false})
    }
}

impl From<ContentCreate> for NewContent {
    fn from(b: ContentCreate) -> Self {
        NewContent {
            title: b.title,
            content_type: b.content_type,
            content_data: b.content_data,
            creator_id: UserId(b.creator_id),
            item_metadata: b.item_metadata.unwrap_or_default(),
            tags: b.tags.unwrap_or_default(),
            is_public: b.is_public,
            is_private: b.is_private,
        }
    }
}

/// Body of `PUT /api/v1/content/{content_id}` — every field optional; `null` = unchanged.
/// `content_type`, `creator_id` and `quality_score` cannot be changed here.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = ContentUpdate::example())]
pub struct ContentUpdate {
    /// New title (1–255, not blank, trimmed).
    #[schemars(length(min = 1, max = 255))]
    pub title: Option<String>,
    /// New content (not blank).
    #[schemars(length(min = 1))]
    pub content_data: Option<String>,
    /// Replacement metadata (the whole object).
    pub item_metadata: Option<JsonObject>,
    /// Replacement tags (`[]` clears them).
    #[schemars(with = "Option<Vec<String>>")]
    #[input(then = read_tags)]
    pub tags: Option<Tags>,
    /// New public flag.
    pub is_public: Option<bool>,
    /// New private flag (to make public content private send `is_public: false` too).
    pub is_private: Option<bool>,
}

impl ContentUpdate {
    fn example() -> serde_json::Value {
        json!({"title": "Nebula Dreams (remastered)", "tags": ["space"], "is_public": false, "is_private": true})
    }
}

impl From<ContentUpdate> for ContentChanges {
    fn from(b: ContentUpdate) -> Self {
        ContentChanges {
            title: b.title,
            content_data: b.content_data,
            item_metadata: b.item_metadata,
            tags: b.tags,
            is_public: b.is_public,
            is_private: b.is_private,
        }
    }
}

/// Body of `PUT /api/v1/content/{content_id}/quality`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[schemars(example = QualityUpdate::example())]
pub struct QualityUpdate {
    /// Quality in [0, 1].
    #[schemars(range(min = 0.0, max = 1.0))]
    pub quality_score: f64,
}

impl QualityUpdate {
    fn example() -> serde_json::Value {
        json!({"quality_score": 0.85})
    }
}

/// A page of `GET /api/v1/content/`: the list envelope plus `next_cursor`, where the next page
/// starts.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = ContentPage::example())]
pub struct ContentPage {
    /// This page of results.
    pub items: Vec<ContentOut>,
    /// Matches before paging (every filter applied; the cursor and `skip` ignored).
    pub total: i64,
    /// Echo of the requested `skip` (0 with a cursor).
    pub skip: i64,
    /// Echo of the requested `limit`.
    pub limit: i64,
    /// Pass it as `cursor`, with the same filters, for the page after this one; `null` on the
    /// last page. Opaque.
    pub next_cursor: Option<String>,
}

impl ContentPage {
    /// A page of the listing, echoing the window, with every item's `media_url` filled in.
    pub fn of(
        page: KeysetPage<Content, ContentKey>,
        skip: i64,
        limit: i64,
        links: &crate::media::MediaLinks,
    ) -> Self {
        ContentPage {
            items: page
                .items
                .into_iter()
                .map(|c| ContentOut::from(c).linked(links))
                .collect(),
            total: page.total,
            skip,
            limit,
            next_cursor: page.next.map(cursor::encode),
        }
    }

    fn example() -> serde_json::Value {
        json!({"items": [ContentOut::example()], "total": 1342, "skip": 0, "limit": 1,
               "next_cursor": cursor_example()})
    }
}

/// Query of `GET /api/v1/content/`: every given filter applies (AND).
#[derive(Debug, JsonSchema, ApiComponent, Input)]
#[input(check = cursor_starts_the_page(cursor, skip))]
pub struct ContentListQuery {
    /// Title contains this (case-insensitive; `%` and `_` are literal) or matches it as English
    /// full text (`cats` finds "Cat").
    pub search_term: Option<String>,
    /// Only this type.
    #[schemars(with = "Option<ContentTypeDoc>")]
    pub content_type: Option<ContentType>,
    /// Only this creator.
    #[schemars(range(min = 1))]
    #[input(gt)]
    pub creator_id: Option<i64>,
    /// Only items that are public and not private.
    #[serde(default)]
    pub public_only: bool,
    /// Items must carry every given tag (repeat the parameter: `?tags=a&tags=b`).
    pub tags: Option<Vec<String>>,
    /// Rows to skip (≥ 0). Not with `cursor` (422 at `skip` when both are sent and `skip` > 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
    /// Keyset paging ("load more"): the `next_cursor` of the previous page, passed back
    /// unchanged with the same filters; the page starts right after that page's last item. As
    /// fast at any depth, where `skip` gets slower the deeper it goes; items created meanwhile
    /// never shift or repeat a page. Opaque text; empty = the first page; malformed → 422.
    #[schemars(with = "Option<String>", example = cursor_example())]
    #[input(with = Fields::cursor)]
    pub cursor: Option<ContentKey>,
}

/// An example `cursor`.
fn cursor_example() -> &'static str {
    "MToxNzU4MzI1OTQ1OjM2NDQzNzAwMDo3"
}

impl ContentListQuery {
    /// Where the page starts: after the cursor's item, else after `skip` items.
    pub fn start(&self) -> ContentStart {
        match self.cursor {
            Some(key) => ContentStart::After(key),
            None => ContentStart::Skip(self.skip),
        }
    }

    /// The domain query.
    pub fn query(&self) -> ContentQuery {
        ContentQuery {
            search_term: self.search_term.clone(),
            content_type: self.content_type,
            creator_id: self.creator_id.map(UserId),
            public_only: self.public_only,
            tags: self.tags.clone().unwrap_or_default(),
            ..ContentQuery::default()
        }
    }
}

/// Body of `POST /api/v1/content/search` (every field optional; all filters ANDed).
#[derive(Debug, JsonSchema, ApiComponent)]
#[schemars(example = ContentSearch::example())]
pub struct ContentSearch {
    /// Title contains this (case-insensitive) or matches it as English full text.
    pub search_term: Option<String>,
    /// Only this type.
    #[schemars(with = "Option<ContentTypeDoc>")]
    pub content_type: Option<ContentType>,
    /// Only this creator.
    #[schemars(range(min = 1))]
    pub creator_id: Option<i64>,
    /// `item_metadata[key]` must equal each given value (type-sensitive; `null` matches a
    /// missing key or a null value).
    pub metadata_filter: Option<JsonObject>,
    /// Items must carry every given tag (exact, case-sensitive).
    pub tags: Option<Vec<String>>,
    /// Only items that are public and not private.
    #[serde(default)]
    pub public_only: bool,
    /// `keyword` (the default): `search_term` matches titles, newest first. `semantic`: items
    /// ranked by meaning — nearest to `search_term` (required) by sentence embedding of their
    /// title, prompt, description and tags, most similar first; the other filters still apply
    /// and `total` counts the matches among the 1,000 nearest items. Without an embedding
    /// model (see `GET /ready`), `semantic` is refused with 422.
    #[serde(default)]
    #[schemars(with = "Option<SearchModeDoc>")]
    pub search_mode: SearchMode,
    /// Rows to skip (≥ 0).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub skip: i64,
    /// Rows to return (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

/// How `POST /content/search` matches `search_term`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchMode {
    /// Title substring or English full text; newest first.
    #[default]
    Keyword,
    /// By meaning (sentence embeddings); most similar first.
    Semantic,
}

impl crate::input::InputEnum for SearchMode {
    fn parse_input(raw: &str) -> Option<Self> {
        match raw {
            "keyword" => Some(SearchMode::Keyword),
            "semantic" => Some(SearchMode::Semantic),
            _ => None,
        }
    }
    fn expected() -> String {
        crate::input::expected_list(&["keyword", "semantic"])
    }
}

/// `search_mode` as documented.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "SearchMode")]
pub enum SearchModeDoc {
    // Keyword.
    Keyword,
    // Semantic.
    Semantic,
}

impl ContentSearch {
    fn example() -> serde_json::Value {
        json!({"search_term": "sea at night", "content_type": "image", "tags": ["space"],
               "metadata_filter": {"style": "surreal"}, "public_only": true, "search_mode": "semantic",
               "skip": 0, "limit": 10})
    }
}

impl crate::extract::OptionalBody for ContentSearch {}

// Hand-written: it reads `public_only` with the filters it shares with the listing, before
// `metadata_filter` and `tags` (the order its problems are reported in), while its document
// lists it after them.
impl Input for ContentSearch {
    fn parse(f: &mut Fields<'_>) -> Option<Self> {
        let search_term = f.string("search_term").optional();
        let content_type = f.enumeration::<ContentType>("content_type").optional();
        let creator_id = f.int("creator_id").gt(0).optional();
        let public_only = f.boolean("public_only").or(false);
        let metadata_filter = f.object("metadata_filter").optional();
        let tags = f.string_list("tags").optional();
        let search_mode = f.enumeration::<SearchMode>("search_mode").or(SearchMode::Keyword);
        let (skip, limit) = read_window(f, 100);
        Some(ContentSearch {
            search_term,
            content_type,
            creator_id,
            metadata_filter,
            tags,
            public_only,
            search_mode,
            skip,
            limit,
        })
    }
}

impl ContentSearch {
    /// The domain query.
    pub fn query(&self) -> ContentQuery {
        ContentQuery {
            search_term: self.search_term.clone(),
            content_type: self.content_type,
            creator_id: self.creator_id.map(UserId),
            public_only: self.public_only,
            tags: self.tags.clone().unwrap_or_default(),
            metadata: self.metadata_filter.clone().unwrap_or_default(),
            created_since: None,
        }
    }
}

text_path!(
    /// `{content_type}` (not validated: an unknown type lists nothing).
    ContentTypePath { content_type }
);

limit_query!(
    /// `limit` of `GET /content/top-rated/all` (default 10).
    TopRatedQuery,
    "crate::dto::defaults::n_10"
);

/// Query of `GET /api/v1/content/recent/all`.
#[derive(Debug, JsonSchema, ApiComponent, Input)]
pub struct RecentQuery {
    /// Window in days (1…365).
    #[serde(default = "crate::dto::defaults::n_7")]
    #[schemars(range(min = 1, max = 365))]
    pub days: i64,
    /// Maximum number of items (1…1000).
    #[serde(default = "crate::dto::defaults::n_100")]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: i64,
}

/// `GET /api/v1/content/stats/overview`.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct ContentStatsOut {
    /// All items.
    pub total_content: i64,
    /// Public and not private.
    pub public_content: i64,
    /// Private.
    pub private_content: i64,
    /// Count per type; always the four keys `text`, `image`, `video`, `audio`.
    #[schemars(with = "std::collections::BTreeMap<String, i64>")]
    pub type_breakdown: serde_json::Map<String, serde_json::Value>,
}

impl From<ContentStats> for ContentStatsOut {
    fn from(s: ContentStats) -> Self {
        let mut breakdown = serde_json::Map::new();
        for (t, n) in s.by_type {
            breakdown.insert(t.as_str().to_owned(), json!(n));
        }
        ContentStatsOut {
            total_content: s.total,
            public_content: s.public,
            private_content: s.private,
            type_breakdown: breakdown,
        }
    }
}

/// Query of `GET /api/v1/content/{content_id}/similar`.
#[derive(Debug, Clone, Copy, JsonSchema, ApiComponent, Input)]
pub struct SimilarQuery {
    /// Maximum number of items (1…100).
    #[serde(default = "crate::dto::defaults::n_10")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: i64,
}

/// A similar item: the content with its similarity.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
pub struct SimilarItemOut {
    /// The item.
    #[serde(flatten)]
    pub content: ContentOut,
    /// Similarity to the item asked about, 0…1.
    pub score: f64,
}

/// `GET /api/v1/content/{content_id}/similar`: the list envelope plus where the answer came from.
#[derive(Debug, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = SimilarOut::example())]
pub struct SimilarOut {
    /// Similar items, most similar first (public, not private, never the item itself).
    pub items: Vec<SimilarItemOut>,
    /// Number of items.
    pub total: i64,
    /// Always 0.
    pub skip: i64,
    /// Echo of `limit`.
    pub limit: i64,
    /// `item-knn` (neighbours learned from interactions), `embedding` (nearest by meaning, for
    /// items without neighbours yet) or `tags` (shared tags, when the item has no embedding or
    /// no model is loaded).
    pub source: &'static str,
}

impl SimilarOut {
    fn example() -> serde_json::Value {
        json!({"items": [{"id": 9, "title": "Starship Dawn", "content_type": "image", "content_data": "/media/9.png",
               "item_metadata": {"genre": "space opera"}, "creator_id": 4, "created_at": "2025-09-19T23:52:25.364437",
               "tags": ["space", "sci-fi"], "quality_score": 0.8,
               "is_public": true, "is_private": false,
               "media_url": "/media/9.png?expires=1758329580&sig=0f4c9a7e2b1d3c5e7f9a0b2c4d6e8f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d0e", "score": 0.4127}],
               "total": 1, "skip": 0, "limit": 10, "source": "item-knn"})
    }
}
