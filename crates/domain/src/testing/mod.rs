//! In-memory adapters of every port, for fast tests (feature `test-util`).
//!
//! [`InMemoryStore`] keeps all five aggregates in one mutex-protected state so that operations
//! spanning aggregates (content deletion cascading to interactions, user activity counters)
//! behave as the PostgreSQL adapters do. Orderings, filters and totals follow the port
//! documentation; the adapters' own tests run against both.

mod keys;
pub mod scenarios;
mod store;
mod tickets;

pub use keys::InMemoryKeys;
pub use store::InMemoryStore;
pub use tickets::InMemoryTickets;

use std::sync::Mutex;

use chrono::{Duration, NaiveDate};

use crate::model::Timestamp;
use crate::ports::{Clock, Entropy, EntropyUnavailable};

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

/// A deterministic random source (SplitMix64 from a seed): the same seed gives the same
/// secrets, tickets and jitter in every run. Not for production.
#[derive(Debug, Default)]
pub struct SeqEntropy {
    state: Mutex<u64>,
}

impl SeqEntropy {
    /// A source starting from `seed`.
    pub fn seeded(seed: u64) -> Self {
        SeqEntropy {
            state: Mutex::new(seed),
        }
    }
}

impl Entropy for SeqEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyUnavailable> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in buf.chunks_mut(8) {
            *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A random source that has none (as when the OS cannot give randomness).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEntropy;

impl Entropy for NoEntropy {
    fn fill(&self, _buf: &mut [u8]) -> Result<(), EntropyUnavailable> {
        Err(EntropyUnavailable("no random source in this test".to_owned()))
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
        $crate::service_scenarios!(@each $make; user_uniqueness_is_checked_username_first, update_checks_existence_then_username_then_email_and_only_bumps_on_change, preferences_merge_shallowly_and_keep_unmentioned_keys, soft_delete_and_activity_rules, content_creation_checks_creator_title_then_data, content_update_refuses_public_and_private_taking_stored_flags, content_deletion_cascades_and_detaches_jobs, content_search_ands_every_filter, keyset_paging_walks_the_same_listing_as_skip_under_every_filter, interaction_rules_and_aggregates, bulk_recommendations_name_the_first_bad_item_and_write_nothing, a_users_recommendations_are_listed_best_first_only_for_an_active_user, served_marks_all_or_reports_the_first_missing, generate_persists_new_recommendations_and_skips_seen_and_own_items, feedback_records_the_signal_and_positive_interaction_together, job_lifecycle_rules, job_stats_average_processing_time, recommendations_learn_from_interactions_and_explain_themselves, the_learned_model_ranks_co_consumed_items_and_folds_in_new_likes, negative_feedback_removes_and_demotes, builds_run_when_requested_or_stale_and_incrementally, experiments_are_unique_stop_idempotently_and_route_generation, experiment_results_count_users_served_engaged_and_rejected);
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
