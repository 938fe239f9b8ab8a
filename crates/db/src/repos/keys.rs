use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use genonaut_domain::model::{ApiKey, NewApiKey, Scope, Timestamp};
use genonaut_domain::ports::ApiKeyStore;
use genonaut_domain::{DomainError, DomainResult};

use crate::PgPool;
use crate::error::db;
use crate::schema::api_keys;

/// API keys in PostgreSQL (table `api_keys`).
#[derive(Clone)]
pub struct PgApiKeys {
    pool: PgPool,
}

impl PgApiKeys {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgApiKeys { pool }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
struct KeyRow {
    id: i32,
    name: String,
    prefix: String,
    key_hash: String,
    scope: String,
    schema_name: Option<String>,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
}

impl KeyRow {
    fn into_key(self) -> DomainResult<(ApiKey, String)> {
        let scope = Scope::parse(&self.scope).ok_or_else(|| {
            DomainError::unexpected("reading API key", format!("unknown scope {:?}", self.scope))
        })?;
        Ok((
            ApiKey {
                id: self.id,
                name: self.name,
                prefix: self.prefix,
                scope,
                schema: self.schema_name,
                created_at: self.created_at,
                expires_at: self.expires_at,
                revoked_at: self.revoked_at,
            },
            self.key_hash,
        ))
    }
}

#[async_trait]
impl ApiKeyStore for PgApiKeys {
    async fn create(&self, key: NewApiKey) -> DomainResult<ApiKey> {
        let mut conn = self.pool.get().await?;
        let row: KeyRow = diesel::insert_into(api_keys::table)
            .values((
                api_keys::name.eq(&key.name),
                api_keys::prefix.eq(&key.prefix),
                api_keys::key_hash.eq(&key.hash),
                api_keys::scope.eq(key.scope.as_str()),
                api_keys::schema_name.eq(&key.schema),
                api_keys::created_at.eq(key.created_at),
                api_keys::expires_at.eq(key.expires_at),
            ))
            .returning(KeyRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(db("creating API key"))?;
        Ok(row.into_key()?.0)
    }

    async fn find(&self, prefix: &str) -> DomainResult<Option<(ApiKey, String)>> {
        let mut conn = self.pool.get().await?;
        api_keys::table
            .filter(api_keys::prefix.eq(prefix))
            .select(KeyRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db("finding API key"))?
            .map(KeyRow::into_key)
            .transpose()
    }

    async fn list(&self) -> DomainResult<Vec<ApiKey>> {
        let mut conn = self.pool.get().await?;
        api_keys::table
            .order(api_keys::id.desc())
            .select(KeyRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db("listing API keys"))?
            .into_iter()
            .map(|r| r.into_key().map(|(k, _)| k))
            .collect()
    }

    async fn revoke(&self, prefix: &str, at: Timestamp) -> DomainResult<Option<ApiKey>> {
        {
            let mut conn = self.pool.get().await?;
            // Only the first revocation counts.
            diesel::update(
                api_keys::table
                    .filter(api_keys::prefix.eq(prefix))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(at))
            .execute(&mut conn)
            .await
            .map_err(db("revoking API key"))?;
        }
        Ok(self.find(prefix).await?.map(|(k, _)| k))
    }

    async fn count_admin(&self, now: Timestamp) -> DomainResult<i64> {
        let mut conn = self.pool.get().await?;
        api_keys::table
            .filter(api_keys::scope.eq(Scope::Admin.as_str()))
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(now)))
            .count()
            .get_result(&mut conn)
            .await
            .map_err(db("counting API keys"))
    }
}
