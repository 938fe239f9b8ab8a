DROP INDEX ix_recommendations_rejected;
DROP TABLE recommender_state;
DROP TABLE tag_stats;
DROP TABLE item_stats;
