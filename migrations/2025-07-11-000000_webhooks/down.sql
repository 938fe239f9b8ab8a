DROP TABLE webhook_deliveries;
ALTER TABLE generation_jobs DROP COLUMN webhook_events_filter, DROP COLUMN webhook;
