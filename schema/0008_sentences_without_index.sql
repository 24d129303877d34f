-- review_sentences without its primary key. Its index (one ART entry per sentence, some six per
-- review) lives in memory and cannot be spilled: at a million reviews it took about 200 MB of the
-- jobs' DuckDB memory limit, and an analysis of all history ran out of memory. The analysis stage
-- replaces a review's sentences in one transaction (delete, then insert), so (review_id,
-- sentence_index) stays unique without it.

CREATE TABLE review_sentences_unindexed AS
SELECT * FROM review_sentences ORDER BY review_id, sentence_index;
DROP TABLE review_sentences;
ALTER TABLE review_sentences_unindexed RENAME TO review_sentences;
ALTER TABLE review_sentences ALTER COLUMN review_id SET NOT NULL;
ALTER TABLE review_sentences ALTER COLUMN sentence_index SET NOT NULL;
ALTER TABLE review_sentences ALTER COLUMN char_start SET NOT NULL;
ALTER TABLE review_sentences ALTER COLUMN char_end SET NOT NULL;
ALTER TABLE review_sentences ALTER COLUMN analyzer_version SET NOT NULL;
