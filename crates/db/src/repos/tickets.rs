use async_trait::async_trait;
use chrono::TimeDelta;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use genonaut_domain::DomainResult;
use genonaut_domain::ids::JobId;
use genonaut_domain::model::Timestamp;
use genonaut_domain::ports::{NewTicket, TicketGrant, TicketStore};

use crate::PgPool;
use crate::error::db;
use crate::schema::ws_tickets;

/// Live-status tickets in PostgreSQL (table `ws_tickets`, hashes only).
#[derive(Clone)]
pub struct PgTickets {
    pool: PgPool,
}

impl PgTickets {
    /// Adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgTickets { pool }
    }
}

#[async_trait]
impl TicketStore for PgTickets {
    async fn create(&self, ticket: NewTicket) -> DomainResult<()> {
        let mut conn = self.pool.get().await?;
        // Tickets live a minute: forget those that expired over an hour ago (used or not).
        diesel::delete(
            ws_tickets::table.filter(ws_tickets::expires_at.lt(ticket.created_at - TimeDelta::hours(1))),
        )
        .execute(&mut conn)
        .await
        .map_err(db("forgetting expired tickets"))?;
        diesel::insert_into(ws_tickets::table)
            .values((
                ws_tickets::ticket_hash.eq(&ticket.hash),
                ws_tickets::job_id.eq(i32::try_from(ticket.job_id.0).unwrap_or(i32::MAX)),
                ws_tickets::schema_name.eq(&ticket.schema),
                ws_tickets::created_at.eq(ticket.created_at),
                ws_tickets::expires_at.eq(ticket.expires_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(db("creating ticket"))?;
        Ok(())
    }

    async fn redeem(&self, hash: &str, now: Timestamp) -> DomainResult<Option<TicketGrant>> {
        let mut conn = self.pool.get().await?;
        // One statement: of two concurrent redemptions, only one sees `used_at IS NULL`.
        let row: Option<(i32, String)> = diesel::update(
            ws_tickets::table
                .filter(ws_tickets::ticket_hash.eq(hash))
                .filter(ws_tickets::used_at.is_null())
                .filter(ws_tickets::expires_at.ge(now)),
        )
        .set(ws_tickets::used_at.eq(now))
        .returning((ws_tickets::job_id, ws_tickets::schema_name))
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(db("redeeming ticket"))?;
        Ok(row.map(|(job, schema)| TicketGrant {
            job_id: JobId(i64::from(job)),
            schema,
        }))
    }
}
