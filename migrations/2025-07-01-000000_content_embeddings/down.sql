DROP TRIGGER content_embeddings_on_update ON content_items;
DROP TRIGGER content_embeddings_on_insert ON content_items;
DROP FUNCTION content_embeddings_mark();
DROP TABLE content_embeddings;
