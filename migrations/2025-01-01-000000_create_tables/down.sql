-- Reverts up.sql. The pg_trgm extension is shared by every schema of the database and is
-- left installed.
DROP TABLE generation_jobs;
DROP TABLE recommendations;
DROP TABLE user_interactions;
DROP TABLE content_items;
DROP TABLE users;
DROP FUNCTION touch_updated_at();
