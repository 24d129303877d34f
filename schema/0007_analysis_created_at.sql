-- The review's created_at in its analysis rows, so that a query over a few weeks reads only the
-- row groups of those weeks (DuckDB skips row groups by their min/max) instead of joining every
-- analysis row on review_id. The analysis writes its rows in created_at order and re-analyses a
-- review whose created_at changed, so the copy always equals reviews.created_at.
--
-- Existing rows get their review's time and are rewritten in that order, so the weekly report of an
-- existing database is bounded by its weeks from the first open on.

ALTER TABLE review_sentiment ADD COLUMN created_at TIMESTAMPTZ;
ALTER TABLE mentions ADD COLUMN created_at TIMESTAMPTZ;
ALTER TABLE staff_mentions ADD COLUMN created_at TIMESTAMPTZ;

CREATE TEMP TABLE reordered_sentiment AS
SELECT s.* REPLACE (r.created_at AS created_at)
FROM review_sentiment s LEFT JOIN reviews r USING (review_id)
ORDER BY r.created_at, s.review_id;
DELETE FROM review_sentiment;
INSERT INTO review_sentiment SELECT * FROM reordered_sentiment;
DROP TABLE reordered_sentiment;

CREATE TEMP TABLE reordered_mentions AS
SELECT m.* REPLACE (r.created_at AS created_at)
FROM mentions m LEFT JOIN reviews r USING (review_id)
ORDER BY r.created_at, m.review_id, m.sentence_index, m.char_start;
DELETE FROM mentions;
INSERT INTO mentions SELECT * FROM reordered_mentions;
DROP TABLE reordered_mentions;

CREATE TEMP TABLE reordered_staff AS
SELECT m.* REPLACE (r.created_at AS created_at)
FROM staff_mentions m LEFT JOIN reviews r USING (review_id)
ORDER BY r.created_at, m.review_id, m.sentence_index, m.char_start;
DELETE FROM staff_mentions;
INSERT INTO staff_mentions SELECT * FROM reordered_staff;
DROP TABLE reordered_staff;
