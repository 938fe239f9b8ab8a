//! The in-memory fake of the live-status ticket store.

use std::sync::Mutex;

use crate::model::Timestamp;

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
