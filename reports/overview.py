"""Contexts of the site's index and theme pages, pure functions of the database like `build_context()`.

A theme page is what staff tracking one theme work from: its weekly complaint and praise counts over
the whole history, the weeks it was flagged, and its quarters. Every review that mentions the theme
is on the page of its quarter, with the evidence highlighted and an anchor other pages link to; a
page per quarter keeps each page readable, and the cost of writing it bounded, however long the
history grows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from config import Settings
from reports import queries
from reports.charts import GREEN, VERMILLION, LineChart, build_line_chart
from reports.context import WEEK_REVIEWS_SHOWN, Labels, ReviewView, build_review_view, fetch_dicts
from reports.weeks import bound_week, label_quarter, label_week

_WEEK = "date_trunc('week', timezone($zone, r.created_at))::DATE"

THEME_WEEKS = f"""
SELECT {_WEEK} AS week_start,
       count(DISTINCT m.review_id) FILTER (WHERE m.polarity = 'complaint'),
       count(DISTINCT m.review_id) FILTER (WHERE m.polarity = 'praise'),
       count(DISTINCT m.review_id)
FROM mentions m JOIN reviews r USING (review_id)
WHERE m.theme = $theme AND r.removed_at IS NULL AND r.created_at >= $since AND r.created_at < $until
GROUP BY ALL
"""

THEME_FLAGS = """
SELECT week_start, status, complaints, baseline FROM theme_flags
WHERE theme = $theme AND location_id = '*' AND status IS NOT NULL AND week_start BETWEEN $first AND $last
ORDER BY week_start DESC
"""

THEME_REVIEWS = f"""
SELECT r.review_id, r.source, r.location_id, r.author, r.rating, r.text, r.created_at,
       (r.reply_text IS NOT NULL OR r.reply_at IS NOT NULL) AS replied,
       {_WEEK} AS week_start, s.label, coalesce(s.is_safety, false) AS is_safety,
       list(DISTINCT m.polarity ORDER BY m.polarity) AS polarities,
       list([m.char_start, m.char_end]) AS spans
FROM mentions m JOIN reviews r USING (review_id) LEFT JOIN review_sentiment s USING (review_id)
WHERE m.theme = $theme AND r.removed_at IS NULL AND r.created_at >= $since AND r.created_at < $until
GROUP BY ALL
ORDER BY r.created_at DESC, r.review_id
"""

INDEX_WEEKS = f"""
SELECT week_start, location_id, count(*), avg(rating)
FROM (
    SELECT {_WEEK} AS week_start, r.location_id, r.rating FROM reviews r
    WHERE r.removed_at IS NULL AND r.created_at >= $since AND r.created_at < $until
)
GROUP BY GROUPING SETS ((week_start, location_id), (week_start))
"""

WEEK_COUNTS = f"""
SELECT {_WEEK} AS week_start, count(*) FROM reviews r
WHERE r.removed_at IS NULL AND r.created_at >= $since AND r.created_at < $until
GROUP BY ALL
"""

INDEX_FLAGS = """
SELECT week_start, location_id, count(*) FROM theme_flags
WHERE status IS NOT NULL AND week_start BETWEEN $first AND $last
GROUP BY ALL
"""

INDEX_THEMES = """
SELECT m.theme, count(DISTINCT m.review_id) FILTER (WHERE m.polarity = 'complaint'),
       count(DISTINCT m.review_id) FILTER (WHERE m.polarity = 'praise')
FROM mentions m JOIN reviews r USING (review_id)
WHERE r.removed_at IS NULL AND r.created_at >= $since AND r.created_at < $until
GROUP BY m.theme
"""


@dataclass(frozen=True)
class ThemeFlag:
    iso_week: str
    status: str
    complaints: int
    baseline: float | None


@dataclass(frozen=True)
class ThemeQuarter:
    """One quarter of a theme: the weeks it spans and the reviews mentioning the theme in them."""

    quarter: str  # e.g. "2026-Q1"
    first_week: str
    last_week: str
    reviews: int
    complaints: int
    praise: int


@dataclass(frozen=True)
class ThemePage:
    theme: str
    label: str
    weeks: tuple[str, ...]
    complaints: tuple[int, ...]
    praise: tuple[int, ...]
    chart: LineChart
    flags: tuple[ThemeFlag, ...]
    quarters: tuple[ThemeQuarter, ...]  # newest first
    analysed_ever: bool

    @property
    def reviews(self) -> int:
        return sum(q.reviews for q in self.quarters)


@dataclass(frozen=True)
class ThemeQuarterPage:
    """The reviews of one quarter that mention a theme, newest first."""

    theme: str
    label: str
    quarter: str
    first_week: str
    last_week: str
    reviews: tuple[ReviewView, ...]
    analysed_ever: bool
    capped_weeks: frozenset[str] = frozenset()  # weeks whose whole-practice page lists only some reviews


@dataclass(frozen=True)
class IndexWeek:
    iso_week: str
    week_start: date
    reviews: int
    average_rating: float | None
    flagged: int
    locations: tuple[tuple[str, str, int, float | None, int], ...]  # id, name, reviews, rating, flagged


@dataclass(frozen=True)
class IndexTheme:
    theme: str
    label: str
    complaints: int
    praise: int


@dataclass(frozen=True)
class IndexPage:
    practice: str
    weeks: tuple[IndexWeek, ...]  # newest first
    themes: tuple[IndexTheme, ...]
    locations: tuple[tuple[str, str], ...]
    analysed_ever: bool


def _window(settings: Settings, weeks: list[date]) -> dict[str, Any]:
    since, _ = bound_week(weeks[0], settings.zone)
    _, until = bound_week(weeks[-1], settings.zone)
    return {"zone": settings.timezone, "since": since, "until": until, "first": weeks[0], "last": weeks[-1]}


def build_theme_context(con: duckdb.DuckDBPyConnection, settings: Settings, theme: str, weeks: list[date]) -> ThemePage:
    """The page of one theme over `weeks` (oldest first, consecutive): trend, flags, its quarters."""
    labels = Labels(settings)
    params = {**_window(settings, weeks), "theme": theme}
    counts: dict[date, tuple[int, int, int]] = {
        week: (c, p, n) for week, c, p, n in queries.execute(con, THEME_WEEKS, params).fetchall()
    }
    iso = [label_week(w) for w in weeks]
    complaints = tuple(counts.get(w, (0, 0, 0))[0] for w in weeks)
    praise = tuple(counts.get(w, (0, 0, 0))[1] for w in weeks)
    peak = max([4, *complaints, *praise])
    step = max(1, -(-peak // 4))
    chart = build_line_chart(
        "Reviews per week",
        [label if i % max(1, len(iso) // 12) == 0 or i == len(iso) - 1 else "" for i, label in enumerate(iso)],
        [("Complaints", list(complaints), VERMILLION, "", "circle"), ("Praise", list(praise), GREEN, "6 3", "square")],
        y_range=(0, step * 4),
        y_ticks=[step * i for i in range(5)],
        height=220,
    )
    flags = tuple(
        ThemeFlag(label_week(week), status, n, baseline)
        for week, status, n, baseline in queries.execute(con, THEME_FLAGS, params).fetchall()
    )
    quarters = []
    for quarter, members in group_quarters(weeks).items():
        totals = [counts.get(w, (0, 0, 0)) for w in members]
        quarters.append(
            ThemeQuarter(quarter, label_week(members[0]), label_week(members[-1]), sum(n for _, _, n in totals),
                         sum(c for c, _, _ in totals), sum(p for _, p, _ in totals))
        )
    analysed_ever = con.execute(queries.ANALYSED_EVER).fetchone()[0] > 0
    return ThemePage(theme, labels.theme(theme), tuple(iso), complaints, praise, chart, flags, tuple(reversed(quarters)),
                     analysed_ever)


def group_quarters(weeks: list[date]) -> dict[str, list[date]]:
    """The weeks (oldest first) grouped by the quarter of their Monday, oldest quarter first."""
    grouped: dict[str, list[date]] = {}
    for week in weeks:
        grouped.setdefault(label_quarter(week), []).append(week)
    return grouped


def build_theme_quarter_context(
    con: duckdb.DuckDBPyConnection, settings: Settings, theme: str, quarter: str, weeks: list[date]
) -> ThemeQuarterPage:
    """The reviews mentioning `theme` in `weeks` (the consecutive weeks of one quarter), newest first."""
    labels = Labels(settings)
    params = {**_window(settings, weeks), "theme": theme}
    reviews = []
    for row in fetch_dicts(queries.execute(con, THEME_REVIEWS, params)):
        reviews.append(build_review_view(
            row, [tuple(s) for s in row["spans"]], labels=labels, settings=settings,
            themes=[(theme, p) for p in row["polarities"]], quarter=quarter,
        ))
    analysed_ever = con.execute(queries.ANALYSED_EVER).fetchone()[0] > 0
    capped = frozenset()
    if len(settings.locations) > 1:  # the reviews of a busy week are all on their location's page
        capped = frozenset(label_week(week) for week, n in queries.execute(con, WEEK_COUNTS, params).fetchall()
                           if n > WEEK_REVIEWS_SHOWN)
    return ThemeQuarterPage(theme, labels.theme(theme), quarter, label_week(weeks[0]), label_week(weeks[-1]),
                            tuple(reviews), analysed_ever, capped)


def list_themes(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Every theme with a page: those of the taxonomy and any other found in `mentions`."""
    found = {row[0] for row in con.execute("SELECT DISTINCT theme FROM mentions").fetchall()}
    return sorted(found | set(Labels(settings).themes))


def build_index_context(con: duckdb.DuckDBPyConnection, settings: Settings, weeks: list[date]) -> IndexPage:
    """The site's index over `weeks` (oldest first, consecutive): per-week figures, locations, themes."""
    labels = Labels(settings)
    locations = tuple((loc.id, loc.name) for loc in settings.locations)
    analysed_ever = con.execute(queries.ANALYSED_EVER).fetchone()[0] > 0
    if not weeks:
        return IndexPage(settings.practice, (), (), locations, analysed_ever)
    params = _window(settings, weeks)
    per_location: dict[date, dict[str | None, tuple[int, float | None]]] = defaultdict(dict)
    for week, location_id, n, rating in queries.execute(con, INDEX_WEEKS, params).fetchall():
        per_location[week][location_id] = (n, rating)  # location None: the whole practice
    flags: dict[tuple[date, str], int] = {
        (week, loc): n for week, loc, n in queries.execute(con, INDEX_FLAGS, params).fetchall()
    }
    index_weeks = []
    for week in reversed(weeks):
        rows = per_location.get(week, {})
        total, rating = rows.get(None, (0, None))
        index_weeks.append(
            IndexWeek(
                iso_week=label_week(week),
                week_start=week,
                reviews=total,
                average_rating=rating,
                flagged=flags.get((week, "*"), 0),
                locations=tuple(
                    (loc_id, name, *rows.get(loc_id, (0, None)), flags.get((week, loc_id), 0)) for loc_id, name in locations
                ),
            )
        )
    themes = {theme: (c, p) for theme, c, p in queries.execute(con, INDEX_THEMES, params).fetchall()}
    all_themes = sorted(set(themes) | set(labels.themes))
    index_themes = tuple(
        sorted(
            (IndexTheme(t, labels.theme(t), *themes.get(t, (0, 0))) for t in all_themes),
            key=lambda t: (-t.complaints, t.label),
        )
    )
    return IndexPage(settings.practice, tuple(index_weeks), index_themes, locations, analysed_ever)
