//! In-memory adapters of every port, for fast tests (feature `test-util`).
//!
//! [`InMemoryStore`] keeps all five aggregates in one mutex-protected state so that operations
//! spanning aggregates (content deletion cascading to interactions, user activity counters)
//! behave as the PostgreSQL adapters do. Orderings, filters and totals follow the port
//! documentation; the adapters' own tests run against both.

pub mod scenarios;
mod store;

pub use store::InMemoryStore;

use std::sync::Mutex;

use chrono::{Duration, NaiveDate};

use crate::model::Timestamp;
use crate::ports::Clock;

/// A deterministic clock: starts at a fixed instant and advances one millisecond per reading,
/// so consecutive writes get distinct, increasing timestamps.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<Timestamp>,
}

impl FixedClock {
    /// A clock starting at `start`.
    pub fn at(start: Timestamp) -> Self {
        FixedClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Default for FixedClock {
    /// Starts at 2025-06-01T12:00:00.
    fn default() -> Self {
        let start = NaiveDate::from_ymd_opt(2025, 6, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default();
        FixedClock::at(start)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        let reading = *now;
        *now += Duration::milliseconds(1);
        reading
    }
}

/// PostgreSQL's `jsonb @>` containment: objects contain every key of the needle (recursively),
/// arrays contain every element of the needle, scalars are equal.
pub fn json_contains(haystack: &serde_json::Value, needle: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (haystack, needle) {
        (Value::Object(h), Value::Object(n)) => n
            .iter()
            .all(|(k, nv)| h.get(k).is_some_and(|hv| json_contains(hv, nv))),
        (Value::Array(h), Value::Array(n)) => n.iter().all(|nv| h.iter().any(|hv| json_contains(hv, nv))),
        (Value::Array(h), scalar) if !scalar.is_object() => h.iter().any(|hv| hv == scalar),
        (h, n) => h == n,
    }
}

/// Generates one `#[tokio::test]` per service scenario. `$make` is an expression evaluating
/// to a future of `(Services, guard)`; the guard (e.g. a test database) lives until the
/// scenario ends.
#[macro_export]
macro_rules! service_scenarios {
    ($make:expr) => {
        $crate::service_scenarios!(@each $make; user_uniqueness_is_checked_username_first, update_checks_existence_then_username_then_email_and_only_bumps_on_change, preferences_merge_shallowly_and_keep_unmentioned_keys, soft_delete_and_activity_rules, content_creation_checks_creator_title_then_data, content_update_refuses_public_and_private_taking_stored_flags, content_deletion_cascades_and_detaches_jobs, content_search_ands_every_filter, interaction_rules_and_aggregates, bulk_recommendations_name_the_first_bad_item_and_write_nothing, a_users_recommendations_are_listed_best_first_only_for_an_active_user, served_marks_all_or_reports_the_first_missing, generate_persists_new_recommendations_and_skips_seen_and_own_items, feedback_records_the_signal_and_positive_interaction_together, job_lifecycle_rules, job_stats_average_processing_time, recommendations_learn_from_interactions_and_explain_themselves, the_learned_model_ranks_co_consumed_items_and_folds_in_new_likes, negative_feedback_removes_and_demotes, builds_run_when_requested_or_stale_and_incrementally, experiments_are_unique_stop_idempotently_and_route_generation, experiment_results_count_users_served_engaged_and_rejected);
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (services, _guard) = $make.await;
                $crate::testing::scenarios::$name(services).await;
            }
        )*
    };
}

/// In-memory [`TicketStore`](crate::ports::TicketStore).
#[derive(Debug, Default)]
pub struct InMemoryTickets {
    tickets: Mutex<Vec<(crate::ports::NewTicket, bool)>>,
}

#[async_trait::async_trait]
impl crate::ports::TicketStore for InMemoryTickets {
    async fn create(&self, ticket: crate::ports::NewTicket) -> crate::DomainResult<()> {
        self.tickets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((ticket, false));
        Ok(())
    }

    async fn redeem(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> crate::DomainResult<Option<crate::ports::TicketGrant>> {
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        Ok(tickets
            .iter_mut()
            .find(|(t, used)| t.hash == hash && !*used && now <= t.expires_at)
            .map(|(t, used)| {
                *used = true;
                crate::ports::TicketGrant {
                    job_id: t.job_id,
                    schema: t.schema.clone(),
                }
            }))
    }
}

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
            return Err(crate::DomainError::Conflict("prefix in use".into()));
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

#[cfg(test)]
mod registry {
    /// A scenario written but missing from [`service_scenarios!`]'s list would silently never
    /// run, in the domain's tests or the database adapter's: every `pub async fn …(s: Services)`
    /// of `scenarios.rs` must be listed there.
    #[test]
    fn every_service_scenario_is_registered() {
        let scenarios = include_str!("scenarios.rs");
        let this = include_str!("mod.rs");
        let start = this.find("@each $make; ").map(|i| i + "@each $make; ".len());
        let listed: Vec<&str> = start
            .and_then(|i| this[i..].find(");").map(|end| &this[i..i + end]))
            .map(|list| list.split(',').map(str::trim).collect())
            .unwrap_or_default();
        assert!(listed.len() > 10, "the list was found: {listed:?}");
        let defined: Vec<&str> = scenarios
            .lines()
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .filter_map(|rest| rest.strip_suffix("(s: Services) {"))
            .collect();
        assert!(defined.len() >= listed.len(), "{defined:?}");
        for name in defined {
            assert!(
                listed.contains(&name),
                "scenario `{name}` is not listed in service_scenarios!"
            );
        }
    }
}
