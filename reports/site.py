"""`write_reports()`: the static site written by every report run.

Layout of `settings.site_dir` (every page self-contained, all links relative):

    index.html                      every week and location, every theme
    2026-W05/index.html             the week for the whole practice (+ index.email.json, the email summary)
    2026-W05/location-<id>.html     the week for one location (+ location-<id>.email.json)
    themes/<theme>.html             one theme: weekly trend, flags, its quarters
    themes/<theme>.2026-Q1.html     every review of one quarter that mentions the theme

Every page is skipped when a page with the same input fingerprint is already there, so a re-run
rewrites only what changed. A fingerprint covers the rows the page reads (through per-week digests of
the reviews and their analysis, computed for all weeks in one query), the names it shows, its
neighbours and the report code itself: a run when nothing changed writes no page.

A run of the whole site first compares a change token with the one the last run left in
`.reviewpulse-site.json`: the newest successful import, the number of reviews, the number and newest
time of analyses, the flags, the finished weeks, the names and the report code. Reviews change only
through imports and their analysis only through analysis runs, so an equal token (with every page of
the last run still there) means nothing changed, and the run ends without digesting any review or
reading any page: its cost does not grow with the corpus. (A hand edit of the database that neither
imports nor analyses shows with the next import or analysis, or after deleting that file.)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

import duckdb

from config import Settings
from reports import paths, queries
from reports.context import TREND_WEEKS, build_context
from reports.email import render_summary
from reports.labels import load_theme_labels
from reports.overview import (
    build_index_context,
    build_theme_context,
    build_theme_quarter_context,
    group_quarters,
    list_themes,
)
from reports.render import render_page
from reports.weeks import label_week, list_weeks, shift_week, week_of

_FINGERPRINT = re.compile(rb'<meta name="reviewpulse-fingerprint" content="([0-9a-f]{16,64})">')

# The analysis replaces a review's sentiment, sentences, mentions and staff mentions together, with a
# new `analyzed_at`: hashing that stands for its mention rows without reading them.
REVIEW_DIGESTS = """
SELECT r.location_id, date_trunc('week', timezone($zone, r.created_at))::DATE,
       bit_xor(hash(r.review_id, r.content_hash, r.source, r.created_at, r.reply_at, r.removed_at,
                    s.content_hash, s.score, s.label, s.is_safety, s.analyzer_version, s.analyzed_at))
FROM reviews r LEFT JOIN review_sentiment s USING (review_id)
GROUP BY ALL
"""
FLAG_DIGESTS = "SELECT location_id, week_start, bit_xor(hash(tf)) FROM theme_flags tf GROUP BY ALL"
CHANGE_TOKEN = """
SELECT (SELECT max(import_id) FROM imports WHERE status = 'ok'), (SELECT count(*) FROM reviews),
       (SELECT count(*) FROM review_sentiment), (SELECT max(analyzed_at) FROM review_sentiment),
       (SELECT bit_xor(hash(tf)) FROM theme_flags tf)
"""
STATE_FILE = ".reviewpulse-site.json"


@dataclass
class ReportRun:
    """What a report run did: the pages it wrote and the newest whole-practice week page."""

    site_dir: Path
    pages: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    newest: Path | None = None

    def __str__(self) -> str:
        text = f"reports: wrote {len(self.pages)} page(s), {len(self.unchanged)} unchanged, in {self.site_dir}"
        return text if self.newest is None else f"{text}; newest week: {self.newest}"


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """A hash of the report code and templates: changing either rewrites every page."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("*.py"), *(root / "templates").glob("*")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def list_report_weeks(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime) -> list[date]:
    """Every finished week (before the current one, in the practice's time zone) from the first review's."""
    first = con.execute("SELECT min(created_at) FROM reviews WHERE removed_at IS NULL").fetchone()[0]
    if first is None:
        return []
    last = shift_week(week_of(now, settings.zone), -1)
    return list_weeks(week_of(first, settings.zone), last) if week_of(first, settings.zone) <= last else []


def _read_fingerprint(path: Path) -> str | None:
    try:
        with path.open("rb") as fp:
            match = _FINGERPRINT.search(fp.read(4096))
    except OSError:
        return None
    return match.group(1).decode() if match else None


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, so a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fp:
            fp.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Fingerprints:
    """Cheap digests of the rows each page reads, computed once per run (one query per table)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings):
        self.reviews: dict[tuple[str | None, date], int] = {
            (loc, week): h for loc, week, h in queries.execute(con, REVIEW_DIGESTS, {"zone": settings.timezone}).fetchall()
        }
        for (_, week), h in list(self.reviews.items()):  # the whole practice: every location's digest combined
            self.reviews[(None, week)] = self.reviews.get((None, week), 0) ^ h
        self.flags: dict[tuple[str, date], int] = {(loc, week): h for loc, week, h in con.execute(FLAG_DIGESTS).fetchall()}
        self.analysed_ever = con.execute(queries.ANALYSED_EVER).fetchone()[0] > 0
        self.names = _names(settings)
        everything = [sorted(self.reviews.items(), key=str), sorted(self.flags.items(), key=str)]
        self.everything = hashlib.sha256(json.dumps(everything, default=str).encode()).hexdigest()

    def _digest(self, *parts: object) -> str:
        text = "\x1f".join([_code_digest(), self.names, str(self.analysed_ever), *(json.dumps(p, default=str) for p in parts)])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def page(self, location_id: str | None, week: date, nav: dict) -> str:
        """A week page: its 12 weeks of reviews, its flags, its navigation."""
        window = [self.reviews.get((location_id, shift_week(week, -i)), 0) for i in range(TREND_WEEKS)]
        return self._digest("week", nav, location_id, week, window, self.flags.get((location_id or "*", week), 0))

    def whole(self, kind: str, *parts: object) -> str:
        """The index or a theme's page: they read every week of the site."""
        return self._digest(kind, self.everything, *parts)

    def quarter(self, theme: str, quarter: str, weeks: list[date]) -> str:
        """A theme's quarter page: the reviews of its weeks for the whole practice."""
        return self._digest("quarter", theme, quarter, weeks, [self.reviews.get((None, w), 0) for w in weeks])


def _names(settings: Settings) -> str:
    """Everything from the settings that a page shows."""
    return json.dumps(
        [settings.practice, settings.timezone, settings.reports.mask_names,
         [(loc.id, loc.name) for loc in settings.locations], sorted(load_theme_labels(settings).items())]
    )


def _change_token(con: duckdb.DuckDBPyConnection, settings: Settings, site_weeks: list[date]) -> str:
    """A digest of what can change the site, from a few aggregates that do not read reviews' rows."""
    row = con.execute(CHANGE_TOKEN).fetchone()
    parts = [_code_digest(), _names(settings), [str(v) for v in row], [str(w) for w in site_weeks[:1] + site_weeks[-1:]]]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _read_state(site_dir: Path) -> dict | None:
    try:
        state = json.loads((site_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("files"), list) else None


def build_nav(week: date, present: set[date], locations: list[tuple[str, str]]) -> dict:
    """The navigation of a week page: its neighbours (when they have pages) and the locations."""
    previous, following = shift_week(week, -1), shift_week(week, 1)
    return {
        "previous": label_week(previous) if previous in present else None,
        "next": label_week(following) if following in present else None,
        "locations": locations,
    }


def write_week_page(
    con: duckdb.DuckDBPyConnection, settings: Settings, week: date, location_id: str | None, nav: dict,
    fingerprint: str = "",
) -> Path:
    """Build and write one week's page (and its e-mail summary) for the practice or one location.

    Side effects: writes `<site_dir>/<iso week>/<page>.html` and `.email.json`; returns the page.
    """
    page = settings.site_dir / paths.week_page(label_week(week), location_id)
    report = build_context(con, settings, location_id, week)
    html = render_page("week.html", report=report, nav=nav, root="../", practice=settings.practice,
                       timezone=settings.timezone, fingerprint=fingerprint)
    _write_atomically(page, html)
    _write_atomically(page.with_suffix(".email.json"),
                      json.dumps(render_summary(report, page.name), ensure_ascii=False, indent=1))
    return page


def write_reports(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    weeks: list[date] | None = None,
    now: datetime | None = None,
) -> ReportRun:
    """Write the week pages (default: every finished week), the index and the theme pages.

    Side effects: creates and overwrites files under `settings.site_dir`; reads the database only.
    Week pages whose inputs did not change since they were written are left as they are.
    """
    now = now or datetime.now(timezone.utc)
    for week in weeks or []:
        if week.weekday() != 0:
            raise ValueError(f"report weeks must start on a Monday, got {week.isoformat()}")
    finished = list_report_weeks(con, settings, now)
    targets = sorted(set(weeks)) if weeks is not None else finished
    site_weeks = sorted(set(finished) | set(targets))
    if site_weeks:
        site_weeks = list_weeks(site_weeks[0], site_weeks[-1])  # consecutive, for navigation and trends
    site_dir = settings.site_dir
    run = ReportRun(site_dir)
    token = _change_token(con, settings, site_weeks) if weeks is None else None
    state = _read_state(site_dir) if token is not None else None
    if state is not None and state.get("token") == token and all((site_dir / f).is_file() for f in state["files"]):
        run.unchanged = [site_dir / f for f in state["files"] if f.endswith(".html")]
        newest = site_dir / paths.week_page(label_week(site_weeks[-1]), None) if site_weeks else None
        run.newest = newest if newest is not None and newest.exists() else None
        return run
    prints = _Fingerprints(con, settings)
    locations = [(loc.id, loc.name) for loc in settings.locations]
    present = set(site_weeks)

    def write_if_changed(page: Path, fingerprint: str, write, companion: Path | None = None) -> None:
        if _read_fingerprint(page) == fingerprint and (companion is None or companion.exists()):
            run.unchanged.append(page)
            return
        write(fingerprint)
        run.pages.append(page)

    def render_to(page: Path, template: str, build, root: str = "../"):
        def write(fingerprint: str) -> None:
            _write_atomically(page, render_page(template, page=build(), root=root, practice=settings.practice,
                                                timezone=settings.timezone, fingerprint=fingerprint))
        return write

    for week in targets:
        nav = build_nav(week, present, locations)
        for location_id in [None, *(loc_id for loc_id, _ in locations)]:
            page = site_dir / paths.week_page(label_week(week), location_id)
            write_if_changed(page, prints.page(location_id, week, nav),
                             lambda f, w=week, loc=location_id, n=nav: write_week_page(con, settings, w, loc, n, f),
                             companion=page.with_suffix(".email.json"))

    if site_weeks:
        quarters = group_quarters(site_weeks)
        for theme in list_themes(con, settings):
            write_if_changed(
                site_dir / paths.theme_page(theme), prints.whole("theme", theme, site_weeks[0], site_weeks[-1]),
                render_to(site_dir / paths.theme_page(theme), "theme.html",
                          lambda t=theme: build_theme_context(con, settings, t, site_weeks)),
            )
            for quarter, members in quarters.items():
                page = site_dir / paths.theme_page(theme, quarter)
                write_if_changed(page, prints.quarter(theme, quarter, members), render_to(
                    page, "theme_quarter.html", lambda t=theme, q=quarter, m=members: build_theme_quarter_context(con, settings, t, q, m)))
    index = site_dir / "index.html"
    write_if_changed(index, prints.whole("index", site_weeks[:1], site_weeks[-1:]),
                     render_to(index, "index.html", lambda: build_index_context(con, settings, site_weeks), root=""))
    if site_weeks:
        newest = site_dir / paths.week_page(label_week(site_weeks[-1]), None)
        run.newest = newest if newest.exists() else None
    if token is not None:
        pages = run.pages + run.unchanged
        files = [str(p.relative_to(site_dir)) for p in pages]
        files += [str(p.with_suffix(".email.json").relative_to(site_dir)) for p in pages if p.parent != site_dir
                  and p.parent.name != "themes"]
        _write_atomically(site_dir / STATE_FILE, json.dumps({"token": token, "files": sorted(files)}, indent=0))
    return run
