-- reviews loses its primary key, as review_versions did in 0009: its index (one ART entry per review)
-- lives in memory and cannot be spilled, and maintaining it was 40 % of the cost of writing the
-- reviews of an import (1.3 s of 3.2 s for 300,000 reviews). Nothing looks a review up through it:
-- the merge, the analysis and the reports join on review_id by hashing. The import inserts a review
-- only when no row has its review_id (ingest/store.py, deduplicating the delivery first), under the
-- one-writer lock, so the natural key stays unique without it (tests/test_ingest_fast.py,
-- tests/test_import.py).
--
-- DuckDB cannot drop a key, and a table made by CREATE TABLE AS loses its NOT NULL, CHECK and
-- compression, so the columns of 0009 are written again, without PRIMARY KEY.

CREATE TABLE reviews_unindexed (
    review_id         VARCHAR NOT NULL,      -- source || ':' || source_review_id
    source            VARCHAR NOT NULL,
    source_review_id  VARCHAR NOT NULL,
    location_id       VARCHAR NOT NULL,
    author            VARCHAR,
    rating            TINYINT CHECK (rating BETWEEN 1 AND 5),
    text              VARCHAR USING COMPRESSION zstd,
    question          VARCHAR,
    created_at        TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ,
    reply_text        VARCHAR USING COMPRESSION zstd,
    reply_at          TIMESTAMPTZ,
    content_hash      VARCHAR NOT NULL,
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    removed_at        TIMESTAMPTZ,
    first_import_id   BIGINT NOT NULL,
    last_import_id    BIGINT NOT NULL,
    raw               JSON USING COMPRESSION zstd
);
INSERT INTO reviews_unindexed SELECT * FROM reviews;
DROP TABLE reviews;
ALTER TABLE reviews_unindexed RENAME TO reviews;
