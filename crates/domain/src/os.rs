//! The two ports that read the operating system, for the binary (feature `os`): the wall clock
//! and the OS random source. Everything else in the domain is pure.

use chrono::{SubsecRound, Utc};

use crate::model::Timestamp;
use crate::ports::{Clock, Entropy, EntropyUnavailable};

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now().naive_utc().trunc_subsecs(6)
    }
}

/// The operating system's cryptographically secure random source (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) -> Result<(), EntropyUnavailable> {
        getrandom::fill(buf).map_err(|e| EntropyUnavailable(e.to_string()))
    }
}
