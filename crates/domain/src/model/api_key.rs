//! API keys: who may call the API, with which scope, on which data set.

use crate::model::{Timestamp, string_enum};

string_enum!(
    /// What a key may do. Each scope includes the ones before it.
    Scope {
        /// Read: `GET` (and `HEAD`) requests.
        Read => "read",
        /// Write: every request except administration.
        Write => "write",
        /// Administration: keys, queue processing, job status overrides, schema administration.
        Admin => "admin",
    }
);

impl Scope {
    /// Whether a key with this scope may do what `needed` allows.
    pub fn covers(self, needed: Scope) -> bool {
        self >= needed
    }
}

/// A stored API key (never its secret: only a hash of it is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Identifier.
    pub id: i32,
    /// Human-readable name (who or what uses it).
    pub name: String,
    /// Public prefix, shown in listings and logs, used to find the key.
    pub prefix: String,
    /// What it may do.
    pub scope: Scope,
    /// The only schema it may use; `None` = every served schema.
    pub schema: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// After this instant the key is refused.
    pub expires_at: Option<Timestamp>,
    /// Set when revoked; a revoked key is refused.
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    /// Whether the key may be used at `now`.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A key to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Human-readable name.
    pub name: String,
    /// Public prefix (unique).
    pub prefix: String,
    /// SHA-256 of the whole key, lowercase hex.
    pub hash: String,
    /// Scope.
    pub scope: Scope,
    /// Schema restriction.
    pub schema: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Expiry.
    pub expires_at: Option<Timestamp>,
}
