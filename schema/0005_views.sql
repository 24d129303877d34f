-- Views for analysts: the stable, documented query surface (see SCHEMA.md), declared in one place.
--
-- Views list their columns explicitly so that a column added to a table later never changes a view
-- by surprise; changing a view means a new migration with CREATE OR REPLACE VIEW and SCHEMA.md.
--
-- Local dates and weeks: every timestamp is stored in UTC, but weeks are ISO weeks (Monday to
-- Sunday) in the practice's time zone. The views cannot read the settings file, so every writer
-- records the configured zone in `settings` when it opens the database (db.connect); the macros
-- below read it (UTC until a writer has recorded one). theme_flags stores its own week_start,
-- computed with the same zone at analysis time.

CREATE TABLE settings (
    key         VARCHAR PRIMARY KEY,   -- 'timezone'
    value       VARCHAR NOT NULL,      -- e.g. 'America/Chicago'
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE MACRO practice_timezone() AS
    COALESCE((SELECT value FROM settings WHERE key = 'timezone'), 'UTC');

-- Wall-clock TIMESTAMP of a UTC instant in the practice's time zone.
CREATE MACRO local_time(ts) AS timezone(practice_timezone(), ts);

-- Monday (DATE) of the ISO week holding the instant, in the practice's time zone.
CREATE MACRO local_week_start(ts) AS CAST(date_trunc('week', local_time(ts)) AS DATE);

-- ISO week label such as '2026-W46' of the instant, in the practice's time zone.
CREATE MACRO local_iso_week(ts) AS strftime(local_time(ts), '%G-W%V');

CREATE VIEW v_reviews AS
WITH themes AS (
    SELECT
        review_id,
        list_sort(list_distinct(list(theme) FILTER (WHERE polarity = 'complaint'))) AS complaint_themes,
        list_sort(list_distinct(list(theme) FILTER (WHERE polarity = 'praise'))) AS praise_themes
    FROM mentions
    GROUP BY review_id
)
SELECT
    r.review_id,
    r.source,
    r.source_review_id,
    r.location_id,
    r.author,
    r.rating,
    r.text,
    r.question,
    r.created_at,
    CAST(local_time(r.created_at) AS DATE) AS created_date,
    local_week_start(r.created_at) AS week_start,
    local_iso_week(r.created_at) AS iso_week,
    r.updated_at,
    r.reply_text,
    r.reply_at,
    CAST(epoch(r.reply_at) - epoch(r.created_at) AS DOUBLE) / 3600.0 AS reply_hours,
    r.first_seen_at,
    r.last_seen_at,
    s.score AS sentiment_score,
    s.label AS sentiment_label,
    s.vader_compound,
    s.is_mixed,
    s.is_safety,
    s.is_non_informative,
    COALESCE(t.complaint_themes, CAST([] AS VARCHAR[])) AS complaint_themes,
    COALESCE(t.praise_themes, CAST([] AS VARCHAR[])) AS praise_themes,
    s.analyzer_version,
    COALESCE(s.content_hash = r.content_hash, false) AS analysis_current
FROM reviews AS r
LEFT JOIN review_sentiment AS s USING (review_id)
LEFT JOIN themes AS t USING (review_id)
WHERE r.removed_at IS NULL;

CREATE VIEW v_mentions AS
SELECT
    m.review_id,
    r.location_id,
    r.source,
    r.created_at,
    CAST(local_time(r.created_at) AS DATE) AS created_date,
    local_week_start(r.created_at) AS week_start,
    local_iso_week(r.created_at) AS iso_week,
    r.rating,
    m.theme,
    m.polarity,
    m.score,
    m.sentence_index,
    m.char_start,
    m.char_end,
    -- offsets are 0-based and end-exclusive; substring() is 1-based, both count characters.
    substring(r.text, m.char_start + 1, m.char_end - m.char_start) AS evidence,
    m.rule,
    m.analyzer_version
FROM mentions AS m
JOIN reviews AS r USING (review_id)
WHERE r.removed_at IS NULL;

CREATE VIEW v_weekly_themes AS
SELECT
    f.location_id,
    f.week_start,
    f.iso_week,
    f.theme,
    f.complaints,
    f.praise,
    f.baseline,
    f.p_value,
    f.status,
    f.status IS NOT NULL AS is_flagged
FROM theme_flags AS f;

CREATE VIEW v_staff_mentions AS
SELECT
    m.review_id,
    r.location_id,
    r.source,
    r.created_at,
    CAST(local_time(r.created_at) AS DATE) AS created_date,
    local_week_start(r.created_at) AS week_start,
    local_iso_week(r.created_at) AS iso_week,
    r.rating,
    m.staff_name,
    m.role,
    m.matched_text,
    m.polarity,
    m.score,
    m.sentence_index,
    m.char_start,
    m.char_end,
    -- the whole sentence naming the person; the matched name alone when sentences are missing.
    COALESCE(
        substring(r.text, s.char_start + 1, s.char_end - s.char_start),
        m.matched_text
    ) AS evidence,
    m.analyzer_version
FROM staff_mentions AS m
JOIN reviews AS r USING (review_id)
LEFT JOIN review_sentences AS s ON s.review_id = m.review_id AND s.sentence_index = m.sentence_index
WHERE r.removed_at IS NULL;

-- A review needs a reply when it complains (a complaint theme, a negative label, or 1-2 stars)
-- and the practice has not answered it (no reply text or time): the weekly report's definition.
CREATE VIEW v_needs_reply AS
SELECT
    review_id,
    source,
    location_id,
    author,
    rating,
    text,
    created_at,
    created_date,
    week_start,
    iso_week,
    sentiment_score,
    sentiment_label,
    is_safety,
    complaint_themes,
    date_diff('day', created_at, now()) AS waiting_days
FROM v_reviews
WHERE reply_text IS NULL AND reply_at IS NULL
  AND (len(complaint_themes) > 0 OR sentiment_label = 'negative' OR rating <= 2);

CREATE VIEW v_imports AS
SELECT
    import_id,
    source,
    source_type,
    location_id,
    origin,
    sha256,
    size_bytes,
    started_at,
    finished_at,
    CAST(epoch(finished_at) - epoch(started_at) AS DOUBLE) AS duration_seconds,
    CAST(local_time(started_at) AS DATE) AS started_date,
    local_week_start(started_at) AS week_start,
    local_iso_week(started_at) AS iso_week,
    status,
    rows_seen,
    rows_new,
    rows_updated,
    rows_removed,
    error
FROM imports;
