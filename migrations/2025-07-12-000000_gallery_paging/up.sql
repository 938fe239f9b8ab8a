-- Gallery paging at a million items (docs/decisions.md, "Gallery paging"; docs/performance.md).
--
-- 1. `content_tags`: one row per (item, string tag) with the item's listing key, so the newest items
--    carrying a tag are an index range — (tag, created_at DESC, content_id DESC) — instead of
--    every match of the GIN index sorted (the common tag of the benchmark: 200,000 items,
--    235 ms a page). Type and visibility are copied in, so "images tagged x" filters in the
--    index.
-- 2. Exact totals without count(*): per (tag, type, listed) and per (creator, type, listed)
--    counters, next to `content_counts` (type, listed, private). A listing filtered by one tag
--    or one creator (with or without type and public_only) reads its total from a few rows.
--
-- All three are kept by one statement-level trigger, in the transaction of the write (exact: a
-- rolled-back write never counted). No content writes while they are built.
LOCK TABLE content_items IN SHARE MODE;

CREATE TABLE content_tags (
    content_id   INTEGER     NOT NULL,
    tag          TEXT        NOT NULL,
    created_at   TIMESTAMP   NOT NULL,
    content_type VARCHAR(50) NOT NULL,
    listed       BOOLEAN     NOT NULL,
    PRIMARY KEY (content_id, tag)
);
CREATE INDEX ix_content_tags_listing ON content_tags (tag, created_at DESC, content_id DESC)
    INCLUDE (content_type, listed);

CREATE TABLE content_tag_counts (
    tag          TEXT        NOT NULL,
    content_type VARCHAR(50) NOT NULL,
    listed       BOOLEAN     NOT NULL,
    n            BIGINT      NOT NULL,
    PRIMARY KEY (tag, content_type, listed)
);

CREATE TABLE content_creator_counts (
    creator_id   INTEGER     NOT NULL,
    content_type VARCHAR(50) NOT NULL,
    listed       BOOLEAN     NOT NULL,
    n            BIGINT      NOT NULL,
    PRIMARY KEY (creator_id, content_type, listed)
);

INSERT INTO content_tags (content_id, tag, created_at, content_type, listed)
SELECT DISTINCT c.id, t.v #>> '{}', c.created_at, c.content_type, c.is_public AND NOT c.is_private
FROM content_items c, jsonb_array_elements(c.tags) AS t(v)
WHERE jsonb_typeof(t.v) = 'string';

INSERT INTO content_tag_counts (tag, content_type, listed, n)
SELECT tag, content_type, listed, count(*) FROM content_tags GROUP BY 1, 2, 3;

INSERT INTO content_creator_counts (creator_id, content_type, listed, n)
SELECT creator_id, content_type, is_public AND NOT is_private, count(*) FROM content_items GROUP BY 1, 2, 3;

-- The function addresses the tables of the trigger's own schema, whatever the search_path.
CREATE FUNCTION content_gallery_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- What the gallery tables copy from an item: a change elsewhere (quality, title, …) leaves
    -- them alone.
    shown CONSTANT TEXT := '(%1$s.tags, %1$s.created_at, %1$s.content_type, %1$s.creator_id, '
                           '%1$s.is_public AND NOT %1$s.is_private)';
    gone  TEXT;  -- the items whose old gallery rows go (a relation of old rows)
    came  TEXT;  -- the items whose new gallery rows come (a relation of new rows)
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('DELETE FROM %1$I.content_tags; DELETE FROM %1$I.content_tag_counts; '
                       'DELETE FROM %1$I.content_creator_counts', TG_TABLE_SCHEMA);
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        gone := '(SELECT * FROM new_rows WHERE false)';
        came := 'new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        gone := 'old_rows';
        came := '(SELECT * FROM old_rows WHERE false)';
    ELSE
        gone := format('(SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE %s IS DISTINCT FROM %s)',
                       format(shown, 'o'), format(shown, 'n'));
        came := format('(SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE %s IS DISTINCT FROM %s)',
                       format(shown, 'o'), format(shown, 'n'));
    END IF;

    EXECUTE format(
        'DELETE FROM %I.content_tags t USING %s g WHERE t.content_id = g.id', TG_TABLE_SCHEMA, gone);
    EXECUTE format(
        'INSERT INTO %I.content_tags (content_id, tag, created_at, content_type, listed) '
        'SELECT DISTINCT c.id, e.v #>> ''{}'', c.created_at, c.content_type, c.is_public AND NOT c.is_private '
        'FROM %s c, jsonb_array_elements(c.tags) AS e(v) WHERE jsonb_typeof(e.v) = ''string'' ORDER BY 1, 2',
        TG_TABLE_SCHEMA, came);

    -- Counter deltas, rows in key order so concurrent statements lock them in the same order.
    EXECUTE format(
        'INSERT INTO %1$I.content_tag_counts AS c (tag, content_type, listed, n) '
        'SELECT tag, content_type, listed, sum(d) FROM ('
        '  SELECT DISTINCT g.id, e.v #>> ''{}'' AS tag, g.content_type, g.is_public AND NOT g.is_private AS listed, '
        '         -1 AS d '
        '  FROM %2$s g, jsonb_array_elements(g.tags) AS e(v) WHERE jsonb_typeof(e.v) = ''string'' '
        '  UNION ALL '
        '  SELECT DISTINCT c.id, e.v #>> ''{}'', c.content_type, c.is_public AND NOT c.is_private, 1 '
        '  FROM %3$s c, jsonb_array_elements(c.tags) AS e(v) WHERE jsonb_typeof(e.v) = ''string'') x '
        'GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3 '
        'ON CONFLICT (tag, content_type, listed) DO UPDATE SET n = c.n + excluded.n',
        TG_TABLE_SCHEMA, gone, came);
    EXECUTE format(
        'INSERT INTO %1$I.content_creator_counts AS c (creator_id, content_type, listed, n) '
        'SELECT creator_id, content_type, listed, sum(d) FROM ('
        '  SELECT creator_id, content_type, is_public AND NOT is_private AS listed, -1 AS d FROM %2$s g '
        '  UNION ALL '
        '  SELECT creator_id, content_type, is_public AND NOT is_private, 1 FROM %3$s c) x '
        'GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3 '
        'ON CONFLICT (creator_id, content_type, listed) DO UPDATE SET n = c.n + excluded.n',
        TG_TABLE_SCHEMA, gone, came);
    RETURN NULL;
END
$$;

CREATE TRIGGER content_gallery_insert AFTER INSERT ON content_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION content_gallery_apply();
CREATE TRIGGER content_gallery_delete AFTER DELETE ON content_items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION content_gallery_apply();
CREATE TRIGGER content_gallery_update AFTER UPDATE ON content_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION content_gallery_apply();
CREATE TRIGGER content_gallery_truncate AFTER TRUNCATE ON content_items
    FOR EACH STATEMENT EXECUTE FUNCTION content_gallery_apply();

ANALYZE content_tags;
