use async_trait::async_trait;

use crate::error::DomainResult;
use crate::ids::JobId;
use crate::model::Timestamp;

/// A ticket to store: only the hash of its secret, with what it grants and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// SHA-256 of the ticket (lowercase hex).
    pub hash: String,
    /// The job it may follow.
    pub job_id: JobId,
    /// The schema that job lives in.
    pub schema: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last moment it may be redeemed.
    pub expires_at: Timestamp,
}

/// What a redeemed ticket grants: following one job of one schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketGrant {
    /// The job.
    pub job_id: JobId,
    /// Its schema.
    pub schema: String,
}

/// Where live-status tickets are kept (hashes only).
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Stores a ticket; may forget tickets that expired long before `ticket.created_at`.
    async fn create(&self, ticket: NewTicket) -> DomainResult<()>;
    /// Redeems the ticket with `hash`: if it exists, is unused and `now <= expires_at`, marks
    /// it used and returns its grant — atomically, so two redemptions never both succeed.
    /// `None` otherwise.
    async fn redeem(&self, hash: &str, now: Timestamp) -> DomainResult<Option<TicketGrant>>;
}
