//! One repository adapter per port, all over one [`PgPool`](crate::PgPool).

mod content;
mod embeddings;
mod emit;
mod experiments;
mod interactions;
mod jobs;
mod keys;
mod queue;
mod recommendations;
mod recommender;
mod system;
mod tickets;
mod users;
mod webhooks;

pub use content::PgContent;
pub use embeddings::PgEmbeddings;
pub use experiments::PgExperiments;
pub use interactions::PgInteractions;
pub use jobs::PgJobs;
pub use keys::PgApiKeys;
pub use queue::PgJobQueue;
pub use recommendations::PgRecommendations;
pub use recommender::PgRecommender;
pub use system::PgSystem;
pub use tickets::PgTickets;
pub use users::PgUsers;
pub use webhooks::PgWebhooks;
#[cfg(feature = "test-util")]
pub(crate) use webhooks::claim_sql;

/// `%term%` for `ILIKE`, with the pattern characters of `term` escaped.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use crate::prepared::{row_columns, selected_columns};
    use crate::rows::{ContentRow, RecommendationRow, UserRow};

    /// Statements read by position (`statement!(Name -> Row = …)`) select their row's columns
    /// in the row's order: otherwise a column would be read into another field.
    #[test]
    fn positional_statements_select_their_rows_columns_in_order() {
        let content = row_columns::<ContentRow>();
        assert_eq!(content.len(), 12, "{content:?}");
        assert_eq!(selected_columns::<super::content::ContentById>(), content);
        assert_eq!(
            selected_columns::<super::users::UserById>(),
            row_columns::<UserRow>()
        );
        assert_eq!(
            selected_columns::<super::recommendations::UserRecommendations>(),
            row_columns::<RecommendationRow>()
        );
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
