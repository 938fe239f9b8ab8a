-- Trending eras (docs/recommender.md, "The learned model"): like popularity_eras, but era
-- popularity alone with a quarter of its half-life — what was rising around a time. The
-- learned model's scores are weighted by the era of the user's newest interaction. Rebuilt by
-- every recommender build; read at request time (one row by primary key).
CREATE TABLE trending_eras (
    starts_at   timestamp          PRIMARY KEY,
    item_ids    integer[]          NOT NULL DEFAULT '{}',
    scores      double precision[] NOT NULL DEFAULT '{}',
    updated_at  timestamp          NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT trending_eras_aligned CHECK (cardinality(item_ids) = cardinality(scores))
);

-- The learned model is now fitted with time-weighted co-occurrence: ask for a full build, so
-- the new table is filled and no incremental build mixes the two.
UPDATE recommender_state
SET requested_at = (now() AT TIME ZONE 'utc'), requested_full = true
WHERE built_at IS NOT NULL;
