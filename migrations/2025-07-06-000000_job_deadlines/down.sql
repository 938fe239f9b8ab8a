DROP INDEX IF EXISTS generation_jobs_start_deadline;
ALTER TABLE generation_jobs DROP COLUMN IF EXISTS timeout_seconds, DROP COLUMN IF EXISTS start_deadline_at;
