//! The derived state ([`RecommenderBuildStore`]): signals read for a build, the state row and
//! its lease, and the bulk writes of item/tag statistics, the learned model and eras.

use super::*;

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
        eras: EraTables,
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
            for (table, rows) in [("popularity_eras", &eras.popularity), ("trending_eras", &eras.trending)] {
                // `table` is one of the two names above, never input.
                diesel::sql_query(format!("DELETE FROM {table}")).execute(conn).await?;
                for chunk in rows.chunks(WRITE_CHUNK) {
                    diesel::sql_query(format!(
                        "INSERT INTO {table} (starts_at, item_ids, scores, updated_at) \
                         SELECT u.starts_at, u.ids::int4[], u.scores::float8[], $4 \
                         FROM unnest($1::timestamp[], $2::text[], $3::text[]) AS u(starts_at, ids, scores)"
                    ))
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
