//! Item embeddings in `content_embeddings` (one row per item; the table's triggers mark new
//! and changed items pending, whoever writes them).

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{Array, Float4, Integer, Nullable, Text, Timestamp as SqlTimestamp};
use diesel_async::RunQueryDsl;
use genonaut_domain::DomainResult;
use genonaut_domain::ids::ContentId;
use genonaut_domain::model::{Content, Timestamp};
use genonaut_domain::ports::{EMBEDDING_DIM, EmbeddingStore, StoredVector};

use crate::PgPool;
use crate::error::db;
use crate::rows::{ContentRow, convert, key};
use crate::schema::{content_embeddings, content_items};

/// [`EmbeddingStore`] over one schema.
#[derive(Clone)]
pub struct PgEmbeddings {
    pool: PgPool,
}

impl PgEmbeddings {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgEmbeddings { pool }
    }
}

#[derive(QueryableByName)]
struct VectorRow {
    #[diesel(sql_type = Integer)]
    content_id: i32,
    #[diesel(sql_type = Array<Nullable<Float4>>)]
    vector: Vec<Option<f32>>,
    #[diesel(sql_type = SqlTimestamp)]
    updated_at: Timestamp,
}

#[async_trait]
impl EmbeddingStore for PgEmbeddings {
    async fn needing(&self, pending_only: bool, limit: usize) -> DomainResult<Vec<Content>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conn = self.pool.get().await?;
        let mut rows: Vec<ContentRow> = content_items::table
            .inner_join(content_embeddings::table)
            .filter(content_embeddings::pending)
            .order(content_items::id.desc())
            .limit(limit)
            .select(ContentRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("reading items to embed"))?;
        let left = limit - rows.len() as i64;
        if !pending_only && left > 0 {
            // Items from before embeddings existed have no row at all.
            let missing: Vec<ContentRow> = content_items::table
                .left_join(content_embeddings::table)
                .filter(content_embeddings::content_id.nullable().is_null())
                .order(content_items::id.desc())
                .limit(left)
                .select(ContentRow::as_select())
                .load(&mut conn)
                .await
                .map_err(db("reading items without embeddings"))?;
            rows.extend(missing);
        }
        convert(rows)
    }

    async fn count_needing(&self) -> DomainResult<i64> {
        let mut conn = self.pool.get().await?;
        let pending: i64 = content_embeddings::table
            .filter(content_embeddings::pending)
            .count()
            .get_result(&mut conn)
            .await
            .map_err(db("counting items to embed"))?;
        let missing: i64 = content_items::table
            .left_join(content_embeddings::table)
            .filter(content_embeddings::content_id.nullable().is_null())
            .count()
            .get_result(&mut conn)
            .await
            .map_err(db("counting items without embeddings"))?;
        Ok(pending + missing)
    }

    async fn save(&self, model: &str, vectors: &[(ContentId, Vec<f32>)], now: Timestamp) -> DomainResult<()> {
        let (ids, flat): (Vec<i32>, Vec<f32>) = {
            let mut ids = Vec::with_capacity(vectors.len());
            let mut flat = Vec::with_capacity(vectors.len() * EMBEDDING_DIM);
            for (id, v) in vectors {
                if let Some(id) = key(id.0)
                    && v.len() == EMBEDDING_DIM
                {
                    ids.push(id);
                    flat.extend_from_slice(v);
                }
            }
            (ids, flat)
        };
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.pool.get().await?;
        // One statement: the i-th id gets the i-th slice of 384 numbers; items deleted meanwhile
        // are skipped (the join). Known limit: an item whose text changes between the read of
        // its text and this write loses its pending mark (until its next change or a backfill).
        diesel::sql_query(
            "INSERT INTO content_embeddings AS e (content_id, model, vector, pending, updated_at) \
             SELECT v.id, $2, $3[(v.n - 1) * $5 + 1 : v.n * $5], false, $4 \
             FROM unnest($1::int4[]) WITH ORDINALITY AS v(id, n) \
             JOIN content_items c ON c.id = v.id \
             ORDER BY v.id \
             ON CONFLICT (content_id) DO UPDATE SET model = excluded.model, vector = excluded.vector, \
                 pending = false, updated_at = excluded.updated_at",
        )
        .bind::<Array<Integer>, _>(ids)
        .bind::<Text, _>(model)
        .bind::<Array<Float4>, _>(flat)
        .bind::<SqlTimestamp, _>(now)
        .bind::<Integer, _>(EMBEDDING_DIM as i32)
        .execute(&mut conn)
        .await
        .map_err(db("storing embeddings"))?;
        Ok(())
    }

    async fn changed(
        &self,
        since: Option<Timestamp>,
        after: Option<(Timestamp, ContentId)>,
        limit: usize,
    ) -> DomainResult<Vec<StoredVector>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (after_at, after_id) = match after {
            Some((at, id)) => (Some(at), key(id.0).unwrap_or(i32::MAX)),
            None => (None, 0),
        };
        let mut conn = self.pool.get().await?;
        let rows: Vec<VectorRow> = diesel::sql_query(
            "SELECT content_id, vector, updated_at FROM content_embeddings \
             WHERE vector IS NOT NULL AND ($1::timestamp IS NULL OR updated_at >= $1) \
               AND ($2::timestamp IS NULL OR (updated_at, content_id) > ($2, $3)) \
             ORDER BY updated_at, content_id LIMIT $4",
        )
        .bind::<Nullable<SqlTimestamp>, _>(since)
        .bind::<Nullable<SqlTimestamp>, _>(after_at)
        .bind::<Integer, _>(after_id)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load(&mut conn)
        .await
        .map_err(db("reading embeddings"))?;
        Ok(rows
            .into_iter()
            .map(|r| StoredVector {
                item: r.content_id.into(),
                vector: r.vector.into_iter().map(|x| x.unwrap_or(0.0)).collect(),
                updated_at: r.updated_at,
            })
            .collect())
    }
}
