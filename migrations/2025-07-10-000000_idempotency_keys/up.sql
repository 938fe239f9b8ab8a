-- Idempotent submission (Idempotency-Key on POST /api/v1/generation-jobs): one row per key and
-- scope (the API key, or one anonymous scope when authentication is off), kept 24 h. The row
-- is inserted first in the creating transaction, so a concurrent retry with the same key waits
-- on the primary key and then replays the stored response. No foreign key: the job may be
-- deleted later; the snapshot is what is replayed.
CREATE TABLE idempotency_keys (
    scope          VARCHAR(64)  NOT NULL,
    key            VARCHAR(255) NOT NULL,
    fingerprint    VARCHAR(64)  NOT NULL,
    job_id         INTEGER,
    response       JSONB,
    queue_position BIGINT,
    created_at     TIMESTAMP    NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
