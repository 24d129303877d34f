"""The SQL behind every figure of the weekly report (docs/report.md shows analysts the same queries).

All queries share one scope: the reviews of one location (`$location`, NULL for the whole practice)
created in the 12 weeks `[$since, $until)`, not removed, with `week_start` the Monday of their week
in the practice's time zone (`$zone`).

A page reads that scope from `reviews` once: SCOPE_TABLE copies the scope's rows (without their
text), joined with their sentiment, into a temporary table of the page's connection (`$scope`), and
every other query reads it through SCOPE. `reviews` is stored in import order (one export after
another, each spanning years), so DuckDB cannot skip its other weeks: scanning it and joining it
with the sentiment for each of the page's queries cost more than the queries themselves. The author
and text of the reviews a page shows are read once, by id (REVIEW_TEXTS).

The analysis rows carry their review's `created_at` and are stored in that order, so the queries
read them through the same time range (`scoped_sentiment`, `scoped_mentions`, `scoped_staff`):
DuckDB then skips the row groups of other weeks, and a page costs what its weeks hold, not what the
whole history holds. Joined on review_id with the scoped reviews, they give the same rows as the
whole tables. The queries about one week return what the page shows (counts, the first quotes, the
listed reviews), not every row of a busy week.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]{1,64}$")


_SCOPE_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SCOPE_REFERENCE = re.compile(r"\$scope\b")


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """Run `sql` with those of `params` it names (DuckDB rejects unused named parameters).

    `$zone` is written into the SQL as a literal: DuckDB looks a bound time zone up again for every
    row, which made each report query several times slower. It is a validated IANA name. `$scope`,
    the name of the page's scope table, is written in as an identifier (DuckDB binds values, not
    names); it is validated too.
    """
    if "$zone" in sql:
        zone = params["zone"]
        if not _ZONE_NAME.match(zone):
            raise ValueError(f"not a time zone name: {zone!r}")
        sql = sql.replace("$zone", f"'{zone}'")
    if _SCOPE_REFERENCE.search(sql):
        table = params["scope"]
        if not _SCOPE_TABLE_NAME.match(table):
            raise ValueError(f"not a scope table name: {table!r}")
        sql = _SCOPE_REFERENCE.sub(f"temp.main.{table}", sql)
    names = set(_PARAMETER.findall(sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in names} or None)


# The page's scope, read from `reviews` once (`$scope` is a temporary table of the page's
# connection). Text, author and reply text stay in `reviews`: only the shown reviews need them.
SCOPE_TABLE = """
CREATE TEMPORARY TABLE $scope AS
WITH scoped_sentiment AS (
    SELECT * FROM review_sentiment WHERE created_at >= $since AND created_at < $until
)
SELECT r.review_id, r.source, r.location_id, r.rating, r.created_at, r.reply_at,
       date_trunc('week', timezone($zone, r.created_at))::DATE AS week_start,
       coalesce(r.rating <= 2, s.label = 'negative') AS negative,
       (r.reply_text IS NOT NULL OR r.reply_at IS NOT NULL) AS replied,
       s.score, s.label, coalesce(s.is_safety, false) AS is_safety,
       s.review_id IS NOT NULL AS analysed
FROM reviews r LEFT JOIN scoped_sentiment s USING (review_id)
WHERE r.removed_at IS NULL
  AND ($location::VARCHAR IS NULL OR r.location_id = $location::VARCHAR)
  AND r.created_at >= $since AND r.created_at < $until
"""

DROP_SCOPE_TABLE = "DROP TABLE IF EXISTS $scope"

# Queries narrow `[$since, $until)` to a part of the 12 weeks (this week, the quotes' times) to
# read fewer analysis rows; `scoped` then holds the scope's reviews of that part.
SCOPE = """
WITH scoped_mentions AS (
    SELECT * FROM mentions WHERE created_at >= $since AND created_at < $until
), scoped_staff AS (
    SELECT * FROM staff_mentions WHERE created_at >= $since AND created_at < $until
), scoped AS (
    SELECT * FROM $scope WHERE created_at >= $since AND created_at < $until
)
"""

_FIGURES = """
    count(sc.review_id) AS reviews,
    avg(sc.rating) AS average_rating,
    avg(sc.negative::DOUBLE) AS share_negative,
    avg(sc.score) AS sentiment,
    avg(sc.replied::DOUBLE) AS reply_rate,
    median(greatest(0, date_diff('second', sc.created_at, sc.reply_at)) / 3600.0)
        FILTER (WHERE sc.reply_at IS NOT NULL) AS median_reply_hours,
    count(*) FILTER (WHERE sc.analysed) AS analysed
"""

PERIOD_FIGURES = SCOPE + f"""
, periods AS (
    SELECT 'this' AS period, * FROM scoped WHERE week_start = $w0::DATE
    UNION ALL SELECT 'last', * FROM scoped WHERE week_start = $w1::DATE
    UNION ALL SELECT 'prev4', * FROM scoped WHERE week_start BETWEEN $w4::DATE AND $w1::DATE
)
SELECT sc.period, {_FIGURES}
FROM periods sc
GROUP BY sc.period
"""

WEEKLY_TREND = SCOPE + """
SELECT week_start, count(*), avg(rating), avg(score), count(rating), coalesce(sum(rating), 0)
FROM scoped GROUP BY week_start ORDER BY week_start
"""

# Per theme and week: the reviews complaining of it (the sparklines), how many of them are rated and
# the sum of their ratings (the theme's impact on the 12-week average rating).
THEME_COMPLAINTS_BY_WEEK = SCOPE + """
, complaining AS (
    SELECT DISTINCT m.theme, sc.week_start, sc.review_id, sc.rating
    FROM scoped_mentions m JOIN scoped sc USING (review_id)
    WHERE m.polarity = 'complaint'
)
SELECT theme, week_start, count(*), count(rating), coalesce(sum(rating), 0)
FROM complaining GROUP BY ALL
"""

# The week's reviews in the order the page lists them, the first $listed (NULL: all).
WEEK_REVIEWS = SCOPE + """
SELECT * FROM scoped WHERE week_start = $w0::DATE ORDER BY created_at, review_id LIMIT $listed
"""

# Reviews by id (those quoted or awaiting a reply), with their complaint themes and spans. The
# caller narrows [$since, $until) to the times of those reviews, so only their rows are read.
REVIEWS_BY_ID = SCOPE + """
, complaint_spans AS (
    SELECT review_id, list(DISTINCT theme ORDER BY theme) AS themes,
           list([char_start, char_end] ORDER BY char_start, char_end) AS spans
    FROM scoped_mentions
    WHERE polarity = 'complaint' AND review_id IN (SELECT unnest($ids::VARCHAR[]))
    GROUP BY review_id
)
SELECT sc.*, c.themes, c.spans
FROM scoped sc LEFT JOIN complaint_spans c USING (review_id)
WHERE sc.review_id IN (SELECT unnest($ids::VARCHAR[]))
ORDER BY sc.created_at, sc.review_id
"""

# The author and text of the reviews a page shows (listed, quoted, awaiting a reply), in one read
# of `reviews`: the caller narrows [$since, $until) to their times.
REVIEW_TEXTS = """
SELECT review_id, author, text
FROM reviews
WHERE created_at >= $since AND created_at < $until AND review_id IN (SELECT unnest($ids::VARCHAR[]))
"""

# The mentions of some of the week's reviews (those listed on the page).
WEEK_MENTIONS = SCOPE + """
SELECT m.review_id, m.theme, m.polarity, m.char_start, m.char_end
FROM scoped_mentions m JOIN scoped sc USING (review_id)
WHERE sc.week_start = $w0::DATE AND m.review_id IN (SELECT unnest($ids::VARCHAR[]))
ORDER BY m.review_id, m.char_start, m.char_end, m.theme, m.polarity
"""

# Per complaint and praise theme of the week: its reviews (`reviews`) and the first quotes, oldest
# first, each with its spans and time: $quotes for complaints, $praise_quotes for praise. The quotes
# are chosen first and only their spans are gathered (a busy week has thousands of mentions).
WEEK_THEMES = SCOPE + """
, week_mentions AS (
    SELECT m.theme, m.polarity, m.review_id, sc.created_at, m.char_start, m.char_end
    FROM scoped_mentions m JOIN scoped sc USING (review_id)
    WHERE sc.week_start = $w0::DATE AND m.polarity IN ('complaint', 'praise')
), ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY theme, polarity ORDER BY created_at, review_id) AS n,
           count(*) OVER (PARTITION BY theme, polarity) AS reviews
    FROM (SELECT DISTINCT theme, polarity, review_id, created_at FROM week_mentions)
), quoted AS (
    SELECT * FROM ranked WHERE n <= CASE polarity WHEN 'praise' THEN $praise_quotes ELSE $quotes END
)
SELECT q.theme, q.polarity, q.reviews, q.review_id,
       list([w.char_start, w.char_end] ORDER BY w.char_start, w.char_end) AS spans, q.created_at
FROM quoted q JOIN week_mentions w USING (theme, polarity, review_id)
GROUP BY q.theme, q.polarity, q.reviews, q.review_id, q.created_at, q.n
ORDER BY q.theme, q.polarity, q.n
"""

WEEK_FLAGS = """
SELECT theme, status, complaints, baseline, p_value
FROM theme_flags
WHERE location_id = $flag_location AND week_start = $w0::DATE AND status IS NOT NULL
"""

# Per person named this week: the reviews with praise, complaint and neutral mentions of them, and
# the first $staff_quotes reviews (oldest first) with the spans that name them.
WEEK_STAFF = SCOPE + """
, named AS (
    SELECT st.staff_name, st.review_id, sc.created_at,
           first(st.role ORDER BY st.char_start) AS role,
           bool_or(st.polarity = 'praise') AS praise,
           bool_or(st.polarity = 'complaint') AS complaint,
           bool_or(st.polarity = 'neutral') AS neutral,
           list([st.char_start, st.char_end] ORDER BY st.char_start, st.char_end) AS spans
    FROM scoped_staff st JOIN scoped sc USING (review_id)
    WHERE sc.week_start = $w0::DATE
    GROUP BY st.staff_name, st.review_id, sc.created_at
), ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY staff_name ORDER BY created_at, review_id) AS n,
           first_value(role) OVER (PARTITION BY staff_name ORDER BY review_id
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS first_role,
           count(*) FILTER (WHERE praise) OVER (PARTITION BY staff_name) AS praise_reviews,
           count(*) FILTER (WHERE complaint) OVER (PARTITION BY staff_name) AS complaint_reviews,
           count(*) FILTER (WHERE neutral) OVER (PARTITION BY staff_name) AS neutral_reviews
    FROM named
)
SELECT staff_name, first_role, praise_reviews, complaint_reviews, neutral_reviews, review_id, spans, created_at
FROM ranked WHERE n <= $staff_quotes
ORDER BY staff_name, n
"""

# Complaints of the 12 weeks without an owner reply, oldest first: the first $limit (their rows come
# from REVIEWS_BY_ID) and how many there are (`waiting`).
NEEDS_REPLY = SCOPE + """
, waiting AS (
    SELECT sc.review_id, sc.created_at
    FROM scoped sc
    WHERE NOT sc.replied
      AND (sc.label = 'negative' OR sc.rating <= 2
           OR sc.review_id IN (SELECT review_id FROM scoped_mentions WHERE polarity = 'complaint'))
)
SELECT review_id, created_at, count(*) OVER () AS waiting
FROM waiting ORDER BY created_at, review_id LIMIT $limit
"""

BREAKDOWN = SCOPE + """
SELECT {key}, count(*), avg(rating), avg(negative::DOUBLE), avg(replied::DOUBLE)
FROM scoped WHERE week_start = $w0::DATE
GROUP BY {key} ORDER BY count(*) DESC, {key}
"""

ANALYSED_EVER = "SELECT count(*) FROM review_sentiment"
