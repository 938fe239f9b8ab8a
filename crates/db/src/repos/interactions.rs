use async_trait::async_trait;
use diesel::dsl::count_star;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text, Timestamp};
use diesel_async::RunQueryDsl;
use genonaut_domain::ids::{ContentId, InteractionId, UserId};
use genonaut_domain::model::{
    ContentType, Interaction, InteractionChanges, InteractionQuery, InteractionType, NewInteraction,
    TypeAggregate,
};
use genonaut_domain::ports::InteractionRepository;
use genonaut_domain::{DomainError, DomainResult, Page, PageRequest, Rule};
use serde_json::Value;

use crate::PgPool;
use crate::error::db;
use crate::prepared::{Statement, statement};
use crate::rows::{InteractionRow, convert, key, object};
use crate::schema::{content_items, user_interactions};

statement!(
    /// Records an interaction if its user exists and is active (one statement: no race
    /// between the check and the write).
    InsertIfActive = "INSERT INTO user_interactions (user_id, content_item_id, interaction_type, rating, \
     duration, created_at, interaction_metadata) \
     SELECT id, $2, $3, $4, $5, $6, $7 FROM users WHERE id = $1 AND is_active \
     RETURNING id, created_at, interaction_metadata"
);

/// What PostgreSQL decides when it records an interaction: the id, the time as stored
/// (microseconds) and the metadata as JSONB normalises it (key order, duplicate keys, numbers).
/// The other columns are what was sent; not reading them back saves PostgreSQL and us their
/// conversion (small: `pgbench` of the statement alone moved within its noise, −0 to +3 %).
#[derive(QueryableByName)]
struct Recorded {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Timestamp)]
    created_at: genonaut_domain::model::Timestamp,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    interaction_metadata: Value,
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct TypeCount {
    #[diesel(sql_type = Text)]
    interaction_type: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Mark {
    #[diesel(sql_type = BigInt)]
    upto: i64,
}

/// Interactions in PostgreSQL.
#[derive(Clone)]
pub struct PgInteractions {
    pool: PgPool,
}

impl PgInteractions {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgInteractions { pool }
    }
}

#[derive(Insertable)]
#[diesel(table_name = user_interactions)]
pub(crate) struct NewInteractionRow {
    user_id: i32,
    content_item_id: i32,
    interaction_type: &'static str,
    rating: Option<i32>,
    duration: Option<i32>,
    created_at: genonaut_domain::model::Timestamp,
    interaction_metadata: Value,
}

impl NewInteractionRow {
    /// The row for `new`, or the rule error the API gives for ids that cannot exist.
    pub(crate) fn from_domain(
        new: NewInteraction,
        now: genonaut_domain::model::Timestamp,
    ) -> DomainResult<Self> {
        Ok(NewInteractionRow {
            user_id: key(new.user_id.0).ok_or_else(|| DomainError::Rule(Rule::UserMissing))?,
            content_item_id: key(new.content_item_id.0)
                .ok_or_else(|| DomainError::Rule(Rule::ContentMissing))?,
            interaction_type: new.interaction_type.as_str(),
            rating: new.rating,
            duration: new.duration,
            created_at: now,
            interaction_metadata: Value::Object(new.metadata),
        })
    }
}

#[derive(QueryableByName)]
struct AggregateRow {
    #[diesel(sql_type = Text)]
    interaction_type: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
    #[diesel(sql_type = Nullable<Double>)]
    avg_rating: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    avg_duration: Option<f64>,
}

#[derive(AsChangeset)]
#[diesel(table_name = user_interactions)]
struct InteractionChangeset {
    rating: Option<i32>,
    duration: Option<i32>,
    interaction_metadata: Option<Value>,
}

fn filtered(query: &InteractionQuery) -> user_interactions::BoxedQuery<'static, Pg> {
    let mut q = user_interactions::table.into_boxed();
    if let Some(user) = query.user_id {
        q = q.filter(user_interactions::user_id.eq(key(user.0).unwrap_or(0)));
    }
    if let Some(content) = query.content_item_id {
        q = q.filter(user_interactions::content_item_id.eq(key(content.0).unwrap_or(0)));
    }
    if let Some(t) = query.interaction_type {
        q = q.filter(user_interactions::interaction_type.eq(t.as_str()));
    }
    if let Some(since) = query.since {
        q = q.filter(user_interactions::created_at.ge(since));
    }
    q
}

impl PgInteractions {
    async fn page(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Vec<Interaction>> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<InteractionRow> = filtered(query)
            .order((user_interactions::created_at.desc(), user_interactions::id.desc()))
            .offset(page.skip)
            .limit(page.limit)
            .select(InteractionRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing interactions"))?;
        convert(rows)
    }
}

#[async_trait]
impl InteractionRepository for PgInteractions {
    async fn insert(
        &self,
        interaction: NewInteraction,
        now: genonaut_domain::model::Timestamp,
    ) -> DomainResult<Interaction> {
        let row = NewInteractionRow::from_domain(interaction, now)?;
        let mut conn = self.pool.get().await?;
        let row: InteractionRow = diesel::insert_into(user_interactions::table)
            .values(row)
            .returning(InteractionRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(db("recording an interaction"))?;
        row.try_into()
    }

    async fn insert_if_active(
        &self,
        interaction: NewInteraction,
        now: genonaut_domain::model::Timestamp,
    ) -> DomainResult<Option<Interaction>> {
        // An id the column cannot hold names no user (→ None) or no item (→ the FK's rule error).
        let Some(user_id) = key(interaction.user_id.0) else {
            return Ok(None);
        };
        let content_id = key(interaction.content_item_id.0).unwrap_or(0);
        let NewInteraction {
            user_id: user,
            content_item_id: content,
            interaction_type,
            rating,
            duration,
            metadata,
        } = interaction;
        let mut conn = self.pool.get().await?;
        // One statement: the row is written only if the user exists and is active.
        let insert = InsertIfActive::with_binds(|q| {
            q.bind::<Integer, _>(user_id)
                .bind::<Integer, _>(content_id)
                .bind::<Text, _>(interaction_type.as_str())
                .bind::<Nullable<Integer>, _>(rating)
                .bind::<Nullable<Integer>, _>(duration)
                .bind::<Timestamp, _>(now)
                .bind::<diesel::sql_types::Jsonb, _>(Value::Object(metadata))
        });
        let recorded: Option<Recorded> = insert
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("recording an interaction"))?;
        Ok(recorded.map(|r| Interaction {
            id: InteractionId::from(r.id),
            user_id: user,
            content_item_id: content,
            interaction_type,
            rating,
            duration,
            created_at: r.created_at,
            metadata: object(r.interaction_metadata),
        }))
    }

    async fn get(&self, id: InteractionId) -> DomainResult<Option<Interaction>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let row: Option<InteractionRow> = user_interactions::table
            .find(id)
            .select(InteractionRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("reading an interaction"))?;
        row.map(Interaction::try_from).transpose()
    }

    async fn update(
        &self,
        id: InteractionId,
        changes: InteractionChanges,
    ) -> DomainResult<Option<Interaction>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let changeset = InteractionChangeset {
            rating: changes.rating,
            duration: changes.duration,
            interaction_metadata: changes.metadata.map(Value::Object),
        };
        if changeset.rating.is_none()
            && changeset.duration.is_none()
            && changeset.interaction_metadata.is_none()
        {
            drop(conn);
            return self.get(InteractionId::from(id)).await;
        }
        let row: Option<InteractionRow> = diesel::update(user_interactions::table.find(id))
            .set(&changeset)
            .returning(InteractionRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("updating an interaction"))?;
        row.map(Interaction::try_from).transpose()
    }

    async fn delete(&self, id: InteractionId) -> DomainResult<bool> {
        let Some(id) = key(id.0) else { return Ok(false) };
        let mut conn = self.pool.get().await?;
        let n = diesel::delete(user_interactions::table.find(id))
            .execute(&mut conn)
            .await
            .map_err(db("deleting an interaction"))?;
        Ok(n > 0)
    }

    async fn list(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Page<Interaction>> {
        let items = self.page(query, page).await?;
        let mut conn = self.pool.get().await?;
        let total: i64 =
            if query.user_id.is_none() && query.content_item_id.is_none() && query.since.is_none() {
                // All interactions, or all of one type: from the counters (migration
                // `interaction_counts`), at any table size.
                diesel::sql_query("SELECT interaction_count($1) AS total")
                    .bind::<Nullable<Text>, _>(query.interaction_type.map(|t| t.as_str()))
                    .get_result::<Total>(&mut conn)
                    .await
                    .map_err(db("counting interactions"))?
                    .total
            } else {
                // Of a user or an item (an index range), or since a date (grows with the matches).
                filtered(query)
                    .select(count_star())
                    .get_result(&mut conn)
                    .await
                    .map_err(db("counting interactions"))?
            };
        Ok(Page { items, total })
    }

    async fn fetch(&self, query: &InteractionQuery, page: PageRequest) -> DomainResult<Vec<Interaction>> {
        self.page(query, page).await
    }

    async fn latest_between(
        &self,
        user: UserId,
        content: ContentId,
        interaction_type: &str,
    ) -> DomainResult<Option<Interaction>> {
        let (Some(user), Some(content)) = (key(user.0), key(content.0)) else {
            return Ok(None);
        };
        let mut conn = self.pool.get().await?;
        let row: Option<InteractionRow> = user_interactions::table
            .filter(user_interactions::user_id.eq(user))
            .filter(user_interactions::content_item_id.eq(content))
            .filter(user_interactions::interaction_type.eq(interaction_type))
            .order((user_interactions::created_at.desc(), user_interactions::id.desc()))
            .select(InteractionRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("finding an interaction"))?;
        row.map(Interaction::try_from).transpose()
    }

    async fn aggregate(&self, query: &InteractionQuery) -> DomainResult<Vec<TypeAggregate>> {
        // Grouped queries cannot be built from diesel's boxed queries; this one is assembled
        // from fixed fragments with every value bound as a parameter.
        let mut sql = String::from(
            "SELECT interaction_type, count(*) AS count, avg(rating)::float8 AS avg_rating, \
             avg(duration)::float8 AS avg_duration FROM user_interactions WHERE true",
        );
        let mut n = 0;
        let mut param = |column: &str, op: &str| {
            n += 1;
            format!(" AND {column} {op} ${n}")
        };
        let user = query.user_id.map(|u| key(u.0).unwrap_or(0));
        let content = query.content_item_id.map(|c| key(c.0).unwrap_or(0));
        if user.is_some() {
            sql.push_str(&param("user_id", "="));
        }
        if content.is_some() {
            sql.push_str(&param("content_item_id", "="));
        }
        if query.interaction_type.is_some() {
            sql.push_str(&param("interaction_type", "="));
        }
        if query.since.is_some() {
            sql.push_str(&param("created_at", ">="));
        }
        sql.push_str(" GROUP BY interaction_type");
        let mut q = diesel::sql_query(sql).into_boxed::<Pg>();
        if let Some(user) = user {
            q = q.bind::<Integer, _>(user);
        }
        if let Some(content) = content {
            q = q.bind::<Integer, _>(content);
        }
        if let Some(t) = query.interaction_type {
            q = q.bind::<Text, _>(t.as_str());
        }
        if let Some(since) = query.since {
            q = q.bind::<Timestamp, _>(since);
        }
        let mut conn = self.pool.get().await?;
        let rows: Vec<AggregateRow> = q.load(&mut conn).await.map_err(db("aggregating interactions"))?;
        let mut aggregates: Vec<TypeAggregate> = rows
            .into_iter()
            .filter_map(|r| {
                InteractionType::parse(&r.interaction_type).map(|interaction_type| TypeAggregate {
                    interaction_type,
                    count: r.count,
                    avg_rating: r.avg_rating,
                    avg_duration: r.avg_duration,
                })
            })
            .collect();
        aggregates.sort_by_key(|a| a.interaction_type);
        Ok(aggregates)
    }

    async fn count_by_type(&self) -> DomainResult<Vec<(InteractionType, i64)>> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<TypeCount> =
            diesel::sql_query("SELECT interaction_type, n FROM interaction_count_by_type()")
                .load(&mut conn)
                .await
                .map_err(db("counting interactions by type"))?;
        Ok(InteractionType::ALL
            .iter()
            .map(|t| {
                let n = rows
                    .iter()
                    .find(|r| r.interaction_type == t.as_str())
                    .map_or(0, |r| r.n);
                (*t, n)
            })
            .collect())
    }

    async fn checkpoint_counts(&self) -> DomainResult<i64> {
        let mut conn = self.pool.get().await?;
        let mark: Mark = diesel::sql_query("SELECT interaction_counts_checkpoint() AS upto")
            .get_result(&mut conn)
            .await
            .map_err(db("checkpointing the interaction counters"))?;
        Ok(mark.upto)
    }

    async fn favorite_content_types(&self, user: UserId, limit: i64) -> DomainResult<Vec<ContentType>> {
        let Some(user) = key(user.0) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.get().await?;
        let rows: Vec<(String, i64)> = user_interactions::table
            .inner_join(content_items::table)
            .filter(user_interactions::user_id.eq(user))
            .group_by(content_items::content_type)
            .select((content_items::content_type, count_star()))
            .load(&mut conn)
            .await
            .map_err(db("ranking content types"))?;
        let mut ranked: Vec<(ContentType, i64)> = rows
            .into_iter()
            .filter_map(|(t, n)| ContentType::parse(&t).map(|t| (t, n)))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(PageRequest::first(limit).slice(ranked.into_iter().map(|(t, _)| t).collect()))
    }
}
