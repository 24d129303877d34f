"""`write_reports()`: the static site written by every report run.

Layout of `settings.site_dir` (every page self-contained, all links relative):

    index.html                      every week and location, every theme
    2026-W05/index.html             the week for the whole practice (+ index.email.json, the email summary)
    2026-W05/location-<id>.html     the week for one location (+ location-<id>.email.json)
    themes/<theme>.html             one theme: weekly trend, flags, every mention

A week page is skipped when a page with the same input fingerprint is already there (the fingerprint
covers the rows the page reads, the names it shows, its neighbours and the report code itself), so a
re-run rewrites only what changed. The index and theme pages are always rewritten.
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
from reports.overview import build_index_context, build_theme_context, list_themes
from reports.render import render_page
from reports.weeks import label_week, list_weeks, shift_week, week_of

_FINGERPRINT = re.compile(rb'<meta name="reviewpulse-fingerprint" content="([0-9a-f]{16,64})">')

REVIEW_DIGESTS = """
WITH m AS (SELECT review_id, bit_xor(hash(m)) AS h FROM mentions m GROUP BY review_id),
     st AS (SELECT review_id, bit_xor(hash(st)) AS h FROM staff_mentions st GROUP BY review_id)
SELECT r.location_id, date_trunc('week', timezone($zone, r.created_at))::DATE,
       bit_xor(hash(r.review_id, r.content_hash, r.source, r.created_at, r.reply_at, r.removed_at,
                    s.content_hash, s.score, s.label, s.is_safety, s.analyzer_version, m.h, st.h))
FROM reviews r LEFT JOIN review_sentiment s USING (review_id)
     LEFT JOIN m USING (review_id) LEFT JOIN st USING (review_id)
GROUP BY ALL
"""
FLAG_DIGESTS = "SELECT location_id, week_start, bit_xor(hash(tf)) FROM theme_flags tf GROUP BY ALL"


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
    """Cheap digests of the rows each week page reads, computed once per run."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings):
        self.reviews: dict[tuple[str, date], int] = {
            (loc, week): h for loc, week, h in queries.execute(con, REVIEW_DIGESTS, {"zone": settings.timezone}).fetchall()
        }
        self.flags: dict[tuple[str, date], int] = {(loc, week): h for loc, week, h in con.execute(FLAG_DIGESTS).fetchall()}
        self.analysed_ever = con.execute(queries.ANALYSED_EVER).fetchone()[0] > 0
        self.names = json.dumps(
            [settings.practice, settings.timezone, settings.reports.mask_names,
             [(loc.id, loc.name) for loc in settings.locations], sorted(load_theme_labels(settings).items())]
        )

    def page(self, location_id: str | None, week: date, nav: dict) -> str:
        window = [shift_week(week, -i) for i in range(TREND_WEEKS)]
        parts = [_code_digest(), self.names, str(self.analysed_ever), json.dumps(nav, default=str), str(location_id), str(week)]
        for day in window:
            if location_id is None:
                combined = 0
                for (loc, w), h in self.reviews.items():
                    if w == day:
                        combined ^= h
                parts.append(str(combined))
            else:
                parts.append(str(self.reviews.get((location_id, day), 0)))
        parts.append(str(self.flags.get((location_id or "*", week), 0)))
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


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
    prints = _Fingerprints(con, settings)
    locations = [(loc.id, loc.name) for loc in settings.locations]
    present = set(site_weeks)

    for week in targets:
        iso = label_week(week)
        previous, following = shift_week(week, -1), shift_week(week, 1)
        nav = {
            "previous": label_week(previous) if previous in present else None,
            "next": label_week(following) if following in present else None,
            "locations": locations,
        }
        for location_id in [None, *(loc_id for loc_id, _ in locations)]:
            page = site_dir / paths.week_page(iso, location_id)
            summary = page.with_suffix(".email.json")
            fingerprint = prints.page(location_id, week, nav)
            if _read_fingerprint(page) == fingerprint and summary.exists():
                run.unchanged.append(page)
                continue
            report = build_context(con, settings, location_id, week)
            html = render_page("week.html", report=report, nav=nav, root="../", practice=settings.practice,
                               timezone=settings.timezone, fingerprint=fingerprint)
            _write_atomically(page, html)
            _write_atomically(summary, json.dumps(render_summary(report, page.name), ensure_ascii=False, indent=1))
            run.pages.append(page)

    if site_weeks:
        for theme in list_themes(con, settings):
            page = site_dir / paths.theme_page(theme)
            context = build_theme_context(con, settings, theme, site_weeks)
            _write_atomically(page, render_page("theme.html", page=context, root="../", practice=settings.practice,
                                                timezone=settings.timezone, fingerprint=""))
            run.pages.append(page)
    index = build_index_context(con, settings, site_weeks)
    _write_atomically(site_dir / "index.html", render_page("index.html", page=index, root="", practice=settings.practice,
                                                          timezone=settings.timezone, fingerprint=""))
    run.pages.append(site_dir / "index.html")
    if site_weeks:
        newest = site_dir / paths.week_page(label_week(site_weeks[-1]), None)
        run.newest = newest if newest.exists() else None
    return run
