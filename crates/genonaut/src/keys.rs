//! `genonaut keys …`: create, list and revoke API keys.

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use clap::{Args, Subcommand};
use genonaut_db::SchemaName;
use genonaut_domain::model::Scope;
use genonaut_domain::services::KeyService;

use crate::app::{key_service, pools, prepare_database};
use crate::config::{DatabaseArgs, DatabaseConfig};

/// `keys` sub-commands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it (the only time it is shown).
    Create(KeyCreateArgs),
    /// List keys: prefix, name, scope, schema, created, expires, revoked.
    List(KeyListArgs),
    /// Revoke a key by its prefix (or the whole key). Takes effect within API_KEY_CACHE_SECS.
    Revoke(KeyRevokeArgs),
}

/// What a key may do.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ScopeArg {
    /// GET and HEAD.
    Read,
    /// Every request except administration.
    Write,
    /// Everything, including keys, queue processing, job status overrides, recommender builds.
    Admin,
}

/// `keys create` options.
#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Who or what uses the key.
    #[arg(long)]
    pub name: String,
    /// What the key may do.
    #[arg(long, value_enum)]
    pub scope: ScopeArg,
    /// Restrict the key to one schema.
    #[arg(long)]
    pub schema: Option<String>,
    /// Expiry: a duration (`90d`, `12h`, `30m`) or a UTC date/time (`2027-01-31`,
    /// `2027-01-31T12:00:00`).
    #[arg(long)]
    pub expires: Option<String>,
}

/// `keys list` options.
#[derive(Debug, Args)]
pub struct KeyListArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `keys revoke` options.
#[derive(Debug, Args)]
pub struct KeyRevokeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The key's prefix (as `keys list` shows it) or the whole key.
    pub key: String,
}

/// Runs a `keys` sub-command.
pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create(args) => {
            let (keys, config) = service(args.database).await?;
            let schema = match &args.schema {
                Some(name) => {
                    let schema = SchemaName::parse(name.trim())?;
                    anyhow::ensure!(
                        config.schemas.contains(&schema),
                        "schema {schema} is not in GENONAUT_SCHEMAS"
                    );
                    Some(schema.to_string())
                }
                None => None,
            };
            let expires = args
                .expires
                .as_deref()
                .map(|raw| parse_expiry(raw, Utc::now().naive_utc()))
                .transpose()?;
            let scope = match args.scope {
                ScopeArg::Read => Scope::Read,
                ScopeArg::Write => Scope::Write,
                ScopeArg::Admin => Scope::Admin,
            };
            let created = keys.create(&args.name, scope, schema, expires).await?;
            eprintln!(
                "created key {} ({}, scope {}{}{}); it is shown only now:",
                created.key.prefix,
                created.key.name,
                created.key.scope,
                created
                    .key
                    .schema
                    .as_deref()
                    .map(|s| format!(", schema {s}"))
                    .unwrap_or_default(),
                created
                    .key
                    .expires_at
                    .map(|e| format!(", expires {e}"))
                    .unwrap_or_default(),
            );
            println!("{}", created.secret);
        }
        KeysCommand::List(args) => {
            let (keys, _) = service(args.database).await?;
            let now = Utc::now().naive_utc();
            println!(
                "{:<10} {:<8} {:<10} {:<20} {:<20} {:<9} name",
                "prefix", "scope", "schema", "created", "expires", "state"
            );
            for key in keys.list().await? {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else if key.is_usable(now) {
                    "active"
                } else {
                    "expired"
                };
                let stamp = |t: Option<NaiveDateTime>| {
                    t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
                };
                println!(
                    "{:<10} {:<8} {:<10} {:<20} {:<20} {:<9} {}",
                    key.prefix,
                    key.scope.as_str(),
                    key.schema.as_deref().unwrap_or("*"),
                    stamp(Some(key.created_at)),
                    stamp(key.expires_at),
                    state,
                    key.name
                );
            }
        }
        KeysCommand::Revoke(args) => {
            let (keys, _) = service(args.database).await?;
            let key = keys.revoke(&args.key).await?;
            println!("revoked {} ({})", key.prefix, key.name);
        }
    }
    Ok(())
}

async fn service(args: crate::config::DatabaseArgs) -> anyhow::Result<(KeyService, DatabaseConfig)> {
    let mut config = DatabaseConfig::try_from(args)?;
    prepare_database(&mut config, true).await?;
    let pools = pools(&config)?;
    Ok((key_service(&pools, &config)?, config))
}

/// `90d`, `12h`, `30m` from `now`, or an absolute UTC date or date-time.
fn parse_expiry(raw: &str, now: NaiveDateTime) -> anyhow::Result<NaiveDateTime> {
    let raw = raw.trim();
    let relative = |unit: char, per: i64| -> Option<NaiveDateTime> {
        let n: i64 = raw.strip_suffix(unit)?.parse().ok()?;
        (n > 0).then(|| now + chrono::Duration::seconds(n.saturating_mul(per)))
    };
    relative('d', 86_400)
        .or_else(|| relative('h', 3_600))
        .or_else(|| relative('m', 60))
        .or_else(|| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").ok())
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .with_context(|| format!("--expires {raw:?}: use 90d, 12h, 30m or a date like 2027-01-31"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_accepts_durations_and_dates() {
        let now = NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        assert_eq!(
            parse_expiry("2d", now).ok(),
            Some(now + chrono::Duration::days(2))
        );
        assert_eq!(
            parse_expiry("12h", now).ok(),
            Some(now + chrono::Duration::hours(12))
        );
        assert_eq!(
            parse_expiry("2027-01-31", now).ok().map(|t| t.to_string()),
            Some("2027-01-31 00:00:00".to_owned())
        );
        assert!(parse_expiry("soon", now).is_err());
        assert!(parse_expiry("0d", now).is_err());
    }
}
