DROP TABLE trending_eras;
