-- Imports, reviews and their versions, and the whole-review sentiment.
-- All timestamps are TIMESTAMPTZ (UTC instants); weeks are computed in the practice's time zone.

CREATE SEQUENCE imports_id_seq START 1;

CREATE TABLE imports (
    import_id     BIGINT PRIMARY KEY DEFAULT nextval('imports_id_seq'),
    source        VARCHAR NOT NULL,      -- configured source name
    source_type   VARCHAR NOT NULL,      -- google, csv, widget, ...
    location_id   VARCHAR,               -- configured location, when the source has one
    origin        VARCHAR NOT NULL,      -- file path or URL
    sha256        VARCHAR,
    size_bytes    BIGINT,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL CHECK (status IN ('ok', 'failed', 'skipped_duplicate', 'not_modified')),
    rows_seen     INTEGER NOT NULL DEFAULT 0,
    rows_new      INTEGER NOT NULL DEFAULT 0,
    rows_updated  INTEGER NOT NULL DEFAULT 0,
    rows_removed  INTEGER NOT NULL DEFAULT 0,
    error         VARCHAR
);

CREATE TABLE reviews (
    review_id         VARCHAR PRIMARY KEY,   -- source || ':' || source_review_id
    source            VARCHAR NOT NULL,      -- platform: google, or the configured source name
    source_review_id  VARCHAR NOT NULL,      -- the platform's id, or a stable derived id
    location_id       VARCHAR NOT NULL,
    author            VARCHAR,
    rating            TINYINT CHECK (rating BETWEEN 1 AND 5),
    text              VARCHAR,
    question          VARCHAR,               -- survey question the text answers
    created_at        TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ,
    reply_text        VARCHAR,
    reply_at          TIMESTAMPTZ,
    content_hash      VARCHAR NOT NULL,      -- hash of author, rating, text, reply
    first_seen_at     TIMESTAMPTZ NOT NULL,
    last_seen_at      TIMESTAMPTZ NOT NULL,
    removed_at        TIMESTAMPTZ,           -- set when a later complete export no longer holds it
    first_import_id   BIGINT NOT NULL,
    last_import_id    BIGINT NOT NULL,
    raw               JSON                   -- the record as parsed, for re-parsing without re-fetching
);

CREATE TABLE review_versions (
    review_id     VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    rating        TINYINT,
    text          VARCHAR,
    reply_text    VARCHAR,
    updated_at    TIMESTAMPTZ,
    seen_at       TIMESTAMPTZ NOT NULL,
    import_id     BIGINT NOT NULL,
    PRIMARY KEY (review_id, content_hash)
);

CREATE TABLE review_sentiment (
    review_id         VARCHAR PRIMARY KEY,
    content_hash      VARCHAR NOT NULL,    -- the review version that was scored
    vader_compound    DOUBLE,              -- exactly vaderSentiment's compound for the whole text
    score             DOUBLE,              -- ReviewPulse's domain-adjusted score, -1..1
    label             VARCHAR,             -- negative, neutral, positive, mixed
    is_mixed          BOOLEAN,             -- praise and complaint in one review
    is_safety         BOOLEAN,             -- states an urgent clinical or safety concern
    is_non_informative BOOLEAN,            -- "N/A", "nothing", "no complaints"
    analyzer_version  VARCHAR NOT NULL,
    analyzed_at       TIMESTAMPTZ NOT NULL
);
