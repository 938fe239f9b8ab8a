-- Exact counts of content items per (content_type, listed), kept by statement-level triggers,
-- so the total of a content listing filtered at most by type and visibility reads at most eight
-- rows instead of counting the table (which grows with it). See docs/performance.md.
CREATE TABLE content_counts (
    content_type VARCHAR(50) NOT NULL,
    listed       BOOLEAN     NOT NULL,
    n            BIGINT      NOT NULL,
    PRIMARY KEY (content_type, listed)
);

INSERT INTO content_counts (content_type, listed, n)
SELECT content_type, is_public AND NOT is_private, count(*)
FROM content_items
GROUP BY 1, 2;

-- The functions address the table of the trigger's own schema, whatever the search_path.
CREATE FUNCTION content_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta TEXT;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('DELETE FROM %I.content_counts', TG_TABLE_SCHEMA);
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        delta := 'SELECT content_type, is_public AND NOT is_private AS listed, 1 AS d FROM new_rows';
    ELSIF TG_OP = 'DELETE' THEN
        delta := 'SELECT content_type, is_public AND NOT is_private AS listed, -1 AS d FROM old_rows';
    ELSE
        delta := 'SELECT content_type, is_public AND NOT is_private AS listed, -1 AS d FROM old_rows '
              || 'UNION ALL SELECT content_type, is_public AND NOT is_private, 1 FROM new_rows';
    END IF;
    -- Rows in key order, so concurrent statements lock the counters in the same order.
    EXECUTE format(
        'INSERT INTO %I.content_counts AS c (content_type, listed, n) '
        'SELECT content_type, listed, sum(d) FROM (%s) x GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2 '
        'ON CONFLICT (content_type, listed) DO UPDATE SET n = c.n + excluded.n',
        TG_TABLE_SCHEMA, delta);
    RETURN NULL;
END
$$;

CREATE TRIGGER content_counts_insert AFTER INSERT ON content_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION content_counts_apply();
CREATE TRIGGER content_counts_delete AFTER DELETE ON content_items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION content_counts_apply();
CREATE TRIGGER content_counts_update AFTER UPDATE ON content_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION content_counts_apply();
CREATE TRIGGER content_counts_truncate AFTER TRUNCATE ON content_items
    FOR EACH STATEMENT EXECUTE FUNCTION content_counts_apply();
