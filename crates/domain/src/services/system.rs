use std::sync::Arc;

use crate::error::DomainResult;
use crate::ports::{GlobalStats, StoreInfo, SystemRepository};

/// Health and store-wide counters.
#[derive(Clone)]
pub struct SystemService {
    system: Arc<dyn SystemRepository>,
}

impl SystemService {
    /// A service over `system`.
    pub fn new(system: Arc<dyn SystemRepository>) -> Self {
        SystemService { system }
    }

    /// Succeeds if the store answers.
    pub async fn ping(&self) -> DomainResult<()> {
        self.system.ping().await
    }

    /// Exact store-wide counters.
    pub async fn global_stats(&self) -> DomainResult<GlobalStats> {
        self.system.global_stats().await
    }

    /// Migration version and approximate sizes.
    pub async fn info(&self) -> DomainResult<StoreInfo> {
        self.system.info().await
    }
}
