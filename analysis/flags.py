"""Weekly theme flags: which complaint themes are `new`, `rising` or `recurring`, per location and week.

The rule (also in benchmarks/README.md and the README):

- Weeks are ISO weeks in the practice's time zone; `week_start` is the Monday. A review belongs to the
  week of its `created_at`. Flags are computed per configured location and for `'*'`, the whole
  practice.
- `complaints` = number of reviews that week with at least one complaint mention of the theme
  (a review counts once however many sentences complain); `praise` likewise.
- `baseline` = mean weekly complaints over the previous 8 weeks (`BASELINE_WEEKS`), counting weeks
  without complaints as 0, but only weeks on or after the location's first review (a practice that
  started collecting last month has a 4-week baseline). No earlier week at all: baseline NULL and no
  flag.
- `new`: complaints this week and none in the baseline window.
- `rising`: at least 2 complaints this week and a one-sided exact Poisson test of this week's
  count against the baseline rate gives p < 0.05 (P(X >= complaints | mean = baseline)); a test for
  small counts, so one extra complaint in a quiet week is not a spike.
- `recurring`: complaints this week and in at least 3 of the last 4 weeks, this week included (a
  quiet week is not flagged: the weekly report lists what patients complained about that week).
- Precedence when several hold: `new` > `rising` > `recurring` (the newest news first; a rising
  theme is usually recurring too, and the report shows the counts behind it either way).
- A row is written for every week from the location's first to its last review week and every
  theme with complaints or praise that week or a status; no row means nothing to report.

Reviews later removed from the platform still count: the complaint was made that week.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pyarrow as pa

BASELINE_WEEKS = 8
RECURRING_WINDOW = 4
RECURRING_MIN_WEEKS = 3
RISING_MIN_COMPLAINTS = 2
RISING_P = 0.05
ALL_LOCATIONS = "*"


@dataclass(frozen=True, slots=True)
class WeekFlag:
    complaints: int
    baseline: float | None
    p_value: float | None
    status: str | None


def poisson_upper_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean), computed exactly (no normal approximation)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    term = math.exp(-mean)
    below = term
    for i in range(1, k):
        term *= mean / i
        below += term
    return max(0.0, 1.0 - below)


def flag_week(counts: Sequence[int]) -> WeekFlag:
    """Apply the rule to weekly complaint counts of consecutive weeks, oldest first, ending this week.

    `counts` holds only weeks on or after the location's first review week.
    """
    this_week = counts[-1]
    window = list(counts[-1 - BASELINE_WEEKS:-1])
    if not window:
        return WeekFlag(this_week, None, None, None)
    baseline = sum(window) / len(window)
    p_value = poisson_upper_tail(this_week, baseline) if this_week > 0 and baseline > 0 else None
    recent = counts[-RECURRING_WINDOW:]
    status = None
    if this_week > 0 and baseline == 0:
        status = "new"
    elif p_value is not None and this_week >= RISING_MIN_COMPLAINTS and p_value < RISING_P:
        status = "rising"
    elif this_week > 0 and sum(1 for c in recent if c > 0) >= RECURRING_MIN_WEEKS:
        status = "recurring"
    return WeekFlag(this_week, round(baseline, 4), None if p_value is None else round(p_value, 6), status)


def iso_week(week_start: date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


_WEEKLY = """
WITH per_review AS (
    SELECT review_id, theme, bool_or(polarity = 'complaint') AS complains, bool_or(polarity = 'praise') AS praises
    FROM mentions GROUP BY review_id, theme
), located AS (
    SELECT r.location_id, CAST(date_trunc('week', timezone($zone, r.created_at)) AS DATE) AS week_start,
           p.theme, p.complains, p.praises
    FROM per_review p JOIN reviews r USING (review_id)
    WHERE r.created_at IS NOT NULL
)
-- One pass for the locations and the whole practice ('*'): a review belongs to one location, so the
-- practice's counts are the sums of its locations' (grouping sets, not a second scan of per_review,
-- which DuckDB would have to hold in memory whole).
SELECT CASE WHEN grouping(location_id) = 1 THEN '*' ELSE location_id END, week_start, theme,
       count(*) FILTER (complains), count(*) FILTER (praises)
FROM located
GROUP BY GROUPING SETS ((location_id, week_start, theme), (week_start, theme))
"""

_SPANS = """
WITH weeks AS (
    SELECT location_id, CAST(date_trunc('week', timezone($zone, created_at)) AS DATE) AS week_start
    FROM reviews WHERE created_at IS NOT NULL
)
SELECT location_id, min(week_start), max(week_start) FROM weeks GROUP BY ALL
UNION ALL
SELECT '*', min(week_start), max(week_start) FROM weeks HAVING count(*) > 0
"""

FLAG_SCHEMA = pa.schema(
    [
        ("location_id", pa.string()),
        ("week_start", pa.date32()),
        ("iso_week", pa.string()),
        ("theme", pa.string()),
        ("complaints", pa.int32()),
        ("praise", pa.int32()),
        ("baseline", pa.float64()),
        ("p_value", pa.float64()),
        ("status", pa.string()),
    ]
)


def build_flag_rows(
    weekly: Iterable[tuple[str, date, str, int, int]],
    spans: dict[str, tuple[date, date]],
    since: dict[str, date],
) -> list[tuple]:
    """Apply the rule to weekly (location, week_start, theme, complaints, praise) counts.

    Rows are produced for the weeks of each location in `since` from that date to its last review week.
    """
    series: dict[tuple[str, str], dict[date, tuple[int, int]]] = defaultdict(dict)
    for location, week_start, theme, complaints, praise in weekly:
        if location in since:
            series[(location, theme)][week_start] = (complaints, praise)
    rows = []
    for (location, theme), by_week in sorted(series.items()):
        first, last = spans[location]
        start = max(first, since[location] - timedelta(weeks=BASELINE_WEEKS))
        week, counts = start, []
        while week <= last:
            complaints, praise = by_week.get(week, (0, 0))
            counts.append(complaints)
            if week >= since[location]:
                # `counts` starts at the location's first week or BASELINE_WEEKS before `since`,
                # so it always holds the whole baseline window the rule may use.
                flag = flag_week(counts)
                if complaints or praise or flag.status:
                    rows.append((location, week, iso_week(week), theme, complaints, praise, flag.baseline, flag.p_value, flag.status))
            week += timedelta(weeks=1)
    return rows


def recompute_theme_flags(con: duckdb.DuckDBPyConnection, zone: str, since: dict[str, date]) -> int:
    """Replace theme_flags rows of the given locations from the given week on; return rows written.

    `since` maps location ids to the first week whose flags may have changed; `'*'` is added with
    the earliest of them. Runs inside the caller's transaction.
    """
    if not since:
        return 0
    since = {loc: _monday(d) for loc, d in since.items()}
    since.setdefault(ALL_LOCATIONS, min(since.values()))
    since[ALL_LOCATIONS] = min(since[ALL_LOCATIONS], min(since.values()))
    spans = {loc: (first, last) for loc, first, last in con.execute(_SPANS, {"zone": zone}).fetchall()}
    since = {loc: d for loc, d in since.items() if loc in spans}
    weekly = con.execute(_WEEKLY, {"zone": zone}).fetchall()
    rows = build_flag_rows(weekly, spans, since)
    for location, week in since.items():
        con.execute("DELETE FROM theme_flags WHERE location_id = ? AND week_start >= ?", [location, week])
    if rows:
        columns = list(zip(*rows))
        flags = pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, FLAG_SCHEMA)], schema=FLAG_SCHEMA)  # noqa: F841
        con.execute("INSERT INTO theme_flags SELECT * FROM flags")
    return len(rows)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
