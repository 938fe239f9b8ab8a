//! Validated PostgreSQL schema names.

use std::fmt;

/// A PostgreSQL schema name Genonaut may serve: lower-case ASCII letters, digits and `_`,
/// starting with a letter or `_`, at most 63 bytes, and not a reserved `pg_` name. Such names
/// never need quoting, so they can be spliced into SQL safely.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaName(String);

/// Why a string is not a valid schema name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid schema name '{0}': use 1–63 lower-case letters, digits or '_', starting with a letter or '_' (not 'pg_…', 'public' or 'information_schema')"
)]
pub struct InvalidSchemaName(pub String);

impl SchemaName {
    /// Validates `raw`.
    pub fn parse(raw: &str) -> Result<Self, InvalidSchemaName> {
        let valid_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        let valid_start = raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
        let reserved = raw.starts_with("pg_") || raw == "public" || raw == "information_schema";
        if valid_chars && valid_start && raw.len() <= 63 && !reserved {
            Ok(SchemaName(raw.to_owned()))
        } else {
            Err(InvalidSchemaName(raw.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_identifiers_only() {
        for ok in ["app", "demo", "test", "_x", "bench_2"] {
            assert!(SchemaName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "App",
            "1abc",
            "a-b",
            "a;drop",
            "pg_catalog",
            "public",
            "a b",
            &"x".repeat(64),
        ] {
            assert!(SchemaName::parse(bad).is_err(), "{bad}");
        }
    }
}
