//! Fixed SQL statements that the connection prepares once and reuses.

use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId, SqlQuery};

/// A fixed SQL statement, named by a type of its own (declare one with [`statement!`]).
///
/// For the hottest statements (content by id, a user's recommendations, recording an
/// interaction). A DSL query is rendered to SQL text three times on every call (binds, cache
/// check, text) — ~8 % of the server's CPU on `POST /interactions` — while a fixed text is
/// copied once; `sql_query` on its own is never cached, so PostgreSQL would parse and plan it
/// on every call; and a statement cached by its text is found by hashing the whole text.
/// A statement's type is its cache key instead (with the SQL types of its binds).
pub(crate) trait Statement: Sized + 'static {
    /// The statement's one text.
    const SQL: &'static str;

    /// What its rows are read as: `Untyped` (each column looked up by name, for a
    /// `QueryableByName` row), or the SQL types of a `Selectable` row's columns in order (read
    /// by position, without comparing column names for every field of every row; the text
    /// must select the row's columns in the row's order — a test checks each such statement).
    type Columns;

    /// The statement with its parameters: `binds` gets the statement's `sql_query` and binds
    /// `$1`, `$2`, … in order.
    fn with_binds<Q>(binds: impl FnOnce(SqlQuery) -> Q) -> Prepared<Q, Self> {
        Prepared(binds(diesel::sql_query(Self::SQL)), PhantomData)
    }
}

/// Declares a [`Statement`]: `statement!(Name = "SELECT …");`.
/// `statement!(Name -> Row = "SELECT …");` reads `Row`s (a `Selectable`) by position.
macro_rules! statement {
    ($(#[$doc:meta])* $name:ident = $sql:expr) => {
        $(#[$doc])*
        pub(crate) enum $name {}

        impl $crate::prepared::Statement for $name {
            const SQL: &'static str = $sql;
            type Columns = diesel::sql_types::Untyped;
        }
    };
    ($(#[$doc:meta])* $name:ident -> $row:ty = $sql:expr) => {
        $(#[$doc])*
        pub(crate) enum $name {}

        impl $crate::prepared::Statement for $name {
            const SQL: &'static str = $sql;
            type Columns = diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<$row, diesel::pg::Pg>>;
        }
    };
}
pub(crate) use statement;

/// Statement `S` with its binds; its prepared statement is cached under `S`.
pub(crate) struct Prepared<Q, S>(Q, PhantomData<S>);

impl<Q: QueryFragment<Pg>, S> QueryFragment<Pg> for Prepared<Q, S> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// Keyed by the statement's type and its binds' SQL types: one text per type, so the key
/// never needs the text itself.
impl<Q: QueryId, S: Statement> QueryId for Prepared<Q, S> {
    type QueryId = (S, Q::QueryId);
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q: Query, S: Statement> Query for Prepared<Q, S> {
    type SqlType = S::Columns;
}

/// `count(*) AS n` of a fixed statement.
#[derive(diesel::QueryableByName)]
pub(crate) struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// The columns a `Selectable` row reads, in order (for the test that a typed statement's text
/// selects them in that order).
#[cfg(test)]
pub(crate) fn row_columns<R: diesel::Selectable<Pg>>() -> Vec<String>
where
    R::SelectExpression: QueryFragment<Pg>,
{
    let text = diesel::debug_query::<Pg, _>(&R::construct_selection()).to_string();
    let text = text.split(" -- binds").next().unwrap_or_default();
    text.split(", ")
        .map(|c| c.rsplit('.').next().unwrap_or(c).trim_matches('"').to_owned())
        .collect()
}

/// The columns a statement's text selects, in order (aliases and table prefixes dropped).
#[cfg(test)]
pub(crate) fn selected_columns<S: Statement>() -> Vec<String> {
    let list = S::SQL
        .strip_prefix("SELECT ")
        .and_then(|rest| rest.split(" FROM ").next())
        .unwrap_or_default();
    list.split(", ")
        .map(|c| {
            let c = c.rsplit(" AS ").next().unwrap_or(c);
            c.rsplit('.').next().unwrap_or(c).trim().to_owned()
        })
        .collect()
}
