//! The recommender: algorithms, the derived state they use, and their offline evaluation.
//!
//! Pure code over the [`RecommenderData`](crate::ports::RecommenderData) and
//! [`RecommenderBuildStore`](crate::ports::RecommenderBuildStore) ports:
//!
//! * [`signal`] — how much an interaction says about a user's taste (type, rating, age);
//! * [`build`] — the maintenance job's computation: per-item popularity (forward-decayed, so
//!   untouched items never need rewriting), item-to-item neighbours (cosine over implicit
//!   feedback), per-tag statistics; full or incremental;
//! * [`learned`] — the learned model (EASE), fitted by the build on the most-used items;
//! * [`engine`] — request-time recommendation by [`Algorithm`]: `popularity`, `content`,
//!   `item-knn`, `ease` and the default `hybrid` (blend, cold start, exclusions, negative feedback,
//!   diversity), each explaining itself;
//! * [`snapshot`] — the ports over data held in memory (offline evaluation, tests);
//! * [`eval`] — leave-last-out and time-split evaluation with precision, recall, NDCG, hit
//!   rate and coverage at k.

pub mod build;
pub mod engine;
#[cfg(feature = "eval")]
pub mod eval;
pub mod learned;
pub mod popularity;
pub mod signal;
pub mod snapshot;

pub use build::{BuildClaim, BuildConfig, BuildInfo, BuildReport, BuildStatus, ItemRow, Mode, TagRow};
pub use engine::{Outcome, Recommended, TAG_FALLBACK_NOTE, Vectors, recommend, recommend_with, similar};
pub use learned::{EaseConfig, Model, ModelRow};
pub use popularity::{EraRow, EraTables, PopularityConfig};
pub use signal::Signal;

use crate::ids::{ContentId, UserId};
use crate::model::{ContentType, JsonObject, Timestamp};

/// A recommendation algorithm, selected by the `algorithm_version` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Time-decayed, type-weighted popularity: the cold-start baseline.
    Popularity,
    /// Similarity of items to the user's profile (tags, types, genres, preferences).
    Content,
    /// Item-to-item collaborative filtering over precomputed neighbours.
    ItemKnn,
    /// The learned model (EASE) folded in over the user's newest positive items.
    Ease,
    /// The default: a blend of the three with cold-start handling and diversity.
    Hybrid,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Popularity,
        Algorithm::Content,
        Algorithm::ItemKnn,
        Algorithm::Ease,
        Algorithm::Hybrid,
    ];

    /// Used for labels that name no algorithm.
    pub const DEFAULT: Algorithm = Algorithm::Hybrid;

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Popularity => "popularity",
            Algorithm::Content => "content",
            Algorithm::ItemKnn => "item-knn",
            Algorithm::Ease => "ease",
            Algorithm::Hybrid => "hybrid",
        }
    }

    /// The algorithm a label names: its canonical name or an alias, optionally followed by a
    /// version (`hybrid`, `item_knn_v2`, `Popularity-2025`, `content-based`). `None` for
    /// labels that name none (`test_v1.0`).
    pub fn from_label(label: &str) -> Option<Algorithm> {
        let label = label.trim().to_ascii_lowercase().replace('_', "-");
        const NAMES: &[(&str, Algorithm)] = &[
            ("item-knn", Algorithm::ItemKnn),
            ("itemknn", Algorithm::ItemKnn),
            ("item-cf", Algorithm::ItemKnn),
            ("knn", Algorithm::ItemKnn),
            ("collaborative", Algorithm::ItemKnn),
            ("content-based", Algorithm::Content),
            ("content", Algorithm::Content),
            ("popularity", Algorithm::Popularity),
            ("popular", Algorithm::Popularity),
            ("hybrid", Algorithm::Hybrid),
            ("ease", Algorithm::Ease),
            ("learned", Algorithm::Ease),
        ];
        NAMES.iter().find_map(|(name, algorithm)| {
            let rest = label.strip_prefix(name)?;
            // A version may follow; another word may not (`contentious` is not `content`).
            rest.chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphabetic())
                .then_some(*algorithm)
        })
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the recommender needs to know about an item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemFacts {
    /// The item.
    pub id: ContentId,
    /// Its creator (never recommended their own items).
    pub creator: UserId,
    /// Its type.
    pub content_type: ContentType,
    /// Its tags.
    pub tags: Vec<String>,
    /// `item_metadata.genre`, if a string.
    pub genre: Option<String>,
    /// Public and not private: the only items ever recommended.
    pub listed: bool,
    /// Quality score.
    pub quality: f64,
    /// Creation time.
    pub created_at: Timestamp,
}

impl ItemFacts {
    /// The facts of a content item.
    pub fn of(content: &crate::model::Content) -> Self {
        ItemFacts {
            id: content.id,
            creator: content.creator_id,
            content_type: content.content_type,
            tags: content.tags.clone(),
            genre: content
                .item_metadata
                .get("genre")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            listed: content.is_listed_publicly(),
            quality: content.quality_score,
            created_at: content.created_at,
        }
    }
}

/// A user as the recommender sees them at request time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserState {
    /// Recent interactions, newest first, with their items' facts.
    pub history: Vec<(Signal, ItemFacts)>,
    /// Items the user rejected (recommendations with negative feedback).
    pub rejected: Vec<ContentId>,
    /// The user's preferences (`favorite_tags`, `favorite_genres`, `content_types`, …).
    pub preferences: JsonObject,
}

/// Which candidate lists to read from the derived state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidateRequest {
    /// Items whose neighbours are wanted.
    pub seeds: Vec<ContentId>,
    /// Tags whose top items (and document frequencies) are wanted.
    pub tags: Vec<String>,
    /// Top items per tag.
    pub per_tag: usize,
    /// How many of the most popular items.
    pub popular: usize,
    /// Popular *when*: the era containing this time (the user's newest interaction, or now)
    /// is read; before the first era, or without eras, all-time popularity.
    pub popular_at: Option<Timestamp>,
    /// How many of the newest listed items (item cold start; read live, never derived).
    pub recent: usize,
    /// Whether the learned model's rows of the seeds are wanted too (and with them the
    /// trending era of [`popular_at`](Self::popular_at)).
    pub model: bool,
}

/// Candidate lists read from the derived state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidateLists {
    /// When the build they come from finished; `None`: never built (every derived list is
    /// empty).
    pub built_at: Option<Timestamp>,
    /// Neighbours of the seeds that have any, best first.
    pub neighbours: Vec<(ContentId, Vec<(ContentId, f32)>)>,
    /// The learned model's rows of the seeds it covers (if asked for), best first.
    pub model: Vec<(ContentId, Vec<(ContentId, f32)>)>,
    /// Statistics of the requested tags that exist.
    pub tags: Vec<TagRow>,
    /// The most popular items (of the era of [`CandidateRequest::popular_at`]), best first.
    pub popular: Vec<(ContentId, f64)>,
    /// The trending items of that era, best first, scores in `[0, 1]` (if the model was asked
    /// for; empty before the first era).
    pub trending: Vec<(ContentId, f64)>,
    /// The newest listed items, newest first (present with or without a build).
    pub recent: Vec<ContentId>,
}
