-- Popularity per era of the data (docs/recommender.md, "Popularity"): each row holds the most
-- popular items of the era starting at `starts_at` (until the next row's start), blended with
-- all-time popularity, best first. Rebuilt by every recommender build; read at request time
-- for the era containing the user's newest interaction (one row by primary key).
CREATE TABLE popularity_eras (
    starts_at   timestamp          PRIMARY KEY,
    item_ids    integer[]          NOT NULL DEFAULT '{}',
    scores      double precision[] NOT NULL DEFAULT '{}',
    updated_at  timestamp          NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT popularity_eras_aligned CHECK (cardinality(item_ids) = cardinality(scores))
);

-- item_stats.popularity now holds all-time popularity (it held popularity forward-decayed with
-- a 14-day half-life): ask for a full build, so no incremental build mixes the two.
UPDATE recommender_state
SET requested_at = (now() AT TIME ZONE 'utc'), requested_full = true
WHERE built_at IS NOT NULL;
