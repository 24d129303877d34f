-- Collectors: HTTP validators per fetched URL, the totals sources state about themselves, and the
-- archived raw body of each import.

-- ETag / Last-Modified of the last successfully imported response, per source and URL, sent back as
-- If-None-Match / If-Modified-Since so unchanged content is neither downloaded nor re-imported.
CREATE TABLE http_cache (
    source         VARCHAR NOT NULL,      -- configured source name
    url            VARCHAR NOT NULL,
    etag           VARCHAR,
    last_modified  VARCHAR,               -- the header value exactly as the server sent it
    sha256         VARCHAR,               -- of the body those validators belong to
    import_id      BIGINT,                -- the import that read that body
    checked_at     TIMESTAMPTZ NOT NULL,  -- last request, including 304 answers
    PRIMARY KEY (source, url)
);

-- What a source says about its own size: a widget's "Based on 905 reviews" and average rating, the
-- API's totalReviewCount and averageRating. Compared with what is stored, this shows how complete
-- the collection is (a widget shows only the latest few reviews of many).
CREATE SEQUENCE source_summaries_id_seq START 1;

CREATE TABLE source_summaries (
    summary_id      BIGINT PRIMARY KEY DEFAULT nextval('source_summaries_id_seq'),
    source          VARCHAR NOT NULL,     -- configured source name
    location_id     VARCHAR,
    kind            VARCHAR NOT NULL,     -- trustindex, google_reviews_widget, schema.org, gbp_api
    subject         VARCHAR,              -- the business the summary is about, as the source names it
    review_count    INTEGER,              -- total reviews the source says exist
    average_rating  DOUBLE,
    reviews_listed  INTEGER,              -- reviews this delivery actually contained
    stored_count    INTEGER,              -- reviews of this source and location stored after the import
    observed_at     TIMESTAMPTZ NOT NULL,
    import_id       BIGINT,
    origin          VARCHAR               -- file path or URL
);

-- Where the raw bytes of an import are kept (under the data folder's archive/), so a parser fix can
-- re-read history without re-fetching.
ALTER TABLE imports ADD COLUMN archive_path VARCHAR;
