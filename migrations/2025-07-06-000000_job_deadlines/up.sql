-- Deadlines of generation jobs (docs/jobs.md, "Deadlines"): a job not started by
-- `start_deadline_at` is never claimed and ends `cancelled`; an attempt running longer than
-- `timeout_seconds` is stopped and the job ends `failed` without retry.
ALTER TABLE generation_jobs
    ADD COLUMN start_deadline_at timestamp,
    ADD COLUMN timeout_seconds integer CHECK (timeout_seconds > 0);

-- The sweep that cancels overdue pending jobs reads only pending jobs with a deadline.
CREATE INDEX generation_jobs_start_deadline ON generation_jobs (start_deadline_at)
    WHERE status = 'pending' AND start_deadline_at IS NOT NULL;
