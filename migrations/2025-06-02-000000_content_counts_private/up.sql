-- The content counters also tell private items apart, so the content statistics and the global
-- statistics read at most twelve counter rows instead of scanning the items (docs/performance.md).
-- No content writes while the counters are rebuilt.
LOCK TABLE content_items IN SHARE MODE;

ALTER TABLE content_counts ADD COLUMN private BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE content_counts ALTER COLUMN private DROP DEFAULT;
ALTER TABLE content_counts DROP CONSTRAINT content_counts_pkey;
DELETE FROM content_counts;
ALTER TABLE content_counts ADD PRIMARY KEY (content_type, listed, private);
INSERT INTO content_counts (content_type, listed, private, n)
SELECT content_type, is_public AND NOT is_private, is_private, count(*)
FROM content_items
GROUP BY 1, 2, 3;

CREATE OR REPLACE FUNCTION content_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta TEXT;
    cols  CONSTANT TEXT := 'content_type, is_public AND NOT is_private AS listed, is_private AS private';
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('DELETE FROM %I.content_counts', TG_TABLE_SCHEMA);
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        delta := format('SELECT %s, 1 AS d FROM new_rows', cols);
    ELSIF TG_OP = 'DELETE' THEN
        delta := format('SELECT %s, -1 AS d FROM old_rows', cols);
    ELSE
        delta := format('SELECT %s, -1 AS d FROM old_rows UNION ALL SELECT %s, 1 FROM new_rows', cols, cols);
    END IF;
    -- Rows in key order, so concurrent statements lock the counters in the same order.
    EXECUTE format(
        'INSERT INTO %I.content_counts AS c (content_type, listed, private, n) '
        'SELECT content_type, listed, private, sum(d) FROM (%s) x GROUP BY 1, 2, 3 '
        'HAVING sum(d) <> 0 ORDER BY 1, 2, 3 '
        'ON CONFLICT (content_type, listed, private) DO UPDATE SET n = c.n + excluded.n',
        TG_TABLE_SCHEMA, delta);
    RETURN NULL;
END
$$;
