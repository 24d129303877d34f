"""The SQL behind every figure of the weekly report (docs/report.md shows analysts the same queries).

All queries share one scope: the reviews of one location (`$location`, NULL for the whole practice)
created in the 12 weeks `[$since, $until)`, not removed, with `week_start` the Monday of their week
in the practice's time zone (`$zone`).
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]{1,64}$")


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """Run `sql` with those of `params` it names (DuckDB rejects unused named parameters).

    `$zone` is written into the SQL as a literal: DuckDB looks a bound time zone up again for every
    row, which made each report query several times slower. It is a validated IANA name.
    """
    if "$zone" in sql:
        zone = params["zone"]
        if not _ZONE_NAME.match(zone):
            raise ValueError(f"not a time zone name: {zone!r}")
        sql = sql.replace("$zone", f"'{zone}'")
    names = set(_PARAMETER.findall(sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in names} or None)

SCOPE = """
WITH scoped AS (
    SELECT r.review_id, r.source, r.location_id, r.author, r.rating, r.text, r.created_at,
           r.reply_text, r.reply_at,
           date_trunc('week', timezone($zone, r.created_at))::DATE AS week_start,
           coalesce(r.rating <= 2, s.label = 'negative') AS negative,
           (r.reply_text IS NOT NULL OR r.reply_at IS NOT NULL) AS replied,
           s.score, s.label, coalesce(s.is_safety, false) AS is_safety,
           s.review_id IS NOT NULL AS analysed
    FROM reviews r LEFT JOIN review_sentiment s USING (review_id)
    WHERE r.removed_at IS NULL
      AND ($location::VARCHAR IS NULL OR r.location_id = $location::VARCHAR)
      AND r.created_at >= $since AND r.created_at < $until
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

THEME_COMPLAINTS_BY_WEEK = SCOPE + """
SELECT m.theme, sc.week_start, count(DISTINCT m.review_id)
FROM mentions m JOIN scoped sc USING (review_id)
WHERE m.polarity = 'complaint'
GROUP BY ALL
"""

WEEK_REVIEWS = SCOPE + """
SELECT * FROM scoped WHERE week_start = $w0::DATE ORDER BY created_at, review_id
"""

WEEK_MENTIONS = SCOPE + """
SELECT m.review_id, m.theme, m.polarity, m.char_start, m.char_end
FROM mentions m JOIN scoped sc USING (review_id)
WHERE sc.week_start = $w0::DATE
ORDER BY m.review_id, m.char_start
"""

WEEK_FLAGS = """
SELECT theme, status, complaints, baseline, p_value
FROM theme_flags
WHERE location_id = $flag_location AND week_start = $w0::DATE AND status IS NOT NULL
"""

WEEK_STAFF = SCOPE + """
SELECT st.review_id, st.staff_name, st.role, st.polarity, st.char_start, st.char_end
FROM staff_mentions st JOIN scoped sc USING (review_id)
WHERE sc.week_start = $w0::DATE
ORDER BY st.review_id, st.char_start
"""

NEEDS_REPLY = SCOPE + """
, complaint_spans AS (
    SELECT review_id, list(DISTINCT theme ORDER BY theme) AS themes, list([char_start, char_end]) AS spans
    FROM mentions
    WHERE polarity = 'complaint' AND review_id IN (SELECT review_id FROM scoped WHERE NOT replied)
    GROUP BY review_id
)
SELECT sc.*, c.themes, c.spans, count(*) OVER () AS waiting
FROM scoped sc LEFT JOIN complaint_spans c USING (review_id)
WHERE NOT sc.replied AND (c.review_id IS NOT NULL OR sc.label = 'negative' OR sc.rating <= 2)
ORDER BY sc.created_at, sc.review_id
LIMIT $limit
"""

THEME_RATED_COMPLAINTS = SCOPE + """
, complaining AS (
    SELECT DISTINCT m.theme, sc.review_id, sc.rating
    FROM mentions m JOIN scoped sc USING (review_id)
    WHERE m.polarity = 'complaint' AND sc.rating IS NOT NULL
)
SELECT theme, count(*), sum(rating) FROM complaining GROUP BY theme
"""

BREAKDOWN = SCOPE + """
SELECT {key}, count(*), avg(rating), avg(negative::DOUBLE), avg(replied::DOUBLE)
FROM scoped WHERE week_start = $w0::DATE
GROUP BY {key} ORDER BY count(*) DESC, {key}
"""

ANALYSED_EVER = "SELECT count(*) FROM review_sentiment"
