use crate::model::Timestamp;
use chrono::{SubsecRound, Utc};

/// Source of the current time, so tests can control it.
pub trait Clock: Send + Sync {
    /// The current UTC time, truncated to microseconds (the storage precision).
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now().naive_utc().trunc_subsecs(6)
    }
}
