use crate::model::Timestamp;

/// Source of the current time, so tests can control it.
pub trait Clock: Send + Sync {
    /// The current UTC time, truncated to microseconds (the storage precision).
    fn now(&self) -> Timestamp;
}
