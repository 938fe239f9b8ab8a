//! The recommender's reads and its derived state (`item_stats`, `tag_stats`, `item_model`,
//! `popularity_eras`, `recommender_state`) in PostgreSQL.
//!
//! Request time costs three indexed round trips: the user's recent interactions with their
//! items, their preferences and rejections, then every candidate list in one statement
//! (neighbour arrays and learned-model rows by primary key, tag rows by primary key, the
//! popularity index, the era containing the user's newest interaction by primary key, the
//! newest listed items), then the candidates' facts by primary key.

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
    BuildClaim, BuildInfo, BuildStatus, CandidateLists, CandidateRequest, EraRow, ItemFacts, ItemRow, Model,
    Signal, TagRow, UserState,
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

#[derive(QueryableByName)]
struct HistoryRow {
    #[diesel(sql_type = Text)]
    interaction_type: String,
    #[diesel(sql_type = Nullable<Integer>)]
    rating: Option<i32>,
    #[diesel(sql_type = SqlTimestamp)]
    at: Timestamp,
    #[diesel(embed)]
    item: FactsRow,
}

#[derive(QueryableByName)]
struct UserRow {
    #[diesel(sql_type = Jsonb)]
    preferences: Value,
    #[diesel(sql_type = Array<Integer>)]
    rejected: Vec<i32>,
}

#[derive(QueryableByName)]
struct ListRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Array<Integer>>)]
    ids: Option<Vec<i32>>,
    #[diesel(sql_type = Nullable<Array<Float8>>)]
    scores: Option<Vec<f64>>,
    #[diesel(sql_type = Nullable<SqlTimestamp>)]
    at: Option<Timestamp>,
}

#[derive(QueryableByName)]
struct ScoreRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Double)]
    score: f64,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Integer)]
    id: i32,
}

fn size(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl RecommenderData for PgRecommender {
    async fn user_state(&self, user: UserId, limit: usize) -> DomainResult<UserState> {
        let Some(user) = key(user.0) else {
            return Ok(UserState::default());
        };
        let mut conn = self.pool.get().await?;
        let history: Vec<HistoryRow> = diesel::sql_query(format!(
            "SELECT i.interaction_type, i.rating, i.created_at AS at, {FACTS} \
             FROM (SELECT content_item_id, interaction_type, rating, created_at, id FROM user_interactions \
                   WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2) i \
             JOIN content_items c ON c.id = i.content_item_id ORDER BY i.created_at DESC, i.id DESC"
        ))
        .bind::<Integer, _>(user)
        .bind::<BigInt, _>(size(limit))
        .load(&mut conn)
        .await
        .map_err(db("reading a user's history"))?;
        let state: Option<UserRow> = diesel::sql_query(
            "SELECT u.preferences, ARRAY(SELECT r.content_item_id FROM recommendations r WHERE r.user_id = u.id \
                    AND r.rec_metadata -> 'feedback' ->> 'type' IN ('disliked', 'dismissed')) AS rejected \
             FROM users u WHERE u.id = $1",
        )
        .bind::<Integer, _>(user)
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(db("reading a user's preferences"))?;
        let (preferences, rejected) = state.map_or((JsonObject::new(), Vec::new()), |s| {
            (object(s.preferences), s.rejected)
        });
        Ok(UserState {
            history: history
                .into_iter()
                .filter_map(|h| {
                    let facts = h.item.into_facts()?;
                    let signal = Signal {
                        item: facts.id,
                        kind: InteractionType::parse(&h.interaction_type)?,
                        rating: h.rating,
                        at: h.at,
                    };
                    Some((signal, facts))
                })
                .collect(),
            rejected: rejected.into_iter().map(ContentId::from).collect(),
            preferences,
        })
    }

    async fn candidates(&self, request: &CandidateRequest) -> DomainResult<CandidateLists> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<ListRow> = diesel::sql_query(
            "SELECT 'b' AS kind, '' AS name, 0::int8 AS n, NULL::int4[] AS ids, NULL::float8[] AS scores, built_at AS at \
             FROM recommender_state WHERE built_at IS NOT NULL \
             UNION ALL \
             SELECT 'n', item_id::text, 0, neighbor_ids, neighbor_scores::float8[], NULL FROM item_stats \
             WHERE item_id = ANY($1) AND cardinality(neighbor_ids) > 0 \
             UNION ALL \
             SELECT 'm', item_id::text, 0, ease_ids, ease_weights::float8[], NULL FROM item_model \
             WHERE $6 AND item_id = ANY($1) \
             UNION ALL \
             SELECT 't', tag, items, top_ids[1:$3], top_scores[1:$3], NULL FROM tag_stats WHERE tag = ANY($2) \
             UNION ALL \
             (SELECT 'p', '', 0, array_agg(item_id ORDER BY popularity DESC, item_id), \
                     array_agg(popularity ORDER BY popularity DESC, item_id), NULL \
              FROM (SELECT item_id, popularity FROM item_stats ORDER BY popularity DESC, item_id LIMIT $4) p \
              HAVING count(*) > 0) \
             UNION ALL \
             (SELECT 'e', '', 0, item_ids[1:$4::int4], scores[1:$4::int4], NULL FROM popularity_eras \
              WHERE starts_at <= $7 ORDER BY starts_at DESC LIMIT 1) \
             UNION ALL \
             (SELECT 'r', '', 0, array_agg(id ORDER BY created_at DESC, id DESC), NULL, NULL \
              FROM (SELECT id, created_at FROM content_items WHERE is_public AND NOT is_private \
                    ORDER BY created_at DESC, id DESC LIMIT $5) r HAVING count(*) > 0)",
        )
        .bind::<Array<Integer>, _>(keys(request.seeds.iter().map(|s| s.0)))
        .bind::<Array<Text>, _>(request.tags.clone())
        .bind::<Integer, _>(i32::try_from(request.per_tag).unwrap_or(i32::MAX))
        .bind::<BigInt, _>(size(request.popular))
        .bind::<BigInt, _>(size(request.recent))
        .bind::<Bool, _>(request.model)
        .bind::<Nullable<SqlTimestamp>, _>(request.popular_at)
        .load(&mut conn)
        .await
        .map_err(db("reading recommendation candidates"))?;
        let mut lists = CandidateLists::default();
        let mut era: Vec<(ContentId, f64)> = Vec::new();
        for row in rows {
            let ids: Vec<ContentId> = row
                .ids
                .unwrap_or_default()
                .into_iter()
                .map(ContentId::from)
                .collect();
            let scores = row.scores.unwrap_or_default();
            match row.kind.as_str() {
                "b" => lists.built_at = row.at,
                "n" | "m" => {
                    if let Ok(item) = row.name.parse::<i64>() {
                        let weights = ids
                            .into_iter()
                            .zip(scores.into_iter().map(|s| s as f32))
                            .collect();
                        if row.kind == "n" {
                            lists.neighbours.push((ContentId(item), weights));
                        } else {
                            lists.model.push((ContentId(item), weights));
                        }
                    }
                }
                "t" => lists.tags.push(TagRow {
                    tag: row.name,
                    items: row.n,
                    top: ids.into_iter().zip(scores).collect(),
                }),
                "p" => lists.popular = ids.into_iter().zip(scores).collect(),
                "e" => era = ids.into_iter().zip(scores).collect(),
                _ => lists.recent = ids,
            }
        }
        if !era.is_empty() {
            lists.popular = era;
        }
        if lists.built_at.is_none() {
            lists.neighbours.clear();
            lists.model.clear();
            lists.tags.clear();
            lists.popular.clear();
        }
        Ok(lists)
    }

    async fn popular_live(
        &self,
        since: Timestamp,
        weights: &[(&'static str, f64)],
        limit: usize,
    ) -> DomainResult<Vec<(ContentId, f64)>> {
        let (kinds, weights): (Vec<&str>, Vec<f64>) = weights.iter().copied().unzip();
        let mut conn = self.pool.get().await?;
        let rows: Vec<ScoreRow> = diesel::sql_query(
            "SELECT i.content_item_id AS id, sum(w.weight)::float8 AS score \
             FROM user_interactions i JOIN unnest($2::text[], $3::float8[]) AS w(kind, weight) \
                  ON w.kind = i.interaction_type \
             JOIN content_items c ON c.id = i.content_item_id AND c.is_public AND NOT c.is_private \
             WHERE i.created_at >= $1 GROUP BY i.content_item_id ORDER BY score DESC, id LIMIT $4",
        )
        .bind::<SqlTimestamp, _>(since)
        .bind::<Array<Text>, _>(kinds)
        .bind::<Array<Float8>, _>(weights)
        .bind::<BigInt, _>(size(limit))
        .load(&mut conn)
        .await
        .map_err(db("computing live popularity"))?;
        Ok(rows.into_iter().map(|r| (r.id.into(), r.score)).collect())
    }

    async fn tagged_live(&self, tags: &[String], limit: usize) -> DomainResult<Vec<ContentId>> {
        if tags.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await?;
        // One containment probe per tag, each answered by the GIN index on tags.
        let rows: Vec<IdRow> = diesel::sql_query(
            "SELECT DISTINCT ON (c.quality_score, c.id) c.id FROM unnest($1::text[]) AS t(tag) \
             CROSS JOIN LATERAL (SELECT id, quality_score FROM content_items \
                                 WHERE tags @> jsonb_build_array(t.tag) AND is_public AND NOT is_private) c \
             ORDER BY c.quality_score DESC, c.id LIMIT $2",
        )
        .bind::<Array<Text>, _>(tags.to_vec())
        .bind::<BigInt, _>(size(limit))
        .load(&mut conn)
        .await
        .map_err(db("finding items by tag"))?;
        Ok(rows.into_iter().map(|r| r.id.into()).collect())
    }

    async fn facts(&self, ids: &[ContentId]) -> DomainResult<Vec<ItemFacts>> {
        let ids = keys(ids.iter().map(|i| i.0));
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await?;
        let rows: Vec<FactsRow> = diesel::sql_query(format!(
            "SELECT {FACTS} FROM content_items c WHERE c.id = ANY($1)"
        ))
        .bind::<Array<Integer>, _>(ids)
        .load(&mut conn)
        .await
        .map_err(db("reading item facts"))?;
        Ok(rows.into_iter().filter_map(FactsRow::into_facts).collect())
    }
}

#[derive(QueryableByName)]
struct SignalRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Integer)]
    user_id: i32,
    #[diesel(sql_type = Integer)]
    content_item_id: i32,
    #[diesel(sql_type = Text)]
    interaction_type: String,
    #[diesel(sql_type = Nullable<Integer>)]
    rating: Option<i32>,
    #[diesel(sql_type = SqlTimestamp)]
    created_at: Timestamp,
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Nullable<SqlTimestamp>)]
    built_at: Option<Timestamp>,
    #[diesel(sql_type = Nullable<SqlTimestamp>)]
    epoch: Option<Timestamp>,
    #[diesel(sql_type = BigInt)]
    watermark: i64,
    #[diesel(sql_type = BigInt)]
    items: i64,
    #[diesel(sql_type = BigInt)]
    users: i64,
    #[diesel(sql_type = BigInt)]
    signals: i64,
    #[diesel(sql_type = BigInt)]
    pairs: i64,
    #[diesel(sql_type = Bool)]
    full_build: bool,
    #[diesel(sql_type = BigInt)]
    millis: i64,
    #[diesel(sql_type = Nullable<SqlTimestamp>)]
    requested_at: Option<Timestamp>,
    #[diesel(sql_type = Bool)]
    requested_full: bool,
    #[diesel(sql_type = Nullable<Text>)]
    locked_by: Option<String>,
    #[diesel(sql_type = Nullable<SqlTimestamp>)]
    locked_at: Option<Timestamp>,
    #[diesel(sql_type = Nullable<SqlTimestamp>)]
    locked_until: Option<Timestamp>,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
    #[diesel(sql_type = BigInt)]
    latest_signal: i64,
    #[diesel(sql_type = BigInt)]
    model_items: i64,
    #[diesel(sql_type = Double)]
    model_lambda: f64,
}

#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = Bool)]
    requested: bool,
    #[diesel(sql_type = Bool)]
    full: bool,
}

/// Rows per statement when writing derived state.
const WRITE_CHUNK: usize = 2_000;

/// `{1,2,3}`: a PostgreSQL array literal.
fn array_literal<T: std::fmt::Display>(values: impl Iterator<Item = T>) -> String {
    let mut out = String::from("{");
    for (n, v) in values.enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&v.to_string());
    }
    out.push('}');
    out
}

#[async_trait]
impl RecommenderBuildStore for PgRecommender {
    async fn signals(&self, after: i64, limit: usize) -> DomainResult<Vec<(i64, UserId, Signal)>> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<SignalRow> = diesel::sql_query(
            "SELECT id, user_id, content_item_id, interaction_type, rating, created_at FROM user_interactions \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind::<BigInt, _>(after)
        .bind::<BigInt, _>(size(limit))
        .load(&mut conn)
        .await
        .map_err(db("reading interactions"))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let signal = Signal {
                    item: r.content_item_id.into(),
                    kind: InteractionType::parse(&r.interaction_type)?,
                    rating: r.rating,
                    at: r.created_at,
                };
                Some((i64::from(r.id), r.user_id.into(), signal))
            })
            .collect())
    }

    async fn items(&self, after: ContentId, limit: usize) -> DomainResult<Vec<ItemFacts>> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<FactsRow> = diesel::sql_query(format!(
            "SELECT {FACTS} FROM content_items c WHERE c.id > $1 ORDER BY c.id LIMIT $2"
        ))
        .bind::<BigInt, _>(after.0)
        .bind::<BigInt, _>(size(limit))
        .load(&mut conn)
        .await
        .map_err(db("reading items"))?;
        Ok(rows.into_iter().filter_map(FactsRow::into_facts).collect())
    }

    async fn status(&self, now: Timestamp) -> DomainResult<BuildStatus> {
        let mut conn = self.pool.get().await?;
        let row: StateRow = diesel::sql_query(
            "SELECT s.*, coalesce((SELECT max(id) FROM user_interactions), 0)::int8 AS latest_signal \
             FROM recommender_state s WHERE s.id = 1",
        )
        .get_result(&mut conn)
        .await
        .map_err(db("reading the recommender state"))?;
        let running = row.locked_until.is_some_and(|until| until > now);
        Ok(BuildStatus {
            last: match (row.built_at, row.epoch) {
                (Some(built_at), Some(epoch)) => Some(BuildInfo {
                    built_at,
                    epoch,
                    watermark: row.watermark,
                    items: row.items,
                    users: row.users,
                    signals: row.signals,
                    pairs: row.pairs,
                    full: row.full_build,
                    millis: row.millis,
                    model_items: row.model_items,
                    model_lambda: row.model_lambda,
                }),
                _ => None,
            },
            requested_at: row.requested_at,
            requested_full: row.requested_full,
            running_on: row.locked_by.filter(|_| running),
            running_since: row.locked_at.filter(|_| running),
            last_error: row.last_error,
            latest_signal: row.latest_signal,
        })
    }

    async fn request_build(&self, full: bool, now: Timestamp) -> DomainResult<()> {
        let mut conn = self.pool.get().await?;
        diesel::sql_query(
            "UPDATE recommender_state SET requested_at = coalesce(requested_at, $1), \
             requested_full = requested_full OR $2, updated_at = $1 WHERE id = 1",
        )
        .bind::<SqlTimestamp, _>(now)
        .bind::<Bool, _>(full)
        .execute(&mut conn)
        .await
        .map_err(db("requesting a recommender build"))?;
        Ok(())
    }

    async fn claim_build(
        &self,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> DomainResult<Option<BuildClaim>> {
        let mut conn = self.pool.get().await?;
        let row: Option<ClaimRow> = diesel::sql_query(
            "WITH old AS (SELECT requested_at, requested_full FROM recommender_state WHERE id = 1 FOR UPDATE) \
             UPDATE recommender_state s SET locked_by = $1, locked_at = $2, locked_until = $3, \
                    requested_at = NULL, requested_full = false, updated_at = $2 \
             FROM old WHERE s.id = 1 AND (s.locked_until IS NULL OR s.locked_until <= $2 OR s.locked_by = $1) \
             RETURNING old.requested_at IS NOT NULL AS requested, old.requested_full AS full",
        )
        .bind::<Text, _>(worker)
        .bind::<SqlTimestamp, _>(now)
        .bind::<SqlTimestamp, _>(until)
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(db("claiming the recommender build"))?;
        Ok(row.map(|r| BuildClaim {
            requested: r.requested,
            full: r.full,
        }))
    }

    async fn finish_build(&self, worker: &str, error: Option<&str>) -> DomainResult<()> {
        let mut conn = self.pool.get().await?;
        diesel::sql_query(
            "UPDATE recommender_state SET locked_by = NULL, locked_at = NULL, locked_until = NULL, \
             last_error = $2, updated_at = now() AT TIME ZONE 'utc' WHERE id = 1 AND locked_by = $1",
        )
        .bind::<Text, _>(worker)
        .bind::<Nullable<Text>, _>(error.map(|e| e.chars().take(2000).collect::<String>()))
        .execute(&mut conn)
        .await
        .map_err(db("releasing the recommender build"))?;
        Ok(())
    }

    async fn save_build(
        &self,
        rows: Vec<ItemRow>,
        tags: Vec<TagRow>,
        model: Model,
        eras: Vec<EraRow>,
        info: BuildInfo,
        full: bool,
    ) -> DomainResult<()> {
        let mut conn = self.pool.get().await?;
        let stamp = info.built_at;
        conn.transaction::<(), diesel::result::Error, _>(async |conn| {
            for chunk in rows.chunks(WRITE_CHUNK) {
                // Items deleted since they were read are skipped (the join), not an error.
                diesel::sql_query(
                    "INSERT INTO item_stats (item_id, popularity, interactions, users, neighbor_ids, neighbor_scores, updated_at) \
                     SELECT u.id, u.popularity, u.interactions, u.users, u.ids::int4[], u.scores::real[], $7 \
                     FROM unnest($1::int4[], $2::float8[], $3::int4[], $4::int4[], $5::text[], $6::text[]) \
                          AS u(id, popularity, interactions, users, ids, scores) \
                     JOIN content_items c ON c.id = u.id \
                     ON CONFLICT (item_id) DO UPDATE SET popularity = excluded.popularity, \
                        interactions = excluded.interactions, users = excluded.users, \
                        neighbor_ids = excluded.neighbor_ids, neighbor_scores = excluded.neighbor_scores, \
                        updated_at = excluded.updated_at",
                )
                .bind::<Array<Integer>, _>(keys(chunk.iter().map(|r| r.item.0)))
                .bind::<Array<Float8>, _>(chunk.iter().map(|r| r.popularity).collect::<Vec<_>>())
                .bind::<Array<Integer>, _>(
                    chunk.iter().map(|r| i32::try_from(r.interactions).unwrap_or(i32::MAX)).collect::<Vec<_>>(),
                )
                .bind::<Array<Integer>, _>(
                    chunk.iter().map(|r| i32::try_from(r.users).unwrap_or(i32::MAX)).collect::<Vec<_>>(),
                )
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|r| array_literal(r.neighbours.iter().map(|n| n.0.0)))
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|r| array_literal(r.neighbours.iter().map(|n| n.1)))
                        .collect::<Vec<_>>(),
                )
                .bind::<SqlTimestamp, _>(stamp)
                .execute(conn)
                .await?;
            }
            if full {
                diesel::sql_query("DELETE FROM item_stats WHERE updated_at <> $1")
                    .bind::<SqlTimestamp, _>(stamp)
                    .execute(conn)
                    .await?;
            }
            diesel::sql_query("DELETE FROM tag_stats").execute(conn).await?;
            for chunk in tags.chunks(WRITE_CHUNK) {
                diesel::sql_query(
                    "INSERT INTO tag_stats (tag, items, top_ids, top_scores, updated_at) \
                     SELECT u.tag, u.items, u.ids::int4[], u.scores::float8[], $5 \
                     FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[]) AS u(tag, items, ids, scores)",
                )
                .bind::<Array<Text>, _>(chunk.iter().map(|t| t.tag.clone()).collect::<Vec<_>>())
                .bind::<Array<Integer>, _>(
                    chunk.iter().map(|t| i32::try_from(t.items).unwrap_or(i32::MAX)).collect::<Vec<_>>(),
                )
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|t| array_literal(t.top.iter().map(|x| x.0.0)))
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|t| array_literal(t.top.iter().map(|x| x.1)))
                        .collect::<Vec<_>>(),
                )
                .bind::<SqlTimestamp, _>(stamp)
                .execute(conn)
                .await?;
            }
            // The learned model is global: every build replaces it whole.
            diesel::sql_query("DELETE FROM item_model").execute(conn).await?;
            for chunk in model.rows.chunks(WRITE_CHUNK) {
                diesel::sql_query(
                    "INSERT INTO item_model (item_id, ease_ids, ease_weights) \
                     SELECT u.id, u.ids::int4[], u.weights::real[] \
                     FROM unnest($1::int4[], $2::text[], $3::text[]) AS u(id, ids, weights) \
                     JOIN content_items c ON c.id = u.id",
                )
                .bind::<Array<Integer>, _>(keys(chunk.iter().map(|r| r.item.0)))
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|r| array_literal(r.weights.iter().map(|w| w.0.0)))
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|r| array_literal(r.weights.iter().map(|w| w.1)))
                        .collect::<Vec<_>>(),
                )
                .execute(conn)
                .await?;
            }
            diesel::sql_query("DELETE FROM popularity_eras").execute(conn).await?;
            for chunk in eras.chunks(WRITE_CHUNK) {
                diesel::sql_query(
                    "INSERT INTO popularity_eras (starts_at, item_ids, scores, updated_at) \
                     SELECT u.starts_at, u.ids::int4[], u.scores::float8[], $4 \
                     FROM unnest($1::timestamp[], $2::text[], $3::text[]) AS u(starts_at, ids, scores)",
                )
                .bind::<Array<SqlTimestamp>, _>(chunk.iter().map(|e| e.starts_at).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|e| array_literal(e.top.iter().map(|x| x.0.0)))
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|e| array_literal(e.top.iter().map(|x| x.1)))
                        .collect::<Vec<_>>(),
                )
                .bind::<SqlTimestamp, _>(stamp)
                .execute(conn)
                .await?;
            }
            diesel::sql_query(
                "UPDATE recommender_state SET built_at = $1, epoch = $2, watermark = $3, items = $4, users = $5, \
                 signals = $6, pairs = $7, full_build = $8, millis = $9, model_items = $10, model_lambda = $11, \
                 last_error = NULL, updated_at = $1 WHERE id = 1",
            )
            .bind::<SqlTimestamp, _>(info.built_at)
            .bind::<SqlTimestamp, _>(info.epoch)
            .bind::<BigInt, _>(info.watermark)
            .bind::<BigInt, _>(info.items)
            .bind::<BigInt, _>(info.users)
            .bind::<BigInt, _>(info.signals)
            .bind::<BigInt, _>(info.pairs)
            .bind::<Bool, _>(info.full)
            .bind::<BigInt, _>(info.millis)
            .bind::<BigInt, _>(i64::try_from(model.items).unwrap_or(i64::MAX))
            .bind::<Double, _>(model.lambda)
            .execute(conn)
            .await?;
            Ok(())
        })
        .await
        .map_err(db("storing the recommender build"))?;
        Ok(())
    }
}
