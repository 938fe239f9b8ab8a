-- generation_jobs becomes a work queue, and every job gets an ordered event log.
--
-- Workers claim pending jobs with FOR UPDATE SKIP LOCKED (highest priority first, FIFO within a
-- priority, not before run_after), increment `attempts` — the fencing token every later worker
-- write is guarded by — and hold a lease (`lease_expires_at`) they renew while running. A reaper
-- returns expired leases to pending (or failed after max_attempts).
--
-- Every state or progress change appends to job_events with the job's next `event_seq`, in the
-- same transaction, and NOTIFYs genonaut_job_events; WebSocket clients resume with ?since=<seq>.

ALTER TABLE generation_jobs
    ADD COLUMN priority         integer          NOT NULL DEFAULT 0,
    ADD COLUMN attempts         integer          NOT NULL DEFAULT 0,
    ADD COLUMN max_attempts     integer          NOT NULL DEFAULT 3,
    ADD COLUMN run_after        timestamp        NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    ADD COLUMN lease_expires_at timestamp,
    ADD COLUMN worker_id        varchar(100),
    ADD COLUMN progress         double precision NOT NULL DEFAULT 0,
    ADD COLUMN event_seq        bigint           NOT NULL DEFAULT 0,
    ADD CONSTRAINT generation_jobs_progress_range CHECK (progress >= 0 AND progress <= 1),
    ADD CONSTRAINT generation_jobs_attempts_valid CHECK (attempts >= 0 AND max_attempts >= 1),
    ADD CONSTRAINT generation_jobs_priority_range CHECK (priority BETWEEN -1000 AND 1000);

-- The claim order, over pending jobs only.
CREATE INDEX ix_generation_jobs_queue ON generation_jobs (priority DESC, created_at, id) WHERE status = 'pending';
-- The reaper's scan for expired leases.
CREATE INDEX ix_generation_jobs_lease ON generation_jobs (lease_expires_at) WHERE status = 'running';

CREATE TABLE job_events (
    job_id     integer     NOT NULL REFERENCES generation_jobs (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL,
    event_type varchar(20) NOT NULL,
    data       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    PRIMARY KEY (job_id, seq),
    CONSTRAINT job_events_type_valid CHECK (
        event_type IN ('queued', 'started', 'progress', 'retrying', 'completed', 'failed', 'cancelled'))
);
CREATE INDEX ix_job_events_created_at ON job_events (created_at);

-- Jobs that exist before this migration have had no events: give each its `queued` (or final)
-- event so every job's log starts at seq 1.
INSERT INTO job_events (job_id, seq, event_type, data, created_at)
SELECT id, 1,
       CASE status WHEN 'pending' THEN 'queued' WHEN 'running' THEN 'started' ELSE status END,
       '{}'::jsonb, updated_at
FROM generation_jobs;
UPDATE generation_jobs SET event_seq = 1;
