-- Sentence embeddings of content items (docs/recommender.md, "Semantic content"): one row per
-- item, removed with it. `vector` holds 384 numbers (all-MiniLM-L6-v2 class, unit length);
-- `pending` marks an item created, or whose text changed, after its vector was computed — the
-- triggers below mark it whoever writes the item, so every process (and `genonaut recs embed`)
-- finds the work with one index scan. A row whose `vector` is NULL was never embedded.
CREATE TABLE content_embeddings (
    content_id INTEGER PRIMARY KEY REFERENCES content_items (id) ON DELETE CASCADE,
    model TEXT,
    vector REAL[],
    pending BOOLEAN NOT NULL DEFAULT true,
    updated_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT content_embeddings_vector_dims CHECK (vector IS NULL OR cardinality(vector) = 384)
);
CREATE INDEX content_embeddings_pending ON content_embeddings (content_id) WHERE pending;
-- Processes keep their in-memory index current by reading the rows written since they last looked.
CREATE INDEX content_embeddings_updated ON content_embeddings (updated_at, content_id) WHERE vector IS NOT NULL;

CREATE FUNCTION content_embeddings_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format(
            'INSERT INTO %I.content_embeddings (content_id) SELECT id FROM new_rows ORDER BY id '
            'ON CONFLICT (content_id) DO UPDATE SET pending = true',
            TG_TABLE_SCHEMA);
    ELSE
        -- Only a change of the embedded text (title, content, prompt, description, tags).
        EXECUTE format(
            'INSERT INTO %I.content_embeddings (content_id) '
            'SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id '
            'WHERE (n.title, n.content_data, n.tags, n.item_metadata->''prompt'', n.item_metadata->''description'') '
            '  IS DISTINCT FROM (o.title, o.content_data, o.tags, o.item_metadata->''prompt'', o.item_metadata->''description'') '
            'ORDER BY n.id '
            'ON CONFLICT (content_id) DO UPDATE SET pending = true',
            TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER content_embeddings_on_insert AFTER INSERT ON content_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION content_embeddings_mark();
CREATE TRIGGER content_embeddings_on_update AFTER UPDATE ON content_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION content_embeddings_mark();
