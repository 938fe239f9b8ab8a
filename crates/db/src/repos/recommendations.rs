use std::collections::HashSet;

use async_trait::async_trait;
use diesel::dsl::{count_star, sql};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Integer, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};
use genonaut_domain::ids::{RecommendationId, UserId};
use genonaut_domain::model::{
    AlgorithmAggregate, JsonObject, NewInteraction, NewRecommendation, Recommendation, RecommendationChanges,
    RecommendationOrder, RecommendationQuery, RecommendationStats, Timestamp,
};
use genonaut_domain::ports::{ForUser, RecommendationRepository};
use genonaut_domain::{DomainError, DomainResult, Entity, Page, PageRequest, Rule};
use serde_json::Value;

use super::interactions::NewInteractionRow;
use crate::PgPool;
use crate::error::db;
use crate::prepared::{Count, Statement, statement};
use crate::rows::{RecommendationRow, key};
use crate::schema::{recommendations, user_interactions};

statement!(
    /// A page of a user's recommendations, best first.
    UserRecommendations -> RecommendationRow = "SELECT id, user_id, content_item_id, recommendation_score, algorithm_version, \
     created_at, is_served, rec_metadata, served_at FROM recommendations \
     WHERE user_id = $1 ORDER BY recommendation_score DESC, id ASC OFFSET $2 LIMIT $3"
);

statement!(
    /// How many recommendations a user has.
    UserRecommendationCount = "SELECT count(*) AS n FROM recommendations WHERE user_id = $1"
);

statement!(
    /// A user's state, their recommendation count and a page of them (best first), in one
    /// statement: no row when the user does not exist; one row with a null recommendation
    /// when the user is inactive or the page is empty.
    UserRecommendationPage = "SELECT u.is_active, c.total, r.id, r.user_id, r.content_item_id, \
     r.recommendation_score, r.algorithm_version, r.created_at, r.is_served, r.rec_metadata, r.served_at \
     FROM users u \
     CROSS JOIN (SELECT count(*) AS total FROM recommendations WHERE user_id = $1) c \
     LEFT JOIN LATERAL (SELECT * FROM recommendations WHERE user_id = u.id \
       ORDER BY recommendation_score DESC, id ASC OFFSET $2 LIMIT $3) r ON u.is_active \
     WHERE u.id = $1 ORDER BY r.recommendation_score DESC, r.id ASC"
);

statement!(
    /// Whether a user is active (no row: no such user).
    UserIsActive = "SELECT is_active FROM users WHERE id = $1"
);

/// A row of [`UserRecommendationPage`].
#[derive(QueryableByName)]
struct UserPageRow {
    #[diesel(sql_type = Bool)]
    is_active: bool,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(embed)]
    recommendation: Option<RecommendationRow>,
}

/// A row of [`UserIsActive`].
#[derive(QueryableByName)]
struct ActiveRow {
    #[diesel(sql_type = Bool)]
    is_active: bool,
}

/// Recommendations in PostgreSQL.
#[derive(Clone)]
pub struct PgRecommendations {
    pool: PgPool,
}

impl PgRecommendations {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgRecommendations { pool }
    }
}

#[derive(Insertable)]
#[diesel(table_name = recommendations)]
struct NewRecommendationRow {
    user_id: i32,
    content_item_id: i32,
    recommendation_score: f64,
    algorithm_version: String,
    created_at: Timestamp,
    is_served: bool,
    rec_metadata: Value,
}

impl NewRecommendationRow {
    fn from_domain(new: NewRecommendation, now: Timestamp) -> DomainResult<Self> {
        Ok(NewRecommendationRow {
            user_id: key(new.user_id.0).ok_or_else(|| DomainError::Rule(Rule::UserMissing))?,
            content_item_id: key(new.content_item_id.0)
                .ok_or_else(|| DomainError::Rule(Rule::ContentMissing))?,
            recommendation_score: new.score,
            algorithm_version: new.algorithm_version,
            created_at: now,
            is_served: false,
            rec_metadata: Value::Object(new.metadata),
        })
    }
}

#[derive(QueryableByName)]
struct AlgorithmRow {
    #[diesel(sql_type = Text)]
    algorithm_version: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
    #[diesel(sql_type = Double)]
    avg_score: f64,
}

#[derive(AsChangeset)]
#[diesel(table_name = recommendations)]
struct RecommendationChangeset {
    recommendation_score: Option<f64>,
    rec_metadata: Option<Value>,
}

fn filtered(query: &RecommendationQuery) -> recommendations::BoxedQuery<'static, Pg> {
    let mut q = recommendations::table.into_boxed();
    if let Some(user) = query.user_id {
        q = q.filter(recommendations::user_id.eq(key(user.0).unwrap_or(0)));
    }
    if let Some(content) = query.content_item_id {
        q = q.filter(recommendations::content_item_id.eq(key(content.0).unwrap_or(0)));
    }
    if let Some(label) = &query.algorithm_version {
        q = q.filter(recommendations::algorithm_version.eq(label.clone()));
    }
    if let Some(min) = query.min_score {
        q = q.filter(recommendations::recommendation_score.ge(min));
    }
    if query.unserved_only {
        q = q
            .filter(recommendations::is_served.eq(false))
            .filter(recommendations::served_at.is_null());
    }
    if let Some(since) = query.since {
        q = q.filter(recommendations::created_at.ge(since));
    }
    q
}

/// The user id, when the query asks for exactly one user's recommendations by score.
fn only_user(query: &RecommendationQuery) -> Option<i32> {
    let plain = query.content_item_id.is_none()
        && query.algorithm_version.is_none()
        && query.min_score.is_none()
        && !query.unserved_only
        && query.since.is_none()
        && query.order == RecommendationOrder::ScoreDesc;
    query.user_id.filter(|_| plain).map(|u| key(u.0).unwrap_or(0))
}

impl PgRecommendations {
    async fn list_on(
        conn: &mut crate::PgConn,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Page<Recommendation>> {
        let items = Self::page_on(conn, query, page).await?;
        let total: i64 = match only_user(query) {
            Some(user) => UserRecommendationCount::with_binds(|q| q.bind::<Integer, _>(user))
                .get_result::<Count>(conn)
                .await
                .map(|c| c.n),
            None => filtered(query).select(count_star()).get_result(conn).await,
        }
        .map_err(db("counting recommendations"))?;
        Ok(Page { items, total })
    }

    async fn page(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Vec<Recommendation>> {
        let mut conn = self.pool.get().await?;
        Self::page_on(&mut conn, query, page).await
    }

    async fn page_on(
        conn: &mut crate::PgConn,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Vec<Recommendation>> {
        if let Some(user) = only_user(query) {
            // A user's recommendations, best first: a fixed (prepared once) statement.
            let rows: Vec<RecommendationRow> = UserRecommendations::with_binds(|q| {
                q.bind::<Integer, _>(user)
                    .bind::<BigInt, _>(page.skip)
                    .bind::<BigInt, _>(page.limit)
            })
            .load(conn)
            .await
            .map_err(db("listing recommendations"))?;
            return Ok(rows.into_iter().map(Recommendation::from).collect());
        }
        let q = filtered(query);
        let q = match query.order {
            RecommendationOrder::ScoreDesc => q.order((
                recommendations::recommendation_score.desc(),
                recommendations::id.asc(),
            )),
            RecommendationOrder::NewestFirst => {
                q.order((recommendations::created_at.desc(), recommendations::id.desc()))
            }
        };
        let rows: Vec<RecommendationRow> = q
            .offset(page.skip)
            .limit(page.limit)
            .select(RecommendationRow::as_select())
            .load(conn)
            .await
            .map_err(db("listing recommendations"))?;
        Ok(rows.into_iter().map(Recommendation::from).collect())
    }
}

#[async_trait]
impl RecommendationRepository for PgRecommendations {
    async fn insert(
        &self,
        recommendation: NewRecommendation,
        now: Timestamp,
    ) -> DomainResult<Recommendation> {
        let row = NewRecommendationRow::from_domain(recommendation, now)?;
        let mut conn = self.pool.get().await?;
        let row: RecommendationRow = diesel::insert_into(recommendations::table)
            .values(row)
            .returning(RecommendationRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(db("storing a recommendation"))?;
        Ok(row.into())
    }

    async fn insert_many(
        &self,
        recommendations: Vec<NewRecommendation>,
        now: Timestamp,
    ) -> DomainResult<Vec<Recommendation>> {
        if recommendations.is_empty() {
            return Ok(Vec::new());
        }
        let rows = recommendations
            .into_iter()
            .map(|r| NewRecommendationRow::from_domain(r, now))
            .collect::<DomainResult<Vec<_>>>()?;
        let mut conn = self.pool.get().await?;
        // One statement: all rows or none. Serial ids follow the VALUES order.
        let mut stored: Vec<RecommendationRow> = diesel::insert_into(recommendations::table)
            .values(rows)
            .returning(RecommendationRow::as_returning())
            .get_results(&mut conn)
            .await
            .map_err(db("storing recommendations"))?;
        stored.sort_by_key(|r| r.id);
        Ok(stored.into_iter().map(Recommendation::from).collect())
    }

    async fn get(&self, id: RecommendationId) -> DomainResult<Option<Recommendation>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let row: Option<RecommendationRow> = recommendations::table
            .find(id)
            .select(RecommendationRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("reading a recommendation"))?;
        Ok(row.map(Recommendation::from))
    }

    async fn update(
        &self,
        id: RecommendationId,
        changes: RecommendationChanges,
    ) -> DomainResult<Option<Recommendation>> {
        if changes.score.is_none() && changes.metadata.is_none() {
            return self.get(id).await;
        }
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let changeset = RecommendationChangeset {
            recommendation_score: changes.score,
            rec_metadata: changes.metadata.map(Value::Object),
        };
        let row: Option<RecommendationRow> = diesel::update(recommendations::table.find(id))
            .set(&changeset)
            .returning(RecommendationRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("updating a recommendation"))?;
        Ok(row.map(Recommendation::from))
    }

    async fn delete(&self, id: RecommendationId) -> DomainResult<bool> {
        let Some(id) = key(id.0) else { return Ok(false) };
        let mut conn = self.pool.get().await?;
        let n = diesel::delete(recommendations::table.find(id))
            .execute(&mut conn)
            .await
            .map_err(db("deleting a recommendation"))?;
        Ok(n > 0)
    }

    async fn list(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Page<Recommendation>> {
        let mut conn = self.pool.get().await?;
        Self::list_on(&mut conn, query, page).await
    }

    async fn list_for_user(
        &self,
        user: UserId,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<ForUser<Page<Recommendation>>> {
        let Some(id) = key(user.0) else {
            return Ok(ForUser::Missing);
        };
        let mut conn = self.pool.get().await?;
        if only_user(query).is_some() {
            let rows: Vec<UserPageRow> = UserRecommendationPage::with_binds(|q| {
                q.bind::<Integer, _>(id)
                    .bind::<BigInt, _>(page.skip)
                    .bind::<BigInt, _>(page.limit)
            })
            .load(&mut conn)
            .await
            .map_err(db("listing recommendations"))?;
            return Ok(match rows.as_slice().first() {
                None => ForUser::Missing,
                Some(row) if !row.is_active => ForUser::Inactive,
                Some(row) => ForUser::Active(Page {
                    total: row.total,
                    items: rows
                        .into_iter()
                        .filter_map(|r| r.recommendation.map(Recommendation::from))
                        .collect(),
                }),
            });
        }
        let active = UserIsActive::with_binds(|q| q.bind::<Integer, _>(id))
            .get_result::<ActiveRow>(&mut conn)
            .await
            .optional()
            .map_err(db("reading a user"))?;
        Ok(match active {
            None => ForUser::Missing,
            Some(ActiveRow { is_active: false }) => ForUser::Inactive,
            Some(_) => ForUser::Active(Self::list_on(&mut conn, query, page).await?),
        })
    }

    async fn fetch(
        &self,
        query: &RecommendationQuery,
        page: PageRequest,
    ) -> DomainResult<Vec<Recommendation>> {
        self.page(query, page).await
    }

    async fn mark_served(&self, ids: &[RecommendationId], now: Timestamp) -> DomainResult<u64> {
        let first_unstorable = ids.iter().find(|id| key(id.0).is_none()).copied();
        if let Some(missing) = first_unstorable {
            return Err(DomainError::not_found(Entity::Recommendation, missing));
        }
        let wanted: Vec<i32> = ids.iter().filter_map(|id| key(id.0)).collect();
        let mut conn = self.pool.get().await?;
        let outcome = conn
            .transaction::<Result<u64, i32>, diesel::result::Error, _>(async move |conn| {
                let found: HashSet<i32> = recommendations::table
                    .filter(recommendations::id.eq_any(&wanted))
                    .select(recommendations::id)
                    .for_update()
                    .load::<i32>(conn)
                    .await?
                    .into_iter()
                    .collect();
                if let Some(missing) = wanted.iter().find(|id| !found.contains(id)) {
                    return Ok(Err(*missing));
                }
                let n = diesel::update(recommendations::table.filter(recommendations::id.eq_any(&wanted)))
                    .set((
                        recommendations::is_served.eq(true),
                        recommendations::served_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                Ok(Ok(n as u64))
            })
            .await
            .map_err(db("marking recommendations served"))?;
        outcome.map_err(|missing| DomainError::not_found(Entity::Recommendation, missing))
    }

    async fn record_feedback(
        &self,
        id: RecommendationId,
        metadata: JsonObject,
        interaction: Option<NewInteraction>,
        reject: bool,
        now: Timestamp,
    ) -> DomainResult<Option<Recommendation>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let interaction = interaction
            .map(|i| NewInteractionRow::from_domain(i, now))
            .transpose()?;
        let mut conn = self.pool.get().await?;
        let row = conn
            .transaction::<Option<RecommendationRow>, diesel::result::Error, _>(async move |conn| {
                let row: Option<RecommendationRow> = diesel::update(recommendations::table.find(id))
                    .set(recommendations::rec_metadata.eq(Value::Object(metadata)))
                    .returning(RecommendationRow::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?;
                if row.is_some()
                    && let Some(interaction) = interaction
                {
                    diesel::insert_into(user_interactions::table)
                        .values(interaction)
                        .execute(conn)
                        .await?;
                }
                let Some(row) = row else { return Ok(None) };
                if !reject {
                    return Ok(Some(row));
                }
                // Negative feedback: out of the unserved lists, with its duplicates.
                diesel::delete(
                    recommendations::table
                        .filter(recommendations::user_id.eq(row.user_id))
                        .filter(recommendations::content_item_id.eq(row.content_item_id))
                        .filter(recommendations::id.ne(row.id))
                        .filter(recommendations::is_served.eq(false))
                        .filter(recommendations::served_at.is_null()),
                )
                .execute(conn)
                .await?;
                if row.is_served {
                    return Ok(Some(row));
                }
                diesel::update(recommendations::table.find(id))
                    .set((
                        recommendations::is_served.eq(true),
                        recommendations::served_at.eq(now),
                    ))
                    .returning(RecommendationRow::as_returning())
                    .get_result(conn)
                    .await
                    .map(Some)
            })
            .await
            .map_err(db("recording feedback"))?;
        Ok(row.map(Recommendation::from))
    }

    async fn stats(&self, user: Option<UserId>) -> DomainResult<RecommendationStats> {
        let query = RecommendationQuery {
            user_id: user,
            ..RecommendationQuery::default()
        };
        let mut conn = self.pool.get().await?;
        let (total, served, average_score): (i64, i64, f64) = filtered(&query)
            .select((
                count_star(),
                sql::<BigInt>("count(*) FILTER (WHERE is_served)"),
                sql::<Double>("coalesce(avg(recommendation_score), 0)::float8"),
            ))
            .get_result(&mut conn)
            .await
            .map_err(db("counting recommendations"))?;
        let grouped = "SELECT algorithm_version, count(*) AS count, avg(recommendation_score)::float8 AS avg_score \
                       FROM recommendations";
        let groups: Vec<AlgorithmRow> = match user {
            Some(user) => {
                diesel::sql_query(format!("{grouped} WHERE user_id = $1 GROUP BY 1 ORDER BY 1"))
                    .bind::<Integer, _>(key(user.0).unwrap_or(0))
                    .load(&mut conn)
                    .await
            }
            None => {
                diesel::sql_query(format!("{grouped} GROUP BY 1 ORDER BY 1"))
                    .load(&mut conn)
                    .await
            }
        }
        .map_err(db("grouping recommendations"))?;
        Ok(RecommendationStats {
            total,
            served,
            average_score,
            by_algorithm: groups
                .into_iter()
                .map(|g| AlgorithmAggregate {
                    algorithm_version: g.algorithm_version,
                    count: g.count,
                    avg_score: g.avg_score,
                })
                .collect(),
        })
    }
}
