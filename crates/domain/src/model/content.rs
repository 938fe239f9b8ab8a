use super::{JsonObject, Timestamp, string_enum};
use crate::ids::{ContentId, UserId};
use crate::values::Tags;

string_enum!(
    /// The kind of a content item.
    ContentType {
        /// Text (stories, poems, articles).
        Text => "text",
        /// Still images.
        Image => "image",
        /// Video clips.
        Video => "video",
        /// Audio clips.
        Audio => "audio",
    }
);

/// A content item (generated or uploaded).
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// Identifier.
    pub id: ContentId,
    /// Title (trimmed, non-blank).
    pub title: String,
    /// Kind.
    pub content_type: ContentType,
    /// The content itself or a reference (URL/path) to it.
    pub content_data: String,
    /// Free-form metadata.
    pub item_metadata: JsonObject,
    /// Who created it.
    pub creator_id: UserId,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Normalised tags.
    pub tags: Vec<String>,
    /// Quality in `[0, 1]`.
    pub quality_score: f64,
    /// Listed publicly.
    pub is_public: bool,
    /// Private (never both public and private).
    pub is_private: bool,
}

impl Content {
    /// "Public" as every filter means it: public and not private.
    pub fn is_listed_publicly(&self) -> bool {
        self.is_public && !self.is_private
    }
}

/// Command: create a content item.
#[derive(Debug, Clone)]
pub struct NewContent {
    /// Title as sent (the service trims it and rejects blanks).
    pub title: String,
    /// Kind.
    pub content_type: ContentType,
    /// Content as sent (the service rejects blanks).
    pub content_data: String,
    /// Creator (must exist).
    pub creator_id: UserId,
    /// Metadata.
    pub item_metadata: JsonObject,
    /// Tags.
    pub tags: Tags,
    /// Public flag.
    pub is_public: bool,
    /// Private flag.
    pub is_private: bool,
}

/// Command: change some fields of a content item (`None` = leave as is).
#[derive(Debug, Clone, Default)]
pub struct ContentChanges {
    /// New title.
    pub title: Option<String>,
    /// New content.
    pub content_data: Option<String>,
    /// Replacement metadata.
    pub item_metadata: Option<JsonObject>,
    /// Replacement tags.
    pub tags: Option<Tags>,
    /// New public flag.
    pub is_public: Option<bool>,
    /// New private flag.
    pub is_private: Option<bool>,
}

/// Query: which content items to list. All given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct ContentQuery {
    /// Case-insensitive match on the title: substring, or full-text (English stemming).
    pub search_term: Option<String>,
    /// Exact content type.
    pub content_type: Option<ContentType>,
    /// Exact creator.
    pub creator_id: Option<UserId>,
    /// Only items that are public and not private.
    pub public_only: bool,
    /// The item must carry every one of these tags (exact, case-sensitive).
    pub tags: Vec<String>,
    /// For every key, `item_metadata[key]` must equal the value (a JSON `null` matches a
    /// missing key or a null value).
    pub metadata: JsonObject,
    /// Only items created at or after this time.
    pub created_since: Option<Timestamp>,
}

impl ContentQuery {
    /// Whether `c` passes every filter except `search_term` (type, creator, public only, tags,
    /// metadata, creation time) — as the stores apply them.
    pub fn matches_filters(&self, c: &Content) -> bool {
        use serde_json::Value;
        let metadata_ok = self
            .metadata
            .iter()
            .all(|(k, v)| match (c.item_metadata.get(k), v) {
                (None | Some(Value::Null), Value::Null) => true,
                (Some(actual), expected) => actual == expected,
                (None, _) => false,
            });
        self.content_type.is_none_or(|t| c.content_type == t)
            && self.creator_id.is_none_or(|u| c.creator_id == u)
            && (!self.public_only || c.is_listed_publicly())
            && self.tags.iter().all(|t| c.tags.contains(t))
            && metadata_ok
            && self.created_since.is_none_or(|since| c.created_at >= since)
    }
}

/// A position in the content listing order — newest first: `created_at` descending, ties by
/// `id` descending. Keyset ("load more") paging continues strictly after a key, so a page costs
/// the same at any depth and items created meanwhile never shift or repeat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentKey {
    /// Creation time of the item at this position.
    pub created_at: Timestamp,
    /// Its id (breaks ties between items created at the same instant).
    pub id: ContentId,
}

impl ContentKey {
    /// The position of `c`.
    pub fn of(c: &Content) -> Self {
        ContentKey {
            created_at: c.created_at,
            id: c.id,
        }
    }

    /// Whether `c` comes after this position in the listing order (strictly older, or as old
    /// with a smaller id) — the row-value comparison `(created_at, id) < (key)`.
    pub fn is_before(&self, c: &Content) -> bool {
        (c.created_at, c.id) < (self.created_at, self.id)
    }
}

/// Where a page of the content listing starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentStart {
    /// After skipping this many matches (offset paging; cost grows with the offset).
    Skip(i64),
    /// Strictly after this position (keyset paging; cost independent of the depth).
    After(ContentKey),
}

/// Counts of content items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentStats {
    /// All items.
    pub total: i64,
    /// Public and not private.
    pub public: i64,
    /// Private.
    pub private: i64,
    /// Per type, in [`ContentType::ALL`] order.
    pub by_type: Vec<(ContentType, i64)>,
}
