ALTER TABLE recommender_state DROP COLUMN model_lambda, DROP COLUMN model_items;
DROP TABLE item_model;
