DROP TRIGGER content_gallery_truncate ON content_items;
DROP TRIGGER content_gallery_update ON content_items;
DROP TRIGGER content_gallery_delete ON content_items;
DROP TRIGGER content_gallery_insert ON content_items;
DROP FUNCTION content_gallery_apply();
DROP TABLE content_creator_counts;
DROP TABLE content_tag_counts;
DROP TABLE content_tags;
