-- Exact interaction counts without counting the table on every read (docs/performance.md).
--
-- `interaction_counts` holds, per type, the number of interactions with id <= the mark's
-- `upto`; a total is that plus a count of the rows above `upto` (an index range on the
-- primary key: the interactions since the last checkpoint). Inserts pay nothing for this.
-- `interaction_counts_checkpoint()`, called every few seconds by the server, moves `upto`
-- forward once no transaction that could still add a row at or below it is running; deletes,
-- truncation and the (forbidden) change of a row's type or id keep the counts exact.
-- Interaction ids must come from the column's sequence (never set explicitly below `upto`).
CREATE TABLE interaction_counts (
    interaction_type VARCHAR(50) PRIMARY KEY,
    n                BIGINT      NOT NULL
);

CREATE TABLE interaction_count_mark (
    singleton    BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    -- Every interaction with id <= upto is counted in interaction_counts.
    upto         BIGINT  NOT NULL,
    -- The highest committed id when the last checkpoint ran, and the transactions (virtual
    -- ids) that held a lock on user_interactions then: any of them may still commit a row at or
    -- below `candidate`, so `upto` moves to `candidate` only once all of them have ended.
    candidate    BIGINT,
    holders      TEXT[]
);

INSERT INTO interaction_count_mark (upto) VALUES (0);

-- Returns the new `upto`. Moves it by at most `batch` ids per call, so that no call on a large
-- table of uncounted rows (a bulk load) outlasts the statement timeout. Runs in the schema it
-- was created in (the migration's search_path).
CREATE FUNCTION interaction_counts_checkpoint(batch BIGINT DEFAULT 2000000) RETURNS BIGINT
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    mark   interaction_count_mark;
    target BIGINT;
BEGIN
    -- Serialises checkpoints with each other and with deletes (which lock the mark FOR SHARE).
    SELECT * INTO mark FROM interaction_count_mark FOR UPDATE;
    -- A transaction holds locks (at least on its own virtual id) until it ends; a prepared
    -- transaction keeps its table lock under the virtual id `-1/<xid>` until it is resolved.
    IF mark.candidate > mark.upto AND NOT EXISTS (
        SELECT 1 FROM pg_locks WHERE virtualtransaction = ANY (mark.holders))
    THEN
        target := least(mark.candidate, mark.upto + greatest(batch, 1));
        INSERT INTO interaction_counts AS c (interaction_type, n)
        SELECT interaction_type, count(*) FROM user_interactions
        WHERE id > mark.upto AND id <= target
        GROUP BY 1 ORDER BY 1
        ON CONFLICT (interaction_type) DO UPDATE SET n = c.n + excluded.n;
        mark.upto := target;
    END IF;
    -- One statement, so the holders are read after the snapshot that found the highest id: a
    -- transaction with an uncommitted lower id still holds its lock on the table then.
    UPDATE interaction_count_mark SET
        upto = mark.upto,
        candidate = (SELECT coalesce(max(id), 0) FROM user_interactions),
        holders = ARRAY(
            SELECT DISTINCT l.virtualtransaction FROM pg_locks l
            WHERE l.locktype = 'relation' AND l.pid IS DISTINCT FROM pg_backend_pid()
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.relation = 'user_interactions'::regclass);
    RETURN mark.upto;
END
$$;

-- The exact number of interactions of type `kind` (of every type when null), and the same per
-- type. STABLE: every statement sees the snapshot of the calling query, so the mark, the
-- counters and the rows above the mark are read consistently. The mark goes into the tail's
-- SQL as a constant: the planner then sees how few rows lie above it (as a parameter it
-- estimated a third of the table and chose parallel scans of a type index).
CREATE FUNCTION interaction_count(kind TEXT) RETURNS BIGINT LANGUAGE plpgsql STABLE
SET search_path FROM CURRENT AS $$
DECLARE
    upto    BIGINT;
    counted BIGINT;
    tail    BIGINT;
BEGIN
    SELECT m.upto INTO upto FROM interaction_count_mark m;
    SELECT coalesce(sum(n), 0) INTO counted FROM interaction_counts
    WHERE kind IS NULL OR interaction_type = kind;
    EXECUTE format('SELECT count(*) FROM user_interactions WHERE id > %s '
                   'AND ($1::text IS NULL OR interaction_type = $1)', coalesce(upto, 0))
        INTO tail USING kind;
    RETURN counted + tail;
END
$$;

CREATE FUNCTION interaction_count_by_type() RETURNS TABLE (interaction_type TEXT, n BIGINT)
LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
DECLARE
    upto BIGINT;
BEGIN
    SELECT m.upto INTO upto FROM interaction_count_mark m;
    RETURN QUERY EXECUTE format(
        'SELECT t::text, sum(k)::int8 FROM ('
        '  SELECT c.interaction_type AS t, c.n AS k FROM interaction_counts c'
        '  UNION ALL'
        '  SELECT i.interaction_type, count(*) FROM user_interactions i WHERE i.id > %s GROUP BY 1'
        ') x GROUP BY 1', coalesce(upto, 0));
END
$$;

-- Deleted rows at or below the mark leave the counts; the rest were never counted. The
-- functions address the tables of the trigger's own schema, whatever the search_path.
CREATE FUNCTION interaction_counts_forget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    upto BIGINT;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('UPDATE %I.interaction_count_mark SET upto = 0, candidate = NULL, holders = NULL',
                       TG_TABLE_SCHEMA);
        EXECUTE format('DELETE FROM %I.interaction_counts', TG_TABLE_SCHEMA);
        RETURN NULL;
    END IF;
    -- FOR SHARE waits for a running checkpoint and then reads the mark it left.
    EXECUTE format('SELECT upto FROM %I.interaction_count_mark FOR SHARE', TG_TABLE_SCHEMA) INTO upto;
    EXECUTE format(
        'INSERT INTO %I.interaction_counts AS c (interaction_type, n) '
        'SELECT interaction_type, -count(*) FROM old_rows WHERE id <= $1 GROUP BY 1 ORDER BY 1 '
        'ON CONFLICT (interaction_type) DO UPDATE SET n = c.n + excluded.n',
        TG_TABLE_SCHEMA) USING upto;
    RETURN NULL;
END
$$;

CREATE FUNCTION interaction_counts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the type and id of an interaction cannot change'
        USING ERRCODE = 'check_violation';
END
$$;

CREATE TRIGGER interaction_counts_delete AFTER DELETE ON user_interactions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION interaction_counts_forget();
CREATE TRIGGER interaction_counts_truncate AFTER TRUNCATE ON user_interactions
    FOR EACH STATEMENT EXECUTE FUNCTION interaction_counts_forget();
CREATE TRIGGER interaction_counts_immutable BEFORE UPDATE OF interaction_type, id ON user_interactions
    FOR EACH ROW WHEN (OLD.interaction_type IS DISTINCT FROM NEW.interaction_type OR OLD.id <> NEW.id)
    EXECUTE FUNCTION interaction_counts_immutable();
