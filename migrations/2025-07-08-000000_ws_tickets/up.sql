-- Live-status tickets (POST /api/v1/ws-tickets): single-use, 60 s, scoped to one job of one
-- schema, for browsers' WebSocket/EventSource, which cannot send an Authorization header.
-- Only the SHA-256 of each ticket is stored. Kept, like api_keys, in the server's default
-- schema (so no foreign key: the job may live in another schema); every schema has the table
-- so any schema can be the default.
CREATE TABLE ws_tickets (
    ticket_hash VARCHAR(64) PRIMARY KEY,
    job_id      INTEGER     NOT NULL,
    schema_name VARCHAR(63) NOT NULL,
    created_at  TIMESTAMP   NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    expires_at  TIMESTAMP   NOT NULL,
    used_at     TIMESTAMP
);

CREATE INDEX ws_tickets_expires_at ON ws_tickets (expires_at);
