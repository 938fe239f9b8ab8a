DROP INDEX IF EXISTS ix_recommendations_experiment;
DROP TABLE IF EXISTS experiments;
