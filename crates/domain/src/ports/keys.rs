use async_trait::async_trait;

use crate::error::DomainResult;
use crate::model::{ApiKey, NewApiKey, Timestamp};

/// Where API keys are kept (only hashes of their secrets).
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a key. A prefix already in use is a [`Conflict`](crate::DomainError::Conflict).
    async fn create(&self, key: NewApiKey) -> DomainResult<ApiKey>;
    /// The key with `prefix` and the hash of its secret, revoked and expired ones included.
    async fn find(&self, prefix: &str) -> DomainResult<Option<(ApiKey, String)>>;
    /// Every key, newest first.
    async fn list(&self) -> DomainResult<Vec<ApiKey>>;
    /// Marks the key with `prefix` revoked at `at` (idempotent: an already revoked key keeps
    /// its first revocation time). `None` if no such key.
    async fn revoke(&self, prefix: &str, at: Timestamp) -> DomainResult<Option<ApiKey>>;
    /// Number of keys usable at `now` with the admin scope.
    async fn count_admin(&self, now: Timestamp) -> DomainResult<i64>;
}
