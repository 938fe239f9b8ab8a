//! Live-status tickets: short-lived, single-use credentials scoped to one job and schema, for
//! clients that cannot send an `Authorization` header (a browser's `WebSocket` and
//! `EventSource`). A client with a key asks for one (`POST /api/v1/ws-tickets`) and puts it in
//! the socket URL (`?ticket=`). Tickets read `gwt_<64 hex>` (256 random bits); only their
//! SHA-256 is stored.

use std::sync::Arc;

use chrono::TimeDelta;

use crate::error::{DomainError, DomainResult};
use crate::ids::JobId;
use crate::model::Timestamp;
use crate::ports::{Clock, Entropy, NewTicket, TicketGrant, TicketStore};

const MARK: &str = "gwt_";
const BYTES: usize = 32;
/// How long a ticket may be redeemed after it was issued.
pub const TICKET_TTL_SECS: i64 = 60;

/// A ticket just issued: the secret (shown once) and its expiry.
#[derive(Debug, Clone)]
pub struct IssuedTicket {
    /// The ticket.
    pub ticket: String,
    /// Last moment it can be redeemed.
    pub expires_at: Timestamp,
}

/// Issues and redeems tickets.
#[derive(Clone)]
pub struct TicketService {
    store: Arc<dyn TicketStore>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
}

impl TicketService {
    /// A service over `store`, drawing tickets from `entropy`.
    pub fn new(store: Arc<dyn TicketStore>, clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>) -> Self {
        TicketService {
            store,
            clock,
            entropy,
        }
    }

    /// Issues a ticket for following `job` of `schema` (the caller checked the job exists).
    pub async fn issue(&self, job: JobId, schema: &str) -> DomainResult<IssuedTicket> {
        let mut bytes = [0u8; BYTES];
        self.entropy
            .fill(&mut bytes)
            .map_err(|e| DomainError::Unavailable(e.to_string()))?;
        let ticket = format!(
            "{MARK}{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let now = self.clock.now();
        let expires_at = now + TimeDelta::seconds(TICKET_TTL_SECS);
        self.store
            .create(NewTicket {
                hash: crate::services::hash_key(&ticket),
                job_id: job,
                schema: schema.to_owned(),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(IssuedTicket { ticket, expires_at })
    }

    /// Redeems a presented ticket: its grant if it is well-formed, known, unused and not
    /// expired (it is used up by this call); `None` otherwise.
    pub async fn redeem(&self, presented: &str) -> DomainResult<Option<TicketGrant>> {
        let presented = presented.trim();
        let well_formed = presented
            .strip_prefix(MARK)
            .is_some_and(|hex| hex.len() == BYTES * 2 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            return Ok(None);
        }
        self.store
            .redeem(&crate::services::hash_key(presented), self.clock.now())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FixedClock, InMemoryTickets, SeqEntropy};

    #[tokio::test]
    async fn a_ticket_is_redeemed_once_before_it_expires() {
        let clock = Arc::new(FixedClock::default());
        let start = clock.now();
        let tickets = TicketService::new(
            Arc::new(InMemoryTickets::default()),
            clock.clone(),
            Arc::new(SeqEntropy::seeded(7)),
        );
        let issued = tickets.issue(JobId(7), "app").await.unwrap();
        assert!(issued.ticket.starts_with("gwt_") && issued.ticket.len() == 4 + 64);
        let ttl = issued.expires_at - start;
        assert!(
            ttl >= TimeDelta::seconds(60) && ttl <= TimeDelta::seconds(61),
            "{ttl}"
        );
        let grant = tickets.redeem(&issued.ticket).await.unwrap().unwrap();
        assert_eq!(
            grant,
            TicketGrant {
                job_id: JobId(7),
                schema: "app".into()
            }
        );
        assert_eq!(tickets.redeem(&issued.ticket).await.unwrap(), None, "single use");

        let late = tickets.issue(JobId(7), "app").await.unwrap();
        clock.advance(TimeDelta::seconds(60));
        assert_eq!(tickets.redeem(&late.ticket).await.unwrap(), None, "expired");
        assert_eq!(tickets.redeem("gwt_nothex").await.unwrap(), None);
        assert_eq!(tickets.redeem("").await.unwrap(), None);
    }
}
