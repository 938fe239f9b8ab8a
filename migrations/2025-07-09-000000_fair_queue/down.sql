DROP INDEX ix_generation_jobs_user_round;
DROP INDEX ix_generation_jobs_queue;
CREATE INDEX ix_generation_jobs_queue ON generation_jobs (priority DESC, created_at, id) WHERE status = 'pending';
ALTER TABLE generation_jobs DROP COLUMN fair_round;
