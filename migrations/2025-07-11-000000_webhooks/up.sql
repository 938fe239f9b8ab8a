-- Signed webhooks of generation jobs (docs/jobs.md, "Webhooks"). A job may name a `webhook` URL
-- and the event kinds it wants (`webhook_events_filter`); NULL webhook = none (the common case).
ALTER TABLE generation_jobs
    ADD COLUMN webhook TEXT,
    ADD COLUMN webhook_events_filter TEXT[];

-- The outbox: one row per event to deliver, inserted by the statement that records the event
-- (crates/db/src/repos/emit.rs), delivered in `seq` order per job by the runner. A row is
-- claimed by pushing `next_attempt_at` past the attempt (`FOR UPDATE SKIP LOCKED`), so
-- several processes deliver without sending one row twice at once.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL    PRIMARY KEY,
    job_id          INTEGER      NOT NULL REFERENCES generation_jobs (id) ON DELETE CASCADE,
    seq             BIGINT       NOT NULL,
    event_type      VARCHAR(20)  NOT NULL,
    webhook_id      VARCHAR(64)  NOT NULL,
    status          VARCHAR(20)  NOT NULL DEFAULT 'pending',
    attempts        INTEGER      NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    next_attempt_at TIMESTAMP    NOT NULL,
    delivered_at    TIMESTAMP,
    created_at      TIMESTAMP    NOT NULL,
    CONSTRAINT uq_webhook_deliveries_job_seq UNIQUE (job_id, seq),
    CONSTRAINT uq_webhook_deliveries_webhook_id UNIQUE (webhook_id),
    CONSTRAINT ck_webhook_deliveries_status CHECK (status IN ('pending', 'delivered', 'failed'))
);

-- What is due, for the claim.
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
