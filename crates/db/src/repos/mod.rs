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
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
