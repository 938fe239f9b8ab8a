use async_trait::async_trait;
use diesel::dsl::{count_star, sql};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use genonaut_domain::ids::ContentId;
use genonaut_domain::model::{
    Content, ContentChanges, ContentKey, ContentQuery, ContentStats, ContentType, NewContent, Timestamp,
};
use genonaut_domain::ports::ContentRepository;
use genonaut_domain::{DomainError, DomainResult, Page, PageRequest, Rule};
use serde_json::{Value, json};

use super::like_pattern;
use crate::PgPool;
use crate::error::db;
use crate::prepared::{Statement, statement};
use crate::rows::{ContentRow, convert, key, keys};
use crate::schema::{
    content_counts, content_creator_counts, content_items, content_tag_counts, content_tags, generation_jobs,
    recommendations, user_interactions,
};

statement!(
    /// An item by id.
    ContentById -> ContentRow = "SELECT id, title, content_type, content_data, item_metadata, creator_id, created_at, \
     tags, quality_score, is_public, is_private, updated_at FROM content_items WHERE id = $1"
);

/// Content items in PostgreSQL.
#[derive(Clone)]
pub struct PgContent {
    pool: PgPool,
}

impl PgContent {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgContent { pool }
    }
}

#[derive(Insertable)]
#[diesel(table_name = content_items)]
struct NewContentRow {
    title: String,
    content_type: &'static str,
    content_data: String,
    item_metadata: Value,
    creator_id: i32,
    created_at: Timestamp,
    tags: Value,
    quality_score: f64,
    is_public: bool,
    is_private: bool,
    updated_at: Timestamp,
}

#[derive(AsChangeset)]
#[diesel(table_name = content_items)]
struct ContentChangeset {
    title: Option<String>,
    content_data: Option<String>,
    item_metadata: Option<Value>,
    tags: Option<Value>,
    is_public: Option<bool>,
    is_private: Option<bool>,
    updated_at: Timestamp,
}

/// Applies every filter of `query` (ANDed) to the boxed query `$q`, which selects from
/// `content_items` alone or joined. Each is backed by an index: btree for type/creator/public/
/// time, trigram and full-text GIN for the title, `jsonb_path_ops` GIN for tags and metadata.
macro_rules! filter_content {
    ($q:ident, $query:expr) => {{
        let query: &ContentQuery = $query;
        if let Some(term) = query
            .search_term
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let fts = sql::<Bool>(
                "to_tsvector('english', coalesce(content_items.title, '')) @@ websearch_to_tsquery('english', ",
            )
            .bind::<Text, _>(term.to_owned())
            .sql(")");
            $q = $q.filter(content_items::title.ilike(like_pattern(term)).or(fts));
        }
        if let Some(t) = query.content_type {
            $q = $q.filter(content_items::content_type.eq(t.as_str()));
        }
        if let Some(creator) = query.creator_id {
            // An id the column cannot hold matches nothing.
            $q = $q.filter(content_items::creator_id.eq(key(creator.0).unwrap_or(0)));
        }
        if query.public_only {
            $q = $q
                .filter(content_items::is_public.eq(true))
                .filter(content_items::is_private.eq(false));
        }
        if !query.tags.is_empty() {
            $q = $q.filter(content_items::tags.contains(json!(query.tags)));
        }
        for (k, v) in &query.metadata {
            if v.is_null() {
                $q = $q.filter(
                    content_items::item_metadata
                        .retrieve_as_object(k.clone())
                        .is_null()
                        .or(content_items::item_metadata
                            .retrieve_as_object(k.clone())
                            .eq(Value::Null)),
                );
            } else {
                let mut one = serde_json::Map::new();
                one.insert(k.clone(), v.clone());
                $q = $q
                    .filter(content_items::item_metadata.contains(Value::Object(one)))
                    .filter(
                        content_items::item_metadata
                            .retrieve_as_object(k.clone())
                            .eq(v.clone()),
                    );
            }
        }
        if let Some(since) = query.created_since {
            $q = $q.filter(content_items::created_at.ge(since));
        }
    }};
}

/// The items matching every filter of `query`.
fn filtered(query: &ContentQuery) -> content_items::BoxedQuery<'static, Pg> {
    let mut q = content_items::table.into_boxed();
    filter_content!(q, query);
    q
}

/// The tag to walk `content_tags` by: with a tag filter and neither a title search nor a
/// metadata filter (those are narrowed best by their GIN indexes), the first tag.
fn walked_tag(query: &ContentQuery) -> Option<&str> {
    let searched = query.search_term.as_deref().is_some_and(|t| !t.trim().is_empty());
    if searched || !query.metadata.is_empty() {
        return None;
    }
    <[String]>::first(&query.tags).map(String::as_str)
}

/// A keyset bound as SQL: `(<created_at>, <id>) < (t, id)` on the given columns.
fn key_bound(
    columns: &'static str,
    at: ContentKey,
) -> diesel::expression::SqlLiteral<Bool, impl diesel::query_builder::QueryFragment<Pg> + Send + 'static> {
    let (op, id) = before(at);
    sql::<Bool>(columns)
        .sql(op)
        .bind::<diesel::sql_types::Timestamp, _>(at.created_at)
        .sql(", ")
        .bind::<Integer, _>(id)
        .sql(")")
}

impl PgContent {
    async fn page(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Vec<Content>> {
        let conn = self.pool.get().await?;
        Self::page_on(&conn, query, page).await
    }

    /// The exact number of matches.
    async fn total_on(mut conn: &AsyncPgConnection, query: &ContentQuery) -> DomainResult<i64> {
        if let Some(counted) = Self::counted_total_on(conn, query).await? {
            return Ok(counted);
        }
        if !is_counted(query) {
            return filtered(query)
                .select(count_star())
                .get_result(&mut conn)
                .await
                .map_err(db("counting content"));
        }
        // Exact, from the counters the triggers of migration `content_counts` keep. Summed
        // here: a DSL statement (prepared once), where `sum(n)` needs raw SQL.
        let counts = || content_counts::table.select(content_counts::n);
        let listed = content_counts::listed.eq(true);
        let result: QueryResult<Vec<i64>> = match (query.content_type, query.public_only) {
            (None, false) => counts().load(&mut conn).await,
            (None, true) => counts().filter(listed).load(&mut conn).await,
            (Some(t), false) => {
                let of_type = content_counts::content_type.eq(t.as_str());
                counts().filter(of_type).load(&mut conn).await
            }
            (Some(t), true) => {
                let of_type = content_counts::content_type.eq(t.as_str());
                counts().filter(of_type).filter(listed).load(&mut conn).await
            }
        };
        Ok(result.map_err(db("counting content"))?.iter().sum())
    }

    /// The exact total of a listing filtered by one tag or by one creator (each with or
    /// without type and public_only), from the counters the triggers of migration
    /// `gallery_paging` keep; `None` for other filters.
    async fn counted_total_on(
        mut conn: &AsyncPgConnection,
        query: &ContentQuery,
    ) -> DomainResult<Option<i64>> {
        let plain = query.search_term.as_deref().is_none_or(|t| t.trim().is_empty())
            && query.metadata.is_empty()
            && query.created_since.is_none();
        if !plain {
            return Ok(None);
        }
        let counts: Vec<i64> = match (query.tags.as_slice(), query.creator_id) {
            ([tag], None) => {
                let mut q = content_tag_counts::table
                    .filter(content_tag_counts::tag.eq(tag.clone()))
                    .select(content_tag_counts::n)
                    .into_boxed();
                if let Some(t) = query.content_type {
                    q = q.filter(content_tag_counts::content_type.eq(t.as_str()));
                }
                if query.public_only {
                    q = q.filter(content_tag_counts::listed.eq(true));
                }
                q.load(&mut conn).await
            }
            ([], Some(creator)) => {
                let Some(creator) = key(creator.0) else {
                    return Ok(Some(0));
                };
                let mut q = content_creator_counts::table
                    .filter(content_creator_counts::creator_id.eq(creator))
                    .select(content_creator_counts::n)
                    .into_boxed();
                if let Some(t) = query.content_type {
                    q = q.filter(content_creator_counts::content_type.eq(t.as_str()));
                }
                if query.public_only {
                    q = q.filter(content_creator_counts::listed.eq(true));
                }
                q.load(&mut conn).await
            }
            _ => return Ok(None),
        }
        .map_err(db("counting content"))?;
        Ok(Some(counts.iter().sum()))
    }

    /// A page of matches. Takes the connection shared, so a count can be pipelined with it.
    async fn page_on(
        conn: &AsyncPgConnection,
        query: &ContentQuery,
        page: PageRequest,
    ) -> DomainResult<Vec<Content>> {
        Self::window_on(conn, query, None, page).await
    }

    /// The matches strictly after `after` (if any), then the `page` window of them.
    async fn window_on(
        mut conn: &AsyncPgConnection,
        query: &ContentQuery,
        after: Option<ContentKey>,
        page: PageRequest,
    ) -> DomainResult<Vec<Content>> {
        if is_unfiltered(query) && after.is_none() {
            // A fixed statement (prepared once per connection), on the ordering index.
            let rows: Vec<ContentRow> = content_items::table
                .order((content_items::created_at.desc(), content_items::id.desc()))
                .offset(page.skip)
                .limit(page.limit)
                .select(ContentRow::as_select())
                .load(&mut conn)
                .await
                .map_err(db("listing content"))?;
            return convert(rows);
        }
        if let Some(tag) = walked_tag(query) {
            return Self::tag_window_on(conn, query, tag, after, page).await;
        }
        let mut q = filtered(query);
        if let Some(at) = after {
            q = q.filter(key_bound("(content_items.created_at, content_items.id", at));
        }
        // With a text, tag or metadata filter the matches come from GIN indexes; ordering by an
        // expression keeps the planner from walking the whole `created_at` index hoping to meet
        // 20 matches early (seconds at a million rows when few match). Top-N sort of the matches
        // instead.
        let gin_filtered = query.search_term.as_deref().is_some_and(|t| !t.trim().is_empty())
            || !query.tags.is_empty()
            || !query.metadata.is_empty();
        let q = if gin_filtered {
            q.order(sql::<diesel::sql_types::Timestamp>(
                "created_at + interval '0 seconds' DESC, id DESC",
            ))
        } else {
            q.order((content_items::created_at.desc(), content_items::id.desc()))
        };
        let rows: Vec<ContentRow> = q
            .offset(page.skip)
            .limit(page.limit)
            .select(ContentRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing content"))?;
        convert(rows)
    }
}

impl PgContent {
    /// A window of the items carrying `tag` (and matching every filter of `query`), walking
    /// `content_tags` in listing order — newest first from the key, whatever the tag's size —
    /// and joining each entry to its item (migration `gallery_paging`).
    async fn tag_window_on(
        mut conn: &AsyncPgConnection,
        query: &ContentQuery,
        tag: &str,
        after: Option<ContentKey>,
        page: PageRequest,
    ) -> DomainResult<Vec<Content>> {
        let mut q = content_tags::table
            .inner_join(content_items::table.on(content_items::id.eq(content_tags::content_id)))
            .filter(content_tags::tag.eq(tag.to_owned()))
            .into_boxed();
        // Type and visibility are copied into the entry: filtered in the index, before the join.
        if let Some(t) = query.content_type {
            q = q.filter(content_tags::content_type.eq(t.as_str()));
        }
        if query.public_only {
            q = q.filter(content_tags::listed.eq(true));
        }
        if let Some(at) = after {
            q = q.filter(key_bound("(content_tags.created_at, content_tags.content_id", at));
        }
        // The rest on the item. Not the walked tag, type or visibility again: the planner would
        // count their selectivity twice, expect a handful of rows and start parallel workers
        // (10 ms) for a page the index gives in 0.2 ms.
        let rest = ContentQuery {
            tags: query.tags.iter().filter(|t| *t != tag).cloned().collect(),
            content_type: None,
            public_only: false,
            ..query.clone()
        };
        filter_content!(q, &rest);
        let rows: Vec<ContentRow> = q
            .order((content_tags::created_at.desc(), content_tags::content_id.desc()))
            .offset(page.skip)
            .limit(page.limit)
            .select(ContentRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing content by tag"))?;
        convert(rows)
    }
}

/// The keyset condition "strictly after `at` in the listing order": the operator and id of the
/// row-value comparison `(created_at, id) < (t, id)`, which a btree on
/// `(…, created_at DESC, id DESC)` serves as a range (every ordering index of `content_items`
/// ends that way). An id the column cannot hold is clamped so the comparison stays exact.
fn before(at: ContentKey) -> (&'static str, i32) {
    match key(at.id.0) {
        Some(id) => (") < (", id),
        None if at.id.0 > 0 => (") <= (", i32::MAX),
        None => (") < (", i32::MIN),
    }
}

/// No filter at all.
fn is_unfiltered(query: &ContentQuery) -> bool {
    query.content_type.is_none() && !query.public_only && is_counted(query)
}

/// Filtered at most by type and visibility, whose totals `content_counts` keeps.
fn is_counted(query: &ContentQuery) -> bool {
    query.search_term.as_deref().is_none_or(|t| t.trim().is_empty())
        && query.creator_id.is_none()
        && query.tags.is_empty()
        && query.metadata.is_empty()
        && query.created_since.is_none()
}

#[async_trait]
impl ContentRepository for PgContent {
    async fn insert(&self, content: NewContent, quality_score: f64, now: Timestamp) -> DomainResult<Content> {
        let Some(creator_id) = key(content.creator_id.0) else {
            return Err(DomainError::Rule(Rule::CreatorMissing));
        };
        let mut conn = self.pool.get().await?;
        let row = NewContentRow {
            title: content.title,
            content_type: content.content_type.as_str(),
            content_data: content.content_data,
            item_metadata: Value::Object(content.item_metadata),
            creator_id,
            created_at: now,
            tags: json!(content.tags.into_inner()),
            quality_score,
            is_public: content.is_public,
            is_private: content.is_private,
            updated_at: now,
        };
        let row: ContentRow = diesel::insert_into(content_items::table)
            .values(row)
            .returning(ContentRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(db("inserting content"))?;
        row.try_into()
    }

    async fn get(&self, id: ContentId) -> DomainResult<Option<Content>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let row: Option<ContentRow> =
            ContentById::with_binds(|q| q.bind::<diesel::sql_types::Integer, _>(id))
                .get_result(&mut conn)
                .await
                .optional()
                .map_err(db("reading content"))?;
        row.map(Content::try_from).transpose()
    }

    async fn get_many(&self, ids: &[ContentId]) -> DomainResult<Vec<Content>> {
        let ids = keys(ids.iter().map(|i| i.0));
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await?;
        let rows: Vec<ContentRow> = content_items::table
            .filter(content_items::id.eq_any(ids))
            .select(ContentRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("reading content"))?;
        convert(rows)
    }

    async fn existing(&self, ids: &[ContentId]) -> DomainResult<Vec<ContentId>> {
        let ids = keys(ids.iter().map(|i| i.0));
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get().await?;
        let found: Vec<i32> = content_items::table
            .filter(content_items::id.eq_any(ids))
            .select(content_items::id)
            .load(&mut conn)
            .await
            .map_err(db("checking content ids"))?;
        Ok(found.into_iter().map(ContentId::from).collect())
    }

    async fn update(
        &self,
        id: ContentId,
        changes: ContentChanges,
        now: Timestamp,
    ) -> DomainResult<Option<Content>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let changeset = ContentChangeset {
            title: changes.title,
            content_data: changes.content_data,
            item_metadata: changes.item_metadata.map(Value::Object),
            tags: changes.tags.map(|t| json!(t.into_inner())),
            is_public: changes.is_public,
            is_private: changes.is_private,
            updated_at: now,
        };
        let row: Option<ContentRow> = diesel::update(content_items::table.find(id))
            .set(&changeset)
            .returning(ContentRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("updating content"))?;
        row.map(Content::try_from).transpose()
    }

    async fn set_quality(&self, id: ContentId, score: f64, now: Timestamp) -> DomainResult<Option<Content>> {
        let Some(id) = key(id.0) else { return Ok(None) };
        let mut conn = self.pool.get().await?;
        let row: Option<ContentRow> = diesel::update(content_items::table.find(id))
            .set((
                content_items::quality_score.eq(score),
                content_items::updated_at.eq(now),
            ))
            .returning(ContentRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db("setting content quality"))?;
        row.map(Content::try_from).transpose()
    }

    async fn delete(&self, id: ContentId) -> DomainResult<bool> {
        let Some(id) = key(id.0) else { return Ok(false) };
        let mut conn = self.pool.get().await?;
        conn.transaction::<bool, diesel::result::Error, _>(async move |conn| {
            diesel::delete(user_interactions::table.filter(user_interactions::content_item_id.eq(id)))
                .execute(conn)
                .await?;
            diesel::delete(recommendations::table.filter(recommendations::content_item_id.eq(id)))
                .execute(conn)
                .await?;
            diesel::update(generation_jobs::table.filter(generation_jobs::result_content_id.eq(id)))
                .set(generation_jobs::result_content_id.eq(None::<i32>))
                .execute(conn)
                .await?;
            let deleted = diesel::delete(content_items::table.find(id))
                .execute(conn)
                .await?;
            Ok(deleted > 0)
        })
        .await
        .map_err(db("deleting content"))
    }

    async fn list(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Page<Content>> {
        let conn = self.pool.get().await?;
        // The page and the total are sent together (pipelined on the one connection): one
        // round trip, one wake-up of each side.
        let items = Self::page_on(&conn, query, page);
        let total = Self::total_on(&conn, query);
        let (items, total) = futures_util::future::try_join(items, total).await?;
        Ok(Page { items, total })
    }

    async fn list_from(
        &self,
        query: &ContentQuery,
        after: Option<ContentKey>,
        limit: i64,
    ) -> DomainResult<Page<Content>> {
        let conn = self.pool.get().await?;
        let items = Self::window_on(&conn, query, after, PageRequest::first(limit));
        let total = Self::total_on(&conn, query);
        let (items, total) = futures_util::future::try_join(items, total).await?;
        Ok(Page { items, total })
    }

    async fn fetch(&self, query: &ContentQuery, page: PageRequest) -> DomainResult<Vec<Content>> {
        self.page(query, page).await
    }

    async fn top_rated(&self, limit: i64) -> DomainResult<Vec<Content>> {
        let mut conn = self.pool.get().await?;
        let rows: Vec<ContentRow> = content_items::table
            .filter(content_items::quality_score.gt(0.0))
            .order((content_items::quality_score.desc(), content_items::id.asc()))
            .limit(limit)
            .select(ContentRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing top-rated content"))?;
        convert(rows)
    }

    async fn stats(&self) -> DomainResult<ContentStats> {
        // From the counters the triggers keep (migrations `content_counts`,
        // `content_counts_private`): at most twelve rows whatever the number of items.
        let mut conn = self.pool.get().await?;
        let rows: Vec<(String, bool, bool, i64)> = content_counts::table
            .select((
                content_counts::content_type,
                content_counts::listed,
                content_counts::private,
                content_counts::n,
            ))
            .load(&mut conn)
            .await
            .map_err(db("counting content"))?;
        let sum = |keep: &dyn Fn(&(String, bool, bool, i64)) -> bool| {
            rows.iter().filter(|r| keep(r)).map(|r| r.3).sum::<i64>()
        };
        Ok(ContentStats {
            total: sum(&|_| true),
            public: sum(&|r| r.1),
            private: sum(&|r| r.2),
            by_type: ContentType::ALL
                .iter()
                .map(|t| (*t, sum(&|r| r.0 == t.as_str())))
                .collect(),
        })
    }
}
