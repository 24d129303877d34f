-- review_sentiment loses its primary key, as review_sentences (0008), review_versions (0009) and
-- reviews (0010) did. Its index (one ART entry per analysed review) lives in memory, and every
-- analysis paid to keep it: a rescore of 100,000 reviews spent 3.8 s committing it, after the
-- workers had finished, and its main process used 10.4 s of CPU instead of 7.0 s beside them. Nothing
-- looks a row up through it (the pending check, the reports and the views join on review_id by
-- hashing). The analysis deletes a review's row and inserts its new one in one transaction, under
-- the one-writer lock, so review_id stays unique without it (tests/test_analysis_pipeline.py).
--
-- The table has no CHECK or compression of its own, so CREATE TABLE AS keeps its columns and types;
-- the NOT NULLs are set again. Rows stay in created_at order (0007).

CREATE TABLE review_sentiment_unindexed AS
SELECT * FROM review_sentiment ORDER BY created_at, review_id;
DROP TABLE review_sentiment;
ALTER TABLE review_sentiment_unindexed RENAME TO review_sentiment;
ALTER TABLE review_sentiment ALTER COLUMN review_id SET NOT NULL;
ALTER TABLE review_sentiment ALTER COLUMN content_hash SET NOT NULL;
ALTER TABLE review_sentiment ALTER COLUMN analyzer_version SET NOT NULL;
ALTER TABLE review_sentiment ALTER COLUMN analyzed_at SET NOT NULL;
