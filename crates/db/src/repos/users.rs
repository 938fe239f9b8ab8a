use async_trait::async_trait;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable};
use diesel_async::RunQueryDsl;
use genonaut_domain::ids::UserId;
use genonaut_domain::model::{
    JsonObject, NewUser, Timestamp, User, UserActivity, UserChanges, UserOverview, UserQuery,
};
use genonaut_domain::ports::UserRepository;
use genonaut_domain::{DomainResult, Page, PageRequest};
use serde_json::Value;

use crate::PgPool;
use crate::error::db;
use crate::prepared::{Statement, statement};
use crate::rows::{UserRow, key, keys};
use crate::schema::users;

statement!(
    /// A user by id.
    UserById -> UserRow = "SELECT id, username, email, created_at, updated_at, preferences, is_active \
     FROM users WHERE id = $1"
);

/// Users in PostgreSQL.
#[derive(Clone)]
pub struct PgUsers {
    pool: PgPool,
}

impl PgUsers {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgUsers { pool }
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    username: &'a str,
    email: &'a str,
    created_at: Timestamp,
    updated_at: Timestamp,
    preferences: Value,
    is_active: bool,
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct UserChangeset {
    username: Option<String>,
    email: Option<String>,
    is_active: Option<bool>,
    updated_at: Timestamp,
}

fn filtered(query: &UserQuery) -> users::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = users::table.into_boxed();
    if query.active_only {
        q = q.filter(users::is_active.eq(true));
    }
    if !query.preferences.is_empty() {
        q = q.filter(users::preferences.contains(Value::Object(query.preferences.clone())));
    }
    q
}

#[derive(QueryableByName)]
struct ActivityRow {
    #[diesel(sql_type = BigInt)]
    total_interactions: i64,
    #[diesel(sql_type = BigInt)]
    content_created: i64,
    #[diesel(sql_type = Nullable<Double>)]
    avg_rating: Option<f64>,
}

#[async_trait]
impl UserRepository for PgUsers {
    async fn insert(&self, user: NewUser, now: Timestamp) -> DomainResult<User> {
        let mut conn = self.pool.get().await?;
        let row = NewUserRow {
            username: user.username.as_str(),
            email: user.email.as_str(),
            created_at: now,
            updated_at: now,
            preferences: Value::Object(user.preferences),
            is_active: true,
        };
        let row: UserRow = diesel::insert_into(users::table)
            .values(&row)
            .returning(UserRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(db("inserting a user"))?;
        Ok(row.into())
    }

    async fn get(&self, id: UserId) -> DomainResult<Option<User>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        // Read before most requests (existence and active checks): fixed, prepared once.
        let row: Option<UserRow> = UserById::with_binds(|q| q.bind::<Integer, _>(id))
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("reading a user"))?;
        Ok(row.map(User::from))
    }

    async fn get_many(&self, ids: &[UserId]) -> DomainResult<Vec<User>> {
        let ids = keys(ids.iter().map(|i| i.0));
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await?;
        let rows: Vec<UserRow> = users::table
            .filter(users::id.eq_any(ids))
            .select(UserRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("reading users"))?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn find_by_username(&self, username: &str) -> DomainResult<Option<User>> {
        let mut conn = self.pool.get().await?;
        let row: Option<UserRow> = users::table
            .filter(users::username.eq(username))
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("finding a user by username"))?;
        Ok(row.map(User::from))
    }

    async fn find_by_email(&self, email: &str) -> DomainResult<Option<User>> {
        let mut conn = self.pool.get().await?;
        let row: Option<UserRow> = users::table
            .filter(users::email.eq(email))
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("finding a user by e-mail"))?;
        Ok(row.map(User::from))
    }

    async fn update(&self, id: UserId, changes: UserChanges, now: Timestamp) -> DomainResult<Option<User>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let changeset = UserChangeset {
            username: changes.username.map(|u| u.into_inner()),
            email: changes.email.map(|e| e.into_inner()),
            is_active: changes.is_active,
            updated_at: now,
        };
        let row: Option<UserRow> = diesel::update(users::table.find(id))
            .set(&changeset)
            .returning(UserRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("updating a user"))?;
        Ok(row.map(User::from))
    }

    async fn merge_preferences(
        &self,
        id: UserId,
        preferences: JsonObject,
        now: Timestamp,
    ) -> DomainResult<Option<User>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let row: Option<UserRow> = diesel::update(users::table.find(id))
            .set((
                users::preferences.eq(users::preferences.concat(Value::Object(preferences))),
                users::updated_at.eq(now),
            ))
            .returning(UserRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("merging preferences"))?;
        Ok(row.map(User::from))
    }

    async fn list(&self, query: &UserQuery, page: PageRequest) -> DomainResult<Page<User>> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<UserRow> = filtered(query)
            .order(users::id.asc())
            .offset(page.skip)
            .limit(page.limit)
            .select(UserRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing users"))?;
        let total: i64 = filtered(query)
            .select(count_star())
            .get_result(&mut conn)
            .await
            .map_err(db("counting users"))?;
        Ok(Page {
            items: rows.into_iter().map(User::from).collect(),
            total,
        })
    }

    async fn activity(&self, id: UserId) -> DomainResult<UserActivity> {
        let Some(id) = key(id.0) else {
            return Ok(UserActivity {
                total_interactions: 0,
                content_created: 0,
                avg_rating_given: 0.0,
            });
        };
        let mut conn = self.pool.get().await?;
        let row: ActivityRow = diesel::sql_query(
            "SELECT (SELECT count(*) FROM user_interactions WHERE user_id = $1) AS total_interactions, \
                    (SELECT count(*) FROM content_items WHERE creator_id = $1) AS content_created, \
                    (SELECT avg(rating)::float8 FROM user_interactions WHERE user_id = $1) AS avg_rating",
        )
        .bind::<Integer, _>(id)
        .get_result(&mut conn)
        .await
        .map_err(db("computing user activity"))?;
        Ok(UserActivity {
            total_interactions: row.total_interactions,
            content_created: row.content_created,
            avg_rating_given: row.avg_rating.unwrap_or(0.0),
        })
    }

    async fn overview(&self) -> DomainResult<UserOverview> {
        let mut conn = self.pool.get().await?;
        let (total, active): (i64, i64) = users::table
            .select((
                count_star(),
                diesel::dsl::sql::<BigInt>("count(*) FILTER (WHERE is_active)"),
            ))
            .get_result(&mut conn)
            .await
            .map_err(db("counting users"))?;
        Ok(UserOverview { total, active })
    }
}
