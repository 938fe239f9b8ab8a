//! The in-memory fake of the API-key store.

use std::sync::Mutex;

use crate::model::Timestamp;

/// In-memory [`ApiKeyStore`](crate::ports::ApiKeyStore).
#[derive(Debug, Default)]
pub struct InMemoryKeys {
    keys: Mutex<Vec<(crate::model::ApiKey, String)>>,
}

#[async_trait::async_trait]
impl crate::ports::ApiKeyStore for InMemoryKeys {
    async fn create(&self, key: crate::model::NewApiKey) -> crate::DomainResult<crate::model::ApiKey> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.iter().any(|(k, _)| k.prefix == key.prefix) {
            return Err(crate::DomainError::Conflict(crate::Conflict::KeyPrefix));
        }
        let stored = crate::model::ApiKey {
            id: i32::try_from(keys.len()).unwrap_or(i32::MAX).saturating_add(1),
            name: key.name,
            prefix: key.prefix,
            scope: key.scope,
            schema: key.schema,
            created_at: key.created_at,
            expires_at: key.expires_at,
            revoked_at: None,
        };
        keys.push((stored.clone(), key.hash));
        Ok(stored)
    }

    async fn find(&self, prefix: &str) -> crate::DomainResult<Option<(crate::model::ApiKey, String)>> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        Ok(keys.iter().find(|(k, _)| k.prefix == prefix).cloned())
    }

    async fn list(&self) -> crate::DomainResult<Vec<crate::model::ApiKey>> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        Ok(keys.iter().rev().map(|(k, _)| k.clone()).collect())
    }

    async fn revoke(&self, prefix: &str, at: Timestamp) -> crate::DomainResult<Option<crate::model::ApiKey>> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        Ok(keys.iter_mut().find(|(k, _)| k.prefix == prefix).map(|(k, _)| {
            k.revoked_at.get_or_insert(at);
            k.clone()
        }))
    }

    async fn count_admin(&self, now: Timestamp) -> crate::DomainResult<i64> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let n = keys
            .iter()
            .filter(|(k, _)| k.scope == crate::model::Scope::Admin && k.is_usable(now))
            .count();
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
