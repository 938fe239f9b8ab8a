-- The learned collaborative model (EASE), fitted by every build of the recommender's derived
-- state and replaced whole: per modelled item, its largest learned weights to other items
-- (B[item][j]), as parallel arrays, best first. Derived state: can be dropped and rebuilt.
CREATE TABLE item_model (
    item_id       integer   PRIMARY KEY REFERENCES content_items (id) ON DELETE CASCADE,
    ease_ids      integer[] NOT NULL DEFAULT '{}',
    ease_weights  real[]    NOT NULL DEFAULT '{}',
    CONSTRAINT item_model_aligned CHECK (cardinality(ease_ids) = cardinality(ease_weights))
);

-- How the current model was fitted: on how many items, with which regularisation.
ALTER TABLE recommender_state
    ADD COLUMN model_items  bigint           NOT NULL DEFAULT 0,
    ADD COLUMN model_lambda double precision NOT NULL DEFAULT 0;
