DROP TABLE popularity_eras;
