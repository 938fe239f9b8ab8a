DROP INDEX ix_webhook_deliveries_due;
ALTER TABLE webhook_deliveries RESET (fillfactor);
ALTER TABLE webhook_deliveries DROP COLUMN claimed_until;
ALTER TABLE webhook_deliveries ADD CONSTRAINT uq_webhook_deliveries_webhook_id UNIQUE (webhook_id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey;
ALTER TABLE webhook_deliveries ADD CONSTRAINT uq_webhook_deliveries_job_seq UNIQUE (job_id, seq);
ALTER TABLE webhook_deliveries ADD COLUMN id BIGSERIAL PRIMARY KEY;
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
