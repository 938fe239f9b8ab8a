-- Derived state of the recommender, rebuilt by the maintenance job (the job runner, or
-- `genonaut recs rebuild`) from user_interactions and content_items. Everything here can be
-- dropped and rebuilt; nothing else depends on it.

-- Per item: forward-decayed popularity (relative to recommender_state.epoch) and the most
-- similar items (item-kNN), as parallel arrays, best first.
CREATE TABLE item_stats (
    item_id         integer          PRIMARY KEY REFERENCES content_items (id) ON DELETE CASCADE,
    popularity      double precision NOT NULL DEFAULT 0,
    interactions    integer          NOT NULL DEFAULT 0,
    users           integer          NOT NULL DEFAULT 0,
    neighbor_ids    integer[]        NOT NULL DEFAULT '{}',
    neighbor_scores real[]           NOT NULL DEFAULT '{}',
    updated_at      timestamp        NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT item_stats_neighbors_aligned
        CHECK (cardinality(neighbor_ids) = cardinality(neighbor_scores))
);
CREATE INDEX ix_item_stats_popularity ON item_stats (popularity DESC, item_id);

-- Per tag: how many listed items carry it (IDF) and its most popular listed items.
CREATE TABLE tag_stats (
    tag         text             PRIMARY KEY,
    items       integer          NOT NULL,
    top_ids     integer[]        NOT NULL DEFAULT '{}',
    top_scores  double precision[] NOT NULL DEFAULT '{}',
    updated_at  timestamp        NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT tag_stats_top_aligned CHECK (cardinality(top_ids) = cardinality(top_scores))
);

-- The one row describing the last build, the pending request and the build lock.
CREATE TABLE recommender_state (
    id              smallint    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    built_at        timestamp,
    epoch           timestamp,
    watermark       bigint      NOT NULL DEFAULT 0,
    items           bigint      NOT NULL DEFAULT 0,
    users           bigint      NOT NULL DEFAULT 0,
    signals         bigint      NOT NULL DEFAULT 0,
    pairs           bigint      NOT NULL DEFAULT 0,
    full_build      boolean     NOT NULL DEFAULT false,
    millis          bigint      NOT NULL DEFAULT 0,
    requested_at    timestamp,
    requested_full  boolean     NOT NULL DEFAULT false,
    locked_by       text,
    locked_at       timestamp,
    locked_until    timestamp,
    last_error      text,
    updated_at      timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
INSERT INTO recommender_state (id) VALUES (1);

-- Items a user rejected (negative feedback), read on every generation.
CREATE INDEX ix_recommendations_rejected ON recommendations (user_id, content_item_id)
    WHERE rec_metadata -> 'feedback' ->> 'type' IN ('disliked', 'dismissed');
