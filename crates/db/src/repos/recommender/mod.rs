//! The recommender's reads and its derived state (`item_stats`, `tag_stats`, `item_model`,
//! `popularity_eras`, `trending_eras`, `recommender_state`) in PostgreSQL.
//!
//! Request time costs three indexed round trips: the user's recent interactions with their
//! items, their preferences and rejections, then every candidate list in one statement
//! (neighbour arrays and learned-model rows by primary key, tag rows by primary key, the
//! popularity index, the era containing the user's newest interaction by primary key, the
//! newest listed items), then the candidates' facts by primary key.

mod build;
mod data;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Double, Float8, Integer, Jsonb, Nullable, Text, Timestamp as SqlTimestamp,
};
use diesel_async::{AsyncConnection, RunQueryDsl};
use genonaut_domain::DomainResult;
use genonaut_domain::ids::{ContentId, UserId};
use genonaut_domain::model::{ContentType, InteractionType, JsonObject, Timestamp};
use genonaut_domain::ports::{RecommenderBuildStore, RecommenderData};
use genonaut_domain::recommender::{
    BuildClaim, BuildInfo, BuildStatus, CandidateLists, CandidateRequest, EraTables, ItemFacts, ItemRow,
    Model, Signal, TagRow, UserState,
};
use serde_json::Value;

use crate::PgPool;
use crate::error::db;
use crate::rows::{key, keys, object};

/// The recommender's ports over one schema.
#[derive(Clone)]
pub struct PgRecommender {
    pool: PgPool,
}

impl PgRecommender {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgRecommender { pool }
    }
}

const FACTS: &str = "c.id, c.creator_id, c.content_type, c.tags, c.item_metadata ->> 'genre' AS genre, \
                     (c.is_public AND NOT c.is_private) AS listed, c.quality_score, c.created_at";

#[derive(QueryableByName)]
struct FactsRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Integer)]
    creator_id: i32,
    #[diesel(sql_type = Text)]
    content_type: String,
    #[diesel(sql_type = Jsonb)]
    tags: Value,
    #[diesel(sql_type = Nullable<Text>)]
    genre: Option<String>,
    #[diesel(sql_type = Bool)]
    listed: bool,
    #[diesel(sql_type = Double)]
    quality_score: f64,
    #[diesel(sql_type = SqlTimestamp)]
    created_at: Timestamp,
}

impl FactsRow {
    fn into_facts(self) -> Option<ItemFacts> {
        Some(ItemFacts {
            id: self.id.into(),
            creator: self.creator_id.into(),
            content_type: ContentType::parse(&self.content_type)?,
            tags: match self.tags {
                Value::Array(tags) => tags
                    .into_iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            },
            genre: self.genre,
            listed: self.listed,
            quality: self.quality_score,
            created_at: self.created_at,
        })
    }
}

pub(super) fn size(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
