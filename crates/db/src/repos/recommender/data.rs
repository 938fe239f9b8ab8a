//! Request-time reads ([`RecommenderData`]): a user's history, candidates and their facts.

use super::*;

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
             (SELECT 'x', '', 0, item_ids, scores, NULL FROM trending_eras \
              WHERE $6 AND starts_at <= $7 ORDER BY starts_at DESC LIMIT 1) \
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
                "x" => lists.trending = ids.into_iter().zip(scores).collect(),
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
            lists.trending.clear();
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
