//! Bulk loading of generated data sets (demo seed, synthetic evaluation data).

use std::time::Instant;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use genonaut_domain::synthetic::Dataset;
use serde_json::{Value, json};

use crate::PgPool;
use crate::error::DbError;
use crate::schema::{content_items, user_interactions, users};

/// What was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSummary {
    /// Users inserted.
    pub users: usize,
    /// Items inserted.
    pub items: usize,
    /// Interactions inserted.
    pub interactions: usize,
    /// Milliseconds taken.
    pub millis: u128,
}

/// Which part of a load is in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Inserting users.
    Users,
    /// Inserting content items.
    Items,
    /// Inserting interactions.
    Interactions,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct UserRow<'a> {
    username: &'a str,
    email: &'a str,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    preferences: Value,
    is_active: bool,
}

#[derive(Insertable)]
#[diesel(table_name = content_items)]
struct ItemRow<'a> {
    title: &'a str,
    content_type: &'static str,
    content_data: &'a str,
    item_metadata: Value,
    creator_id: i32,
    created_at: chrono::NaiveDateTime,
    tags: Value,
    quality_score: f64,
    is_public: bool,
    is_private: bool,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = user_interactions)]
struct InteractionRow {
    user_id: i32,
    content_item_id: i32,
    interaction_type: &'static str,
    rating: Option<i32>,
    duration: Option<i32>,
    created_at: chrono::NaiveDateTime,
    interaction_metadata: Value,
}

fn failed(context: &'static str) -> impl Fn(diesel::result::Error) -> DbError {
    move |e| DbError::Query {
        context: context.into(),
        source: Box::new(e),
    }
}

/// Whether the schema behind `pool` has no users yet.
pub async fn is_empty(pool: &PgPool) -> Result<bool, DbError> {
    let mut conn = pool.get().await.map_err(|e| DbError::Connect(e.to_string()))?;
    let any: Option<i32> = users::table
        .select(users::id)
        .first(&mut conn)
        .await
        .optional()
        .map_err(failed("checking for existing data"))?;
    Ok(any.is_none())
}

/// Inserts `data` in one transaction (all or nothing), reporting progress as
/// `(stage, rows done, rows of that stage)`, then refreshes planner statistics.
pub async fn load(
    pool: &PgPool,
    data: &Dataset,
    progress: &(dyn Fn(Stage, usize, usize) + Send + Sync),
) -> Result<LoadSummary, DbError> {
    const CHUNK: usize = 4_000;
    let started = Instant::now();
    let mut conn = pool.get().await.map_err(|e| DbError::Connect(e.to_string()))?;
    conn.transaction::<(), DbError, _>(async |conn| {
        let mut user_ids: Vec<i32> = Vec::with_capacity(data.users.len());
        for chunk in data.users.chunks(CHUNK) {
            let rows: Vec<UserRow<'_>> = chunk
                .iter()
                .map(|u| UserRow {
                    username: &u.username,
                    email: &u.email,
                    created_at: u.created_at,
                    updated_at: u.created_at,
                    preferences: Value::Object(u.preferences.clone()),
                    is_active: u.is_active,
                })
                .collect();
            let mut ids: Vec<i32> = diesel::insert_into(users::table)
                .values(rows)
                .returning(users::id)
                .get_results(conn)
                .await
                .map_err(failed("inserting users"))?;
            ids.sort_unstable();
            user_ids.extend(ids);
            progress(Stage::Users, user_ids.len(), data.users.len());
        }
        let mut item_ids: Vec<i32> = Vec::with_capacity(data.items.len());
        for chunk in data.items.chunks(CHUNK) {
            let rows: Vec<ItemRow<'_>> = chunk
                .iter()
                .map(|i| ItemRow {
                    title: &i.title,
                    content_type: i.content_type.as_str(),
                    content_data: &i.content_data,
                    item_metadata: Value::Object(i.item_metadata.clone()),
                    creator_id: user_ids[i.creator],
                    created_at: i.created_at,
                    tags: json!(i.tags),
                    quality_score: i.quality_score,
                    is_public: i.is_public,
                    is_private: i.is_private,
                    updated_at: i.created_at,
                })
                .collect();
            let mut ids: Vec<i32> = diesel::insert_into(content_items::table)
                .values(rows)
                .returning(content_items::id)
                .get_results(conn)
                .await
                .map_err(failed("inserting content"))?;
            ids.sort_unstable();
            item_ids.extend(ids);
            progress(Stage::Items, item_ids.len(), data.items.len());
        }
        let mut done = 0;
        for chunk in data.interactions.chunks(CHUNK) {
            let rows: Vec<InteractionRow> = chunk
                .iter()
                .map(|i| InteractionRow {
                    user_id: user_ids[i.user],
                    content_item_id: item_ids[i.item],
                    interaction_type: i.interaction_type.as_str(),
                    rating: i.rating,
                    duration: i.duration,
                    created_at: i.created_at,
                    interaction_metadata: Value::Object(i.metadata.clone()),
                })
                .collect();
            // Identical (user, item, type, time) rows would violate the unique constraint;
            // the generator's timestamps are per second, so skip exact repeats.
            diesel::insert_into(user_interactions::table)
                .values(rows)
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(failed("inserting interactions"))?;
            done += chunk.len();
            progress(Stage::Interactions, done, data.interactions.len());
        }
        Ok(())
    })
    .await?;
    diesel::sql_query("ANALYZE users, content_items, user_interactions")
        .execute(&mut conn)
        .await
        .map_err(failed("analyzing"))?;
    Ok(LoadSummary {
        users: data.users.len(),
        items: data.items.len(),
        interactions: data.interactions.len(),
        millis: started.elapsed().as_millis(),
    })
}
