-- Fair scheduling of generation jobs (docs/jobs.md, "Fair scheduling"): within a priority, users
-- are served round-robin. A job's `fair_round` is its user's turn: one past the user's latest
-- pending job at that priority, and never behind the queue's current head, so a user who queued
-- 1,000 jobs holds rounds 0..999 while a user arriving later takes the head's round.
ALTER TABLE generation_jobs ADD COLUMN fair_round bigint NOT NULL DEFAULT 0;

-- The claim order: priority, round, then FIFO.
DROP INDEX ix_generation_jobs_queue;
CREATE INDEX ix_generation_jobs_queue ON generation_jobs (priority DESC, fair_round, created_at, id)
    WHERE status = 'pending';

-- A user's latest round at a priority, read by every insert.
CREATE INDEX ix_generation_jobs_user_round ON generation_jobs (user_id, priority, fair_round DESC)
    WHERE status = 'pending';
