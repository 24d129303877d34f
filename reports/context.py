"""`build_context()`: every figure of one weekly report, as plain data, from the database alone.

The context is a pure function of the database (and the settings that name things): the templates
never query and never compute, so every number on a page can be reproduced with the SQL in
docs/report.md. Review text stays untrusted data here; it is split into segments for highlighting and
escaped by the templates.

Definitions (kept in step with docs/report.md):
- a review belongs to the week of its `created_at` in the practice's time zone; removed reviews are
  left out;
- negative: rated 1-2 stars, or unrated and labelled negative by the analysis;
- replied: the review has an owner reply (text or time);
- a complaint review: a complaint mention of any theme, a negative label, or a 1-2 star rating;
- "previous four weeks" pools the four weeks before this one (counts are given per week);
- trends, sparklines, reviews needing a reply and theme impact look at the 12 weeks ending this week.

A page stays readable however many reviews a week brings: a flagged theme shows its first
QUOTES_PER_THEME quotes (the theme's quarter page has them all), the reviews needing a reply the
oldest NEEDS_REPLY_SHOWN of them (with their number), and the whole-practice page of a practice with
several locations lists the first WEEK_REVIEWS_SHOWN of the week's reviews (every one is on its
location's page). The queries return just that (counts, the first quotes, the listed reviews). The
page's reviews are read from `reviews` once, into a temporary table of the connection that the
queries share (`reviews` is in import order: each query scanning it again read the whole history),
and the analysis rows through the weeks' time range (the rows carry their review's created_at and
are stored in time order), so a page costs what its weeks hold, not what the practice's whole
history holds.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from config import Settings
from reports import queries
from reports.charts import LineChart, Sparkline, build_sparkline, build_trend_charts
from reports.labels import fallback_label, load_theme_labels
from reports.paths import review_anchor
from reports.text import Segment, mask_name, neutralise_controls, split_marked
from reports.weeks import bound_week, label_quarter, label_week, shift_week

TREND_WEEKS = 12
STATUS_ORDER = {"rising": 0, "new": 1, "recurring": 2}
QUOTES_PER_PRAISE_THEME = 3
QUOTES_PER_THEME = 10
QUOTES_PER_STAFF = 3
NEEDS_REPLY_SHOWN = 100
WEEK_REVIEWS_SHOWN = 100


@dataclass(frozen=True)
class Figure:
    """A headline figure this week, last week and pooled over the four weeks before this one."""

    key: str
    label: str
    value: float | None
    last_week: float | None
    previous_four: float | None
    better: str | None  # "higher", "lower" or None when neither direction is good news
    unit: str  # "count", "stars", "share", "score", "hours"

    @property
    def change_last_week(self) -> float | None:
        return None if self.value is None or self.last_week is None else self.value - self.last_week

    @property
    def change_previous_four(self) -> float | None:
        return None if self.value is None or self.previous_four is None else self.value - self.previous_four


@dataclass(frozen=True)
class ReviewView:
    """One review as shown on a page; `segments` carry the highlighted evidence."""

    review_id: str
    anchor: str
    iso_week: str
    source: str
    location_id: str
    location_name: str
    author: str | None
    rating: int | None
    created: datetime  # local time of the practice
    segments: tuple[Segment, ...]
    replied: bool
    label: str | None = None
    is_safety: bool = False
    themes: tuple[tuple[str, str, str], ...] = ()  # (theme id, display name, polarity)
    quarter: str = ""  # of its week, e.g. "2026-Q1": the theme pages that list it


@dataclass(frozen=True)
class FlaggedTheme:
    theme: str
    label: str
    status: str
    complaints: int
    baseline: float | None
    p_value: float | None
    sparkline: Sparkline
    quotes: tuple[ReviewView, ...]


@dataclass(frozen=True)
class ThemeWeek:
    """A theme's reviews this week (complaints or praise), with its 12-week sparkline of complaints."""

    theme: str
    label: str
    reviews: int
    sparkline: Sparkline
    quotes: tuple[ReviewView, ...]


@dataclass(frozen=True)
class StaffSummary:
    name: str
    role: str | None
    praise: int
    complaint: int
    neutral: int
    quotes: tuple[ReviewView, ...]


@dataclass(frozen=True)
class Impact:
    """How much higher the 12-week average rating would be without the reviews complaining of a theme."""

    theme: str
    label: str
    reviews: int  # rated reviews with a complaint mention of the theme
    average_without: float | None
    impact: float | None


@dataclass(frozen=True)
class Breakdown:
    key: str
    name: str
    reviews: int
    average_rating: float | None
    share_negative: float | None
    reply_rate: float | None


@dataclass(frozen=True)
class Trend:
    weeks: tuple[str, ...]
    reviews: tuple[int, ...]
    average_rating: tuple[float | None, ...]
    sentiment: tuple[float | None, ...]
    rating_chart: LineChart
    sentiment_chart: LineChart


@dataclass(frozen=True)
class WeekReport:
    """Everything on one weekly page: the whole practice (`location_id` None) or one location."""

    practice: str
    location_id: str | None
    scope_name: str
    week_start: date
    iso_week: str
    week_end: date  # the Sunday
    timezone: str
    figures: tuple[Figure, ...]
    reviews_this_week: int
    analysed_this_week: int
    analysed_ever: bool
    flagged: tuple[FlaggedTheme, ...]
    other_complaints: tuple[ThemeWeek, ...]
    praise: tuple[ThemeWeek, ...]
    staff: tuple[StaffSummary, ...]
    needs_reply: tuple[ReviewView, ...]  # the oldest NEEDS_REPLY_SHOWN
    impacts: tuple[Impact, ...]
    average_rating_12_weeks: float | None
    trend: Trend
    by_source: tuple[Breakdown, ...]
    by_location: tuple[Breakdown, ...]
    reviews: tuple[ReviewView, ...]  # the week's reviews listed on this page, oldest first
    needs_reply_count: int = 0  # all the reviews needing a reply, shown or not
    capped_weeks: frozenset[str] = frozenset()  # weeks whose whole-practice page lists only some reviews

    @property
    def themes_analysed(self) -> bool:
        """False when none of this week's reviews has been analysed (themes cannot be shown yet)."""
        return self.analysed_this_week > 0 or (self.reviews_this_week == 0 and self.analysed_ever)

    @property
    def quarter(self) -> str:
        return label_quarter(self.week_start)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


class Labels:
    """Names of themes and locations, with fallbacks for ids the configuration does not know."""

    def __init__(self, settings: Settings):
        self.themes = load_theme_labels(settings)
        self.locations = {loc.id: loc.name for loc in settings.locations}

    def theme(self, theme: str) -> str:
        return self.themes.get(theme) or fallback_label(theme)

    def location(self, location_id: str) -> str:
        return self.locations.get(location_id, location_id)


def build_review_view(
    row: dict[str, Any],
    spans: list[tuple[int, int]],
    *,
    labels: Labels,
    settings: Settings,
    excerpt: bool = False,
    themes=(),
    quarter: str | None = None,
) -> ReviewView:
    """One review as a page shows it: masked author, controls neutralised, `spans` highlighted.

    `row` holds the review columns the report queries select; `themes` is (theme, polarity) pairs;
    `quarter` defaults to the quarter of the review's week (the theme page that lists it).
    """
    author = row["author"]
    author = mask_name(author) if settings.reports.mask_names else author
    return ReviewView(
        review_id=row["review_id"],
        anchor=review_anchor(row["review_id"]),
        iso_week=label_week(row["week_start"]),
        source=row["source"],
        location_id=row["location_id"],
        location_name=labels.location(row["location_id"]),
        author=neutralise_controls(author) if author else None,
        rating=row["rating"],
        created=row["created_at"].astimezone(settings.zone),
        segments=tuple(split_marked(row["text"], spans, excerpt=excerpt)),
        replied=bool(row["replied"]),
        label=row["label"],
        is_safety=bool(row["is_safety"]),
        themes=tuple((t, labels.theme(t), p) for t, p in themes),
        quarter=quarter or label_quarter(row["week_start"]),
    )


def build_context(
    con: duckdb.DuckDBPyConnection, settings: Settings, location_id: str | None, week_start: date
) -> WeekReport:
    """Compute the weekly report for `location_id` (None: the whole practice) and the week of `week_start`.

    Reads the database only; it writes nothing to the file. Side effect on `con`: a temporary table
    of the page's scope (`reviews` of the 12 weeks with their sentiment), under a name of its own so
    that pages built at the same time on one connection do not meet, dropped before returning.
    Temporary tables live in the connection's memory, so read-only connections work too.
    `week_start` must be a Monday.
    """
    if week_start.weekday() != 0:
        raise ValueError(f"week_start must be a Monday, got {week_start.isoformat()} ({week_start:%A})")
    zone = settings.zone
    first_week = shift_week(week_start, -(TREND_WEEKS - 1))
    since, _ = bound_week(first_week, zone)
    _, until = bound_week(week_start, zone)
    params = {"zone": settings.timezone, "location": location_id, "since": since, "until": until}
    with _materialise_scope(con, params) as scope:
        return _compute_report(con, settings, location_id, week_start, {**params, "scope": scope})


@contextmanager
def _materialise_scope(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> Iterator[str]:
    """Create the page's scope table on `con` (named once per page), yield its name, drop it after."""
    name = f"report_scope_{uuid.uuid4().hex}"
    queries.execute(con, queries.SCOPE_TABLE, {**params, "scope": name})
    try:
        yield name
    except BaseException:
        # A failed query may have aborted the caller's transaction, which then refuses the drop;
        # its rollback removes the table anyway. Keep the first error.
        with suppress(duckdb.Error):
            queries.execute(con, queries.DROP_SCOPE_TABLE, {"scope": name})
        raise
    queries.execute(con, queries.DROP_SCOPE_TABLE, {"scope": name})


def _compute_report(
    con: duckdb.DuckDBPyConnection, settings: Settings, location_id: str | None, week_start: date,
    params: dict[str, Any],
) -> WeekReport:
    """build_context() once the scope table (`params["scope"]`) is there."""
    zone = settings.zone
    labels = Labels(settings)
    first_week = shift_week(week_start, -(TREND_WEEKS - 1))
    week_labels = [label_week(shift_week(first_week, i)) for i in range(TREND_WEEKS)]

    def run(sql: str, **extra: Any) -> list[tuple]:
        return queries.execute(con, sql, {**params, **extra}).fetchall()

    # Queries about this week alone (or the five weeks of the headline figures) narrow the scope's
    # start: the same rows, but fewer reviews to join with the analysis tables.
    this_week = {"w0": week_start, "since": bound_week(week_start, zone)[0]}

    def fetch_by_id(ids: list[str], first: datetime, after: datetime) -> list[dict[str, Any]]:
        """The scope's rows of `ids`, created in [first, after)."""
        if not ids:
            return []
        return fetch_dicts(queries.execute(con, queries.REVIEWS_BY_ID, {**params, "since": first, "until": after, "ids": ids}))

    def view(row: dict[str, Any], spans: list[tuple[int, int]], *, excerpt: bool = False, themes=()) -> ReviewView:
        return build_review_view(row, spans, labels=labels, settings=settings, excerpt=excerpt, themes=themes)

    # Headline figures: this week, last week, the four weeks before.
    periods = {period: (period, 0, None, None, None, None, None, 0) for period in ("this", "last", "prev4")}
    periods.update(
        (row[0], row) for row in run(queries.PERIOD_FIGURES, w0=week_start, w1=shift_week(week_start, -1), w4=shift_week(week_start, -4),
                                           since=bound_week(shift_week(week_start, -4), zone)[0])
    )
    figures = _build_figures(periods)
    this = periods["this"]

    # Trend over 12 weeks.
    weekly = {row[0]: row for row in run(queries.WEEKLY_TREND)}
    weeks = [shift_week(first_week, i) for i in range(TREND_WEEKS)]
    counts = tuple(weekly[w][1] if w in weekly else 0 for w in weeks)
    ratings = tuple(weekly[w][2] if w in weekly else None for w in weeks)
    sentiments = tuple(weekly[w][3] if w in weekly else None for w in weeks)
    short = [label.split("-")[1] for label in week_labels]
    rating_chart, sentiment_chart = build_trend_charts(short, list(ratings), list(sentiments))
    trend = Trend(tuple(week_labels), counts, ratings, sentiments, rating_chart, sentiment_chart)

    # Complaints per theme and week (sparklines), and per theme the rated ones (impact).
    per_theme: dict[str, dict[date, int]] = defaultdict(dict)
    rated: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for theme, week, n, n_rated, rating_sum in run(queries.THEME_COMPLAINTS_BY_WEEK):
        per_theme[theme][week] = n
        rated[theme][0] += n_rated
        rated[theme][1] += rating_sum

    def sparkline(theme: str) -> Sparkline:
        return build_sparkline([per_theme.get(theme, {}).get(w, 0) for w in weeks], week_labels)

    # This week's themes and staff: counts and the first quotes, oldest first (spans per review).
    theme_reviews: dict[tuple[str, str], int] = {}
    theme_quotes: dict[tuple[str, str], list[tuple[str, list[tuple[int, int]]]]] = defaultdict(list)
    quoted: dict[str, datetime] = {}
    for theme, polarity, n, review_id, spans, created_at in run(
        queries.WEEK_THEMES, **this_week, quotes=QUOTES_PER_THEME, praise_quotes=QUOTES_PER_PRAISE_THEME
    ):
        theme_reviews[(theme, polarity)] = n
        theme_quotes[(theme, polarity)].append((review_id, [tuple(s) for s in spans]))
        quoted[review_id] = created_at
    staff_rows = run(queries.WEEK_STAFF, **this_week, staff_quotes=QUOTES_PER_STAFF)
    quoted.update((row[5], row[7]) for row in staff_rows)

    # The week's reviews the page lists (on a capped page, the first ones), their mentions, and the
    # other reviews it quotes.
    capped = location_id is None and len(settings.locations) > 1
    listed_rows = fetch_dicts(queries.execute(
        con, queries.WEEK_REVIEWS, {**params, **this_week, "listed": WEEK_REVIEWS_SHOWN if capped else None}
    ))
    by_id = {row["review_id"]: row for row in listed_rows}
    missing = {rid: created_at for rid, created_at in quoted.items() if rid not in by_id}
    if missing:
        # The quotes are the oldest of each theme: read over their (short) time range.
        first, last = min(missing.values()), max(missing.values())
        by_id.update((row["review_id"], row) for row in fetch_by_id(sorted(missing), first, last + timedelta(microseconds=1)))
    review_themes: dict[str, dict[tuple[str, str], None]] = defaultdict(dict)
    complaint_spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for review_id, theme, polarity, start, end in run(queries.WEEK_MENTIONS, **this_week, ids=list(by_id)):
        review_themes[review_id][(theme, polarity)] = None
        if polarity == "complaint":
            complaint_spans[review_id].append((start, end))

    # Reviews needing a reply: complaints of the last 12 weeks without an owner reply, oldest first.
    # Their rows are read over the (short) time range of the ones shown.
    waiting = run(queries.NEEDS_REPLY, limit=NEEDS_REPLY_SHOWN)
    needs_reply_rows = fetch_by_id([w[0] for w in waiting], waiting[0][1], waiting[-1][1] + timedelta(microseconds=1)) if waiting else []
    needs_reply_count = waiting[0][2] if waiting else 0

    # The author and text of every review the page shows, in one read of `reviews`.
    _attach_texts(con, [*by_id.values(), *needs_reply_rows])

    def quotes(theme: str, polarity: str) -> tuple[ReviewView, ...]:
        return tuple(view(by_id[rid], spans, excerpt=True) for rid, spans in theme_quotes.get((theme, polarity), []))

    flag_location = location_id if location_id is not None else "*"
    flagged = tuple(
        FlaggedTheme(theme, labels.theme(theme), status, complaints, baseline, p_value, sparkline(theme), quotes(theme, "complaint"))
        for theme, status, complaints, baseline, p_value in sorted(
            run(queries.WEEK_FLAGS, flag_location=flag_location, w0=week_start),
            key=lambda r: (STATUS_ORDER.get(r[1], 9), -r[2], r[0]),
        )
    )
    flagged_ids = {f.theme for f in flagged}
    other_complaints = _theme_weeks(theme_reviews, "complaint", flagged_ids, labels, sparkline, quotes)
    praise = _theme_weeks(theme_reviews, "praise", set(), labels, sparkline, quotes)

    # Named staff.
    staff_quotes: dict[str, list[ReviewView]] = defaultdict(list)
    staff_counts: dict[str, tuple[str | None, int, int, int]] = {}
    for name, role, n_praise, n_complaint, n_neutral, review_id, spans, _ in staff_rows:
        staff_counts[name] = (role, n_praise, n_complaint, n_neutral)
        staff_quotes[name].append(view(by_id[review_id], [tuple(s) for s in spans], excerpt=True))
    staff = tuple(
        StaffSummary(
            name=neutralise_controls(name),
            role=staff_counts[name][0],
            praise=staff_counts[name][1],
            complaint=staff_counts[name][2],
            neutral=staff_counts[name][3],
            quotes=tuple(staff_quotes[name]),
        )
        for name in sorted(staff_counts, key=lambda n: (-sum(staff_counts[n][1:]), n))
    )

    needs_reply = tuple(
        view(row, [tuple(s) for s in row["spans"] or []], excerpt=True, themes=[(t, "complaint") for t in row["themes"] or []])
        for row in needs_reply_rows
    )

    # Impact of each theme on the 12-week average rating.
    total_n = sum(row[4] for row in weekly.values())
    total_sum = sum(row[5] for row in weekly.values())
    average = total_sum / total_n if total_n else None
    impacts = []
    for theme, (n, rating_sum) in rated.items():
        if not n:
            continue  # no rated review complains of it: no impact to show
        rest = total_n - n
        without = (total_sum - rating_sum) / rest if rest else None
        impacts.append(Impact(theme, labels.theme(theme), n, without, None if without is None or average is None else without - average))
    impacts.sort(key=lambda i: (-(i.impact if i.impact is not None else -99), i.theme))

    # Breakdowns and the week's reviews.
    by_source = tuple(Breakdown(k, k, *rest) for k, *rest in run(queries.BREAKDOWN.format(key="source"), **this_week))
    by_location = ()
    if location_id is None:
        by_location = tuple(
            Breakdown(k, labels.location(k), *rest) for k, *rest in run(queries.BREAKDOWN.format(key="location_id"), **this_week)
        )
    # The whole-practice page of several locations lists the first reviews of a busy week; the
    # location pages list all of theirs, so links to the others go there.
    capped_weeks = frozenset(label_week(w) for w, n in zip(weeks, counts) if capped and n > WEEK_REVIEWS_SHOWN)
    reviews = tuple(
        view(row, complaint_spans.get(row["review_id"], []), themes=list(review_themes.get(row["review_id"], {})))
        for row in listed_rows
    )
    analysed_ever = run(queries.ANALYSED_EVER)[0][0] > 0

    return WeekReport(
        practice=settings.practice,
        location_id=location_id,
        scope_name=settings.practice if location_id is None else labels.location(location_id),
        week_start=week_start,
        iso_week=label_week(week_start),
        week_end=week_start + timedelta(days=6),
        timezone=settings.timezone,
        figures=figures,
        reviews_this_week=this[1],
        analysed_this_week=this[7],
        analysed_ever=analysed_ever,
        flagged=flagged,
        other_complaints=other_complaints,
        praise=praise,
        staff=staff,
        needs_reply=needs_reply,
        impacts=tuple(impacts),
        average_rating_12_weeks=average,
        trend=trend,
        by_source=by_source,
        by_location=by_location,
        reviews=reviews,
        needs_reply_count=needs_reply_count,
        capped_weeks=capped_weeks,
    )


def _attach_texts(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Add `author` and `text` from `reviews` to each of `rows` (scope rows), read over their time range."""
    if not rows:
        return
    first = min(row["created_at"] for row in rows)
    after = max(row["created_at"] for row in rows) + timedelta(microseconds=1)
    ids = sorted({row["review_id"] for row in rows})
    texts = {review_id: (author, text) for review_id, author, text in queries.execute(
        con, queries.REVIEW_TEXTS, {"since": first, "until": after, "ids": ids}).fetchall()}
    for row in rows:
        row["author"], row["text"] = texts[row["review_id"]]


def fetch_dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _build_figures(periods: dict[str, tuple]) -> tuple[Figure, ...]:
    """Headline figures from the PERIOD_FIGURES rows (period, n, rating, negative, sentiment, reply, hours, analysed)."""
    this, last, prev = periods["this"], periods["last"], periods["prev4"]
    specs = [
        ("new_reviews", "New reviews", 1, None, "count"),
        ("average_rating", "Average rating", 2, "higher", "stars"),
        ("share_negative", "Share negative", 3, "lower", "share"),
        ("sentiment", "ReviewPulse sentiment", 4, "higher", "score"),
        ("reply_rate", "Reply rate", 5, "higher", "share"),
        ("median_reply_hours", "Median time to reply", 6, "lower", "hours"),
    ]
    figures = []
    for key, label, i, better, unit in specs:
        previous = prev[i]
        if key == "new_reviews":
            previous = prev[i] / 4  # a weekly average, comparable with one week
        figures.append(Figure(key, label, this[i], last[i], previous, better, unit))
    return tuple(figures)


def _theme_weeks(theme_reviews, polarity, skip, labels, sparkline, quotes) -> tuple[ThemeWeek, ...]:
    """This week's themes of one polarity (except `skip`), most reviews first."""
    found = [
        ThemeWeek(theme, labels.theme(theme), n, sparkline(theme), quotes(theme, polarity))
        for (theme, pol), n in theme_reviews.items()
        if pol == polarity and theme not in skip
    ]
    return tuple(sorted(found, key=lambda t: (-t.reviews, t.theme)))
