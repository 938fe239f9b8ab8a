//! API keys: creation (random, shown once), listing, revocation and authentication.
//!
//! A key reads `gnt_<prefix>_<secret>`: an 8-character public prefix (for lookup, listings and
//! logs) and a 40-character secret (160 random bits, hex). Only the SHA-256 of the whole key is
//! stored; keys are random, so a fast hash is as strong as a slow one and keeps authentication
//! cheap. Hashes are compared in constant time.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::{DomainError, DomainResult, Invalid, NotFound};
use crate::model::{ApiKey, NewApiKey, Scope, Timestamp};
use crate::ports::{ApiKeyStore, Clock, Entropy};

const PREFIX_BYTES: usize = 4;
const SECRET_BYTES: usize = 20;
const MARK: &str = "gnt_";
/// The longest key name, in characters.
pub const MAX_KEY_NAME: usize = 100;

/// Why a presented key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Not a Genonaut key, or no key with that prefix, or the secret does not match.
    Invalid,
    /// The key was revoked.
    Revoked,
    /// The key expired.
    Expired,
}

impl KeyRefusal {
    /// A message for the client (never containing the key).
    pub fn message(self) -> &'static str {
        match self {
            KeyRefusal::Invalid => "Invalid API key",
            KeyRefusal::Revoked => "API key has been revoked",
            KeyRefusal::Expired => "API key has expired",
        }
    }
}

/// A key just created: the stored record and the secret, which exists nowhere else.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The stored record.
    pub key: ApiKey,
    /// The whole key, to hand to its user once.
    pub secret: String,
}

/// API key management and authentication.
#[derive(Clone)]
pub struct KeyService {
    store: Arc<dyn ApiKeyStore>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
}

impl KeyService {
    /// A service over `store`, drawing secrets from `entropy`.
    pub fn new(store: Arc<dyn ApiKeyStore>, clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>) -> Self {
        KeyService {
            store,
            clock,
            entropy,
        }
    }

    /// Creates a key. `name` must be 1–100 characters; `expires_at` must be in the future.
    pub async fn create(
        &self,
        name: &str,
        scope: Scope,
        schema: Option<String>,
        expires_at: Option<Timestamp>,
    ) -> DomainResult<CreatedKey> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_KEY_NAME {
            return Err(DomainError::invalid(
                &["name"],
                Invalid::KeyName { max: MAX_KEY_NAME },
            ));
        }
        let now = self.clock.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(DomainError::invalid(&["expires_at"], Invalid::ExpiryNotInFuture));
        }
        // A prefix collision (1 in 4 billion per pair) is retried with fresh randomness.
        for _ in 0..3 {
            let (prefix, secret) = generate(self.entropy.as_ref())?;
            let new = NewApiKey {
                name: name.to_owned(),
                prefix,
                hash: hash(&secret),
                scope,
                schema: schema.clone(),
                created_at: now,
                expires_at,
            };
            match self.store.create(new).await {
                Ok(key) => return Ok(CreatedKey { key, secret }),
                Err(DomainError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(DomainError::Unavailable("could not allocate a key prefix".into()))
    }

    /// Every key, newest first.
    pub async fn list(&self) -> DomainResult<Vec<ApiKey>> {
        self.store.list().await
    }

    /// Revokes the key named by its prefix (or the whole key). 404 if unknown.
    pub async fn revoke(&self, prefix_or_key: &str) -> DomainResult<ApiKey> {
        let prefix = parse(prefix_or_key).map_or(prefix_or_key.trim(), |(p, _)| p);
        self.store
            .revoke(prefix, self.clock.now())
            .await?
            .ok_or_else(|| DomainError::NotFound(NotFound::ApiKey(prefix.to_owned())))
    }

    /// Whether at least one usable admin key exists.
    pub async fn has_admin(&self) -> DomainResult<bool> {
        Ok(self.store.count_admin(self.clock.now()).await? > 0)
    }

    /// The key `presented` belongs to, if it is valid, unrevoked and unexpired.
    pub async fn authenticate(&self, presented: &str) -> DomainResult<Result<ApiKey, KeyRefusal>> {
        let Some((prefix, _)) = parse(presented) else {
            return Ok(Err(KeyRefusal::Invalid));
        };
        let Some((key, stored)) = self.store.find(prefix).await? else {
            return Ok(Err(KeyRefusal::Invalid));
        };
        if !constant_time_eq(hash(presented).as_bytes(), stored.as_bytes()) {
            return Ok(Err(KeyRefusal::Invalid));
        }
        let now = self.clock.now();
        Ok(if key.revoked_at.is_some() {
            Err(KeyRefusal::Revoked)
        } else if !key.is_usable(now) {
            Err(KeyRefusal::Expired)
        } else {
            Ok(key)
        })
    }
}

/// The public prefix and secret part of a well-formed key.
pub fn parse(key: &str) -> Option<(&str, &str)> {
    let rest = key.trim().strip_prefix(MARK)?;
    let (prefix, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n * 2 && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(prefix, PREFIX_BYTES) && hex(secret, SECRET_BYTES)).then_some((prefix, secret))
}

/// SHA-256 of `key`, lowercase hex.
pub fn hash(key: &str) -> String {
    to_hex(&Sha256::digest(key.trim().as_bytes()))
}

fn generate(entropy: &dyn Entropy) -> DomainResult<(String, String)> {
    let mut bytes = [0u8; PREFIX_BYTES + SECRET_BYTES];
    entropy
        .fill(&mut bytes)
        .map_err(|e| DomainError::Unavailable(e.to_string()))?;
    let prefix = to_hex(&bytes[..PREFIX_BYTES]);
    let secret = format!("{MARK}{prefix}_{}", to_hex(&bytes[PREFIX_BYTES..]));
    Ok((prefix, secret))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FixedClock, InMemoryKeys, NoEntropy, SeqEntropy};
    use chrono::{Duration, NaiveDate};

    fn service() -> (KeyService, Arc<FixedClock>) {
        let start = NaiveDate::from_ymd_opt(2025, 6, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default();
        let clock = Arc::new(FixedClock::at(start));
        (
            KeyService::new(
                Arc::new(InMemoryKeys::default()),
                clock.clone(),
                Arc::new(SeqEntropy::seeded(1)),
            ),
            clock,
        )
    }

    #[tokio::test]
    async fn created_keys_authenticate_and_only_their_hash_is_kept() -> DomainResult<()> {
        let (keys, _) = service();
        let created = keys.create("ci", Scope::Write, None, None).await?;
        assert!(created.secret.starts_with("gnt_"));
        assert_eq!(created.secret.len(), 4 + 8 + 1 + 40);
        assert!(created.secret.contains(&created.key.prefix));
        let key = keys.authenticate(&created.secret).await?;
        assert_eq!(key.map(|k| k.scope), Ok(Scope::Write));
        // A changed secret with the right prefix is refused.
        let mut forged = created.secret.clone();
        let last = if forged.ends_with('0') { "1" } else { "0" };
        forged.replace_range(forged.len() - 1.., last);
        assert_eq!(keys.authenticate(&forged).await?, Err(KeyRefusal::Invalid));
        assert_eq!(
            keys.authenticate("Bearer nonsense").await?,
            Err(KeyRefusal::Invalid)
        );
        assert_eq!(keys.authenticate("").await?, Err(KeyRefusal::Invalid));
        Ok(())
    }

    #[tokio::test]
    async fn revoked_and_expired_keys_are_refused() -> DomainResult<()> {
        let (keys, clock) = service();
        let revoked = keys.create("old", Scope::Admin, None, None).await?;
        assert!(keys.has_admin().await?);
        keys.revoke(&revoked.key.prefix).await?;
        assert_eq!(
            keys.authenticate(&revoked.secret).await?,
            Err(KeyRefusal::Revoked)
        );
        assert!(!keys.has_admin().await?);

        let soon = clock.now() + Duration::hours(1);
        let expiring = keys
            .create("temp", Scope::Read, Some("demo".into()), Some(soon))
            .await?;
        assert!(keys.authenticate(&expiring.secret).await?.is_ok());
        clock.advance(Duration::hours(2));
        assert_eq!(
            keys.authenticate(&expiring.secret).await?,
            Err(KeyRefusal::Expired)
        );

        assert!(matches!(
            keys.revoke("deadbeef").await,
            Err(DomainError::NotFound(_))
        ));
        let past = clock.now() - Duration::hours(1);
        assert!(matches!(
            keys.create("x", Scope::Read, None, Some(past)).await,
            Err(DomainError::Invalid { .. })
        ));
        assert!(matches!(
            keys.create(" ", Scope::Read, None, None).await,
            Err(DomainError::Invalid { .. })
        ));
        Ok(())
    }

    #[tokio::test]
    async fn without_randomness_no_key_is_made() {
        let store = Arc::new(InMemoryKeys::default());
        let keys = KeyService::new(store, Arc::new(FixedClock::default()), Arc::new(NoEntropy));
        assert!(matches!(
            keys.create("ci", Scope::Read, None, None).await,
            Err(DomainError::Unavailable(_))
        ));
        assert!(keys.list().await.is_ok_and(|listed| listed.is_empty()));
    }

    #[test]
    fn scopes_include_the_lower_ones() {
        assert!(Scope::Admin.covers(Scope::Write) && Scope::Admin.covers(Scope::Read));
        assert!(Scope::Write.covers(Scope::Read) && !Scope::Write.covers(Scope::Admin));
        assert!(!Scope::Read.covers(Scope::Write));
    }
}
