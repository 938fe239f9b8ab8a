LOCK TABLE content_items IN SHARE MODE;

CREATE OR REPLACE FUNCTION content_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
    EXECUTE format(
        'INSERT INTO %I.content_counts AS c (content_type, listed, n) '
        'SELECT content_type, listed, sum(d) FROM (%s) x GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2 '
        'ON CONFLICT (content_type, listed) DO UPDATE SET n = c.n + excluded.n',
        TG_TABLE_SCHEMA, delta);
    RETURN NULL;
END
$$;

ALTER TABLE content_counts DROP CONSTRAINT content_counts_pkey;
DELETE FROM content_counts;
ALTER TABLE content_counts DROP COLUMN private;
ALTER TABLE content_counts ADD PRIMARY KEY (content_type, listed);
INSERT INTO content_counts (content_type, listed, n)
SELECT content_type, is_public AND NOT is_private, count(*)
FROM content_items
GROUP BY 1, 2;
