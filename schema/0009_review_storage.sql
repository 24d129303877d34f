-- How reviews and their versions are stored; their columns and types are unchanged.
--
-- The texts, replies and raw records are compressed with zstd. DuckDB chose FSST or a dictionary for
-- them: at a million reviews, zstd stores them in about a quarter of the space, and writing them (each
-- import's checkpoint) takes about half the time.
--
-- review_versions loses its primary key, as review_sentences did in 0008: its index (one ART entry per
-- version) lives in memory and cannot be spilled, and maintaining it was two thirds of the cost of
-- writing a version (2.6 s of an import of a million reviews). The import adds a version only when no
-- row has its (review_id, content_hash), under the one-writer lock, so the pair stays unique without it.

CREATE TABLE reviews_zstd (
    review_id         VARCHAR PRIMARY KEY,
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
INSERT INTO reviews_zstd SELECT * FROM reviews;
DROP TABLE reviews;
ALTER TABLE reviews_zstd RENAME TO reviews;

CREATE TABLE review_versions_zstd (
    review_id     VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    rating        TINYINT,
    text          VARCHAR USING COMPRESSION zstd,
    reply_text    VARCHAR USING COMPRESSION zstd,
    updated_at    TIMESTAMPTZ,
    seen_at       TIMESTAMPTZ NOT NULL,
    import_id     BIGINT NOT NULL
);
INSERT INTO review_versions_zstd SELECT * FROM review_versions;
DROP TABLE review_versions;
ALTER TABLE review_versions_zstd RENAME TO review_versions;
