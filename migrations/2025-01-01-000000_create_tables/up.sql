-- Genonaut baseline: the five tables of the API contract (§2), created in the schema that
-- heads `search_path` (one PostgreSQL schema per served data set: app, demo, test, …).
--
-- Differences from the reference schema, all recommended by the contract:
--   * JSON and score columns are NOT NULL with defaults, so reads never meet NULL;
--   * CHECK constraints make invalid states impossible (enums, both public and private, …);
--   * timestamps default to the current UTC time, and `updated_at` is maintained by a trigger
--     for writes that do not set it themselves (bulk loads, manual SQL);
--   * the GIN (jsonb_path_ops) indexes live here, not in an init tool, and every ordering the
--     API uses is backed by a btree index.

-- Trigram matching for case-insensitive substring search on titles. The extension lives in
-- `public`, which every connection has on its search_path after its own schema.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at AND NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := (now() AT TIME ZONE 'utc');
    END IF;
    RETURN NEW;
END
$$;

-- users -------------------------------------------------------------------------------------
CREATE TABLE users (
    id          serial       PRIMARY KEY,
    username    varchar(50)  NOT NULL,
    email       varchar(255) NOT NULL,
    created_at  timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at  timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    preferences jsonb        NOT NULL DEFAULT '{}'::jsonb,
    is_active   boolean      NOT NULL DEFAULT true,
    CONSTRAINT users_preferences_is_object CHECK (jsonb_typeof(preferences) = 'object')
);
CREATE UNIQUE INDEX ix_users_username ON users (username);
CREATE UNIQUE INDEX ix_users_email ON users (email);
CREATE INDEX ix_users_preferences_gin ON users USING gin (preferences jsonb_path_ops);
CREATE INDEX ix_users_active ON users (id) WHERE is_active;
CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- content_items -----------------------------------------------------------------------------
CREATE TABLE content_items (
    id            serial           PRIMARY KEY,
    title         varchar(255)     NOT NULL,
    content_type  varchar(50)      NOT NULL,
    content_data  text             NOT NULL,
    item_metadata jsonb            NOT NULL DEFAULT '{}'::jsonb,
    creator_id    integer          NOT NULL REFERENCES users (id),
    created_at    timestamp        NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    tags          jsonb            NOT NULL DEFAULT '[]'::jsonb,
    quality_score double precision NOT NULL DEFAULT 0.0,
    is_public     boolean          NOT NULL DEFAULT true,
    is_private    boolean          NOT NULL DEFAULT false,
    updated_at    timestamp        NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT content_items_content_type_valid CHECK (content_type IN ('text', 'image', 'video', 'audio')),
    CONSTRAINT content_items_not_public_and_private CHECK (NOT (is_public AND is_private)),
    CONSTRAINT content_items_quality_score_range CHECK (quality_score >= 0 AND quality_score <= 1),
    CONSTRAINT content_items_tags_is_array CHECK (jsonb_typeof(tags) = 'array'),
    CONSTRAINT content_items_metadata_is_object CHECK (jsonb_typeof(item_metadata) = 'object')
);
CREATE INDEX ix_content_items_created_at ON content_items (created_at DESC, id DESC);
CREATE INDEX ix_content_items_content_type ON content_items (content_type, created_at DESC, id DESC);
CREATE INDEX ix_content_items_creator_id ON content_items (creator_id, created_at DESC, id DESC);
CREATE INDEX ix_content_items_public ON content_items (created_at DESC, id DESC)
    WHERE is_public AND NOT is_private;
CREATE INDEX ix_content_items_quality_score ON content_items (quality_score DESC, id) WHERE quality_score > 0;
CREATE INDEX ci_title_fts_idx ON content_items USING gin (to_tsvector('english', coalesce(title, '')));
CREATE INDEX ix_content_items_title_trgm ON content_items USING gin (title public.gin_trgm_ops);
CREATE INDEX ix_content_items_metadata_gin ON content_items USING gin (item_metadata jsonb_path_ops);
CREATE INDEX ix_content_items_tags_gin ON content_items USING gin (tags jsonb_path_ops);
CREATE TRIGGER content_items_touch_updated_at BEFORE UPDATE ON content_items
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- user_interactions -------------------------------------------------------------------------
CREATE TABLE user_interactions (
    id                   serial      PRIMARY KEY,
    user_id              integer     NOT NULL REFERENCES users (id),
    content_item_id      integer     NOT NULL REFERENCES content_items (id),
    interaction_type     varchar(50) NOT NULL,
    rating               integer,
    duration             integer,
    created_at           timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    interaction_metadata jsonb       NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT unique_user_content_interaction UNIQUE (user_id, content_item_id, interaction_type, created_at),
    CONSTRAINT user_interactions_type_valid CHECK (
        interaction_type IN ('view', 'like', 'share', 'download', 'bookmark', 'comment', 'rate')),
    CONSTRAINT user_interactions_rating_range CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT user_interactions_duration_range CHECK (duration >= 0),
    CONSTRAINT user_interactions_metadata_is_object CHECK (jsonb_typeof(interaction_metadata) = 'object')
);
CREATE INDEX ix_user_interactions_user_id ON user_interactions (user_id, created_at DESC, id DESC);
CREATE INDEX ix_user_interactions_content_item_id ON user_interactions (content_item_id, created_at DESC, id DESC);
CREATE INDEX ix_user_interactions_interaction_type ON user_interactions (interaction_type, created_at DESC, id DESC);
CREATE INDEX ix_user_interactions_created_at ON user_interactions (created_at DESC, id DESC);
CREATE INDEX ix_user_interactions_metadata_gin ON user_interactions USING gin (interaction_metadata jsonb_path_ops);

-- recommendations ---------------------------------------------------------------------------
CREATE TABLE recommendations (
    id                   serial           PRIMARY KEY,
    user_id              integer          NOT NULL REFERENCES users (id),
    content_item_id      integer          NOT NULL REFERENCES content_items (id),
    recommendation_score double precision NOT NULL,
    algorithm_version    varchar(50)      NOT NULL,
    created_at           timestamp        NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    is_served            boolean          NOT NULL DEFAULT false,
    rec_metadata         jsonb            NOT NULL DEFAULT '{}'::jsonb,
    served_at            timestamp,
    CONSTRAINT recommendations_score_range CHECK (recommendation_score >= 0 AND recommendation_score <= 1),
    CONSTRAINT recommendations_metadata_is_object CHECK (jsonb_typeof(rec_metadata) = 'object')
);
CREATE INDEX ix_recommendations_user_id ON recommendations (user_id, recommendation_score DESC, id);
CREATE INDEX ix_recommendations_user_unserved ON recommendations (user_id, recommendation_score DESC, id)
    WHERE NOT is_served AND served_at IS NULL;
CREATE INDEX ix_recommendations_content_item_id ON recommendations (content_item_id, recommendation_score DESC, id);
CREATE INDEX ix_recommendations_algorithm_version ON recommendations (algorithm_version, created_at DESC, id DESC);
CREATE INDEX ix_recommendations_score ON recommendations (recommendation_score DESC, id);
CREATE INDEX ix_recommendations_metadata_gin ON recommendations USING gin (rec_metadata jsonb_path_ops);

-- generation_jobs ---------------------------------------------------------------------------
CREATE TABLE generation_jobs (
    id                serial      PRIMARY KEY,
    user_id           integer     NOT NULL REFERENCES users (id),
    job_type          varchar(50) NOT NULL,
    prompt            text        NOT NULL,
    parameters        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status            varchar(20) NOT NULL DEFAULT 'pending',
    result_content_id integer     REFERENCES content_items (id),
    created_at        timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    started_at        timestamp,
    completed_at      timestamp,
    error_message     text,
    updated_at        timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    CONSTRAINT generation_jobs_job_type_valid CHECK (
        job_type IN ('text_generation', 'image_generation', 'video_generation', 'audio_generation')),
    CONSTRAINT generation_jobs_status_valid CHECK (
        status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    CONSTRAINT generation_jobs_parameters_is_object CHECK (jsonb_typeof(parameters) = 'object')
);
CREATE INDEX ix_generation_jobs_user_id ON generation_jobs (user_id, created_at DESC, id DESC);
CREATE INDEX ix_generation_jobs_status ON generation_jobs (status, created_at, id);
CREATE INDEX ix_generation_jobs_job_type ON generation_jobs (job_type, created_at DESC, id DESC);
CREATE INDEX ix_generation_jobs_created_at ON generation_jobs (created_at DESC, id DESC);
CREATE INDEX ix_generation_jobs_running ON generation_jobs (started_at, id) WHERE status = 'running';
CREATE INDEX ix_generation_jobs_completed ON generation_jobs (completed_at DESC, id DESC) WHERE status = 'completed';
CREATE INDEX ix_generation_jobs_result_content_id ON generation_jobs (result_content_id)
    WHERE result_content_id IS NOT NULL;
CREATE INDEX gj_prompt_fts_idx ON generation_jobs USING gin (to_tsvector('english', coalesce(prompt, '')));
CREATE INDEX ix_generation_jobs_parameters_gin ON generation_jobs USING gin (parameters jsonb_path_ops);
CREATE TRIGGER generation_jobs_touch_updated_at BEFORE UPDATE ON generation_jobs
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
