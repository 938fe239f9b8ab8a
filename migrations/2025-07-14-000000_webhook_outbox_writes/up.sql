-- The webhook outbox, reshaped for its write rate (docs/jobs.md, "Webhooks"; issue 19: a queue
-- with webhooks on runs at ≥ 80 % of its rate without). Every delivery is written three times —
-- inserted with its event, updated by its claim, updated when its attempt ends — and each write
-- maintained four indexes. Now:
--   * a delivery is keyed by its event, `(job_id, seq)`: the surrogate `id` (a sequence draw and
--     an index per insert) goes;
--   * `webhook_id` keeps no unique index: it is 122 random bits (gen_random_uuid), drawn once;
--   * a claim's hold is its own unindexed column, `claimed_until`, so the claim's update
--     changes no indexed column and is a HOT update (no index entries, the new row version on
--     the same page — the fillfactor leaves room for it).
-- What is left per delivery: two index entries at the insert, none at the claim, one when the
-- attempt ends (the row leaves the partial due index).
-- (Dropping `id` drops its primary key and the due index, which ended in `id`.)
ALTER TABLE webhook_deliveries DROP COLUMN id;
ALTER TABLE webhook_deliveries DROP CONSTRAINT uq_webhook_deliveries_job_seq;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (job_id, seq);
ALTER TABLE webhook_deliveries DROP CONSTRAINT uq_webhook_deliveries_webhook_id;
ALTER TABLE webhook_deliveries ADD COLUMN claimed_until TIMESTAMP;
ALTER TABLE webhook_deliveries SET (fillfactor = 50);

CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
