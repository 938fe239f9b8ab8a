//! Fixed SQL statements that the connection prepares once and reuses.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// A `diesel::sql_query` (with its binds) whose prepared statement the connection caches by
/// its SQL text, as it does for DSL queries.
///
/// For the hottest statements (content by id, a user's recommendations, recording an
/// interaction). A DSL query is rendered to SQL text three times on every call (binds, cache
/// check, text) — ~8 % of the server's CPU on `POST /interactions` — while a fixed text is
/// copied once; and `sql_query` on its own is never cached, so PostgreSQL would parse and plan
/// it on every call. Only for SQL whose text is the same on every call.
pub(crate) struct Prepared<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// Keyed by SQL text (no static id), like any statement diesel caches by text.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

/// `count(*) AS n` of a fixed statement.
#[derive(diesel::QueryableByName)]
pub(crate) struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}
