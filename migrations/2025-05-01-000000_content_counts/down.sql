DROP TRIGGER content_counts_truncate ON content_items;
DROP TRIGGER content_counts_update ON content_items;
DROP TRIGGER content_counts_delete ON content_items;
DROP TRIGGER content_counts_insert ON content_items;
DROP FUNCTION content_counts_apply();
DROP TABLE content_counts;
