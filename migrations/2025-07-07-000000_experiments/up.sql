-- Online experiments: A/B tests of recommendation algorithms on live traffic. Variants are
-- immutable (a user's assignment is a hash of experiment id and user id over them), so they
-- are stored with the experiment as one JSON array: [{"name", "algorithm", "weight"}, ...].
CREATE TABLE experiments (
    id                      serial       PRIMARY KEY,
    name                    varchar(39)  NOT NULL,
    description             text,
    variants                jsonb        NOT NULL,
    engagement_window_hours integer      NOT NULL DEFAULT 24,
    created_at              timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    stopped_at              timestamp,
    CONSTRAINT experiments_variants_array CHECK (jsonb_typeof(variants) = 'array'),
    CONSTRAINT experiments_window_range CHECK (engagement_window_hours BETWEEN 1 AND 720)
);
CREATE UNIQUE INDEX ix_experiments_name ON experiments (name);

-- The recommendations served under an experiment (rec_metadata.experiment = {id, name,
-- variant}), read by the results aggregate. Text keys, so metadata written by clients can
-- never make an insert fail on a cast.
CREATE INDEX ix_recommendations_experiment ON recommendations
    ((rec_metadata -> 'experiment' ->> 'id'), (rec_metadata -> 'experiment' ->> 'variant'))
    WHERE rec_metadata ? 'experiment';
