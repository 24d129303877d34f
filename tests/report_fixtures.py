"""A small practice database with known answers, for the report tests.

Reviews are imported through the real import store; the analysis tables (review_sentiment, mentions,
staff_mentions, theme_flags) are filled with known rows directly, so the report tests do not depend
on the analyzer's exact output. The report week is 2026-W09 (Mon 23 Feb - Sun 1 Mar 2026,
America/Chicago); "now" is Wednesday of the following week.

    week        review  loc   stars  sentiment          reply     mentions
    2025-W40    old1    main  1      -                  none      phone_access complaint
    2026-W05    m6      main  5      0.8 positive       none      -
    2026-W05    m7      main  4      (not analysed)     none      -
    2026-W07    e3      east  1      -0.6 negative      after 48h phone_access complaint
    2026-W08    m4      main  5      0.7 positive       after 2h  front_desk praise
    2026-W08    m5      main  3      -0.2 neutral       none      phone_access complaint
    2026-W09    m1      main  1      -0.8 negative      none      phone_access + front_desk complaints
    2026-W09    m2      main  4      0.1 mixed          after 6h  provider_manner praise, callbacks complaint, Dr. Lee praise
    2026-W09    m3      main  5      0.9 positive       after 24h wait_time praise
    2026-W09    e1      east  2      -0.5 negative      none      phone_access complaint (text holds HTML payloads)
    2026-W09    e2      east  -      -0.3 negative      none      billing complaint (Sunday 20:00 local = Monday UTC)
    2026-W09    gone    main  1      -                  none      removed from the platform: never counted
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

import db
from config import Email, Location, Reports, Settings
from ingest.model import Review
from ingest.store import ImportTarget, save_import

ZONE = ZoneInfo("America/Chicago")
WEEK = date(2026, 2, 23)
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)
XSS_TEXT = (
    "On hold for 40 minutes and nobody picked up. <script>window.__pwned = 1; alert(1)</script> "
    "<img src=x onerror=\"window.__pwned = 2; alert(2)\"> \u202eTerrible\u202c"
)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time of the practice as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(timezone.utc)


@dataclass(frozen=True)
class Row:
    key: str
    platform: str
    location: str
    rating: int | None
    text: str
    created: datetime
    reply_after_hours: float | None = None
    author: str = "Pat Example"


D = timedelta
ROWS = [
    Row("old1", "google", "main", 1, "Nobody ever answers the phone.", local(date(2025, 10, 1), 9)),
    Row("m6", "google", "main", 5, "Excellent care from everyone.", local(WEEK - D(weeks=4, days=-1), 10), author="Maria Lopez"),
    Row("m7", "google", "main", 4, "Good.", local(WEEK - D(weeks=4, days=-2), 10)),
    Row("e3", "ratemd", "east", 1, "Nobody answers the phone, ever.", local(WEEK - D(weeks=2, days=-1), 9), 48),
    Row("m4", "google", "main", 5, "Lovely front desk staff.", local(WEEK - D(weeks=1, days=-1), 9), 2),
    Row("m5", "google", "main", 3, "The phone rang forever before anyone picked up.", local(WEEK - D(weeks=1, days=-2), 9)),
    Row("m1", "google", "main", 1, "I called five times and nobody answered the phone. The front desk was rude.", local(WEEK, 9), author="John Q. Public"),
    Row("m2", "google", "main", 4, "Dr. Lee was wonderful. I would give 5 stars but they never called me back about my results.", local(WEEK + D(days=1), 10), 6),
    Row("m3", "google", "main", 5, "Great visit, no wait at all.", local(WEEK + D(days=2), 11), 24),
    Row("e1", "ratemd", "east", 2, XSS_TEXT, local(WEEK + D(days=5), 12), author="<b>Eve</b> \u202eAttacker"),
    Row("e2", "ratemd", "east", None, "Had to pay $600 upfront before seeing anyone.", local(WEEK + D(days=6), 20)),
    Row("gone", "google", "main", 1, "This review was taken down.", local(WEEK + D(days=3), 9)),
]

# (review key, theme, polarity, evidence substring)
MENTIONS = [
    ("old1", "phone_access", "complaint", "Nobody ever answers the phone."),
    ("e3", "phone_access", "complaint", "Nobody answers the phone, ever."),
    ("m4", "front_desk", "praise", "Lovely front desk staff."),
    ("m5", "phone_access", "complaint", "The phone rang forever before anyone picked up."),
    ("m1", "phone_access", "complaint", "I called five times and nobody answered the phone."),
    ("m1", "front_desk", "complaint", "The front desk was rude."),
    ("m2", "provider_manner", "praise", "Dr. Lee was wonderful."),
    ("m2", "callbacks", "complaint", "they never called me back about my results."),
    ("m3", "wait_time", "praise", "no wait at all."),
    ("e1", "phone_access", "complaint", "On hold for 40 minutes and nobody picked up."),
    ("e2", "billing", "complaint", "Had to pay $600 upfront before seeing anyone."),
    ("gone", "phone_access", "complaint", "This review was taken down."),
]
SENTIMENT = {
    "e3": (-0.6, "negative"), "m6": (0.8, "positive"), "m4": (0.7, "positive"), "m5": (-0.2, "neutral"),
    "m1": (-0.8, "negative"), "m2": (0.1, "mixed"), "m3": (0.9, "positive"), "e1": (-0.5, "negative"),
    "e2": (-0.3, "negative"),
}
# (location, theme, status, complaints, baseline) for the report week.
FLAGS = [
    ("*", "phone_access", "rising", 2, 0.5),
    ("*", "billing", "new", 1, 0.0),
    ("*", "callbacks", None, 1, 0.2),
    ("main", "phone_access", "recurring", 1, 0.5),
    ("east", "phone_access", "rising", 1, 0.2),
    ("east", "billing", "new", 1, 0.0),
]


def review_id(key: str) -> str:
    row = next(r for r in ROWS if r.key == key)
    return f"{row.platform}:{key}"


def build_settings(tmp_path: Path, *, mask_names: bool = False, email: Email | None = None) -> Settings:
    return Settings(
        practice="Riverside Family Medicine",
        timezone="America/Chicago",
        data_dir=tmp_path / "state",
        locations=[Location(id="main", name="Main Street"), Location(id="east", name="East Side")],
        reports=Reports(dir=tmp_path / "site", mask_names=mask_names, email=email),
    )


def import_reviews(con: duckdb.DuckDBPyConnection, rows: list[Row]) -> None:
    """Import `rows` through the real store, one import per platform."""
    for platform in sorted({r.platform for r in rows}):
        reviews = [
            Review(
                source_review_id=r.key,
                text=r.text,
                rating=r.rating,
                author=r.author,
                created_at=r.created,
                updated_at=r.created,
                reply_text="Thank you for your feedback." if r.reply_after_hours is not None else None,
                reply_at=r.created + timedelta(hours=r.reply_after_hours) if r.reply_after_hours is not None else None,
                location_ref=r.location,
            )
            for r in rows
            if r.platform == platform
        ]
        target = ImportTarget(source=platform, source_type="google" if platform == "google" else "csv", platform=platform, origin=f"{platform}.export")
        save_import(con, target, reviews, lambda review: review.location_ref)


def insert_analysis(con: duckdb.DuckDBPyConnection) -> None:
    """Known rows in the analysis tables (what an analyzer would have written)."""
    texts = {r.key: r.text for r in ROWS}
    now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    for key, (score, label) in SENTIMENT.items():
        con.execute(
            "INSERT INTO review_sentiment SELECT review_id, content_hash, ?, ?, ?, ?, false, false, 'test', ?, created_at"
            " FROM reviews WHERE review_id = ?",
            [score, score, label, label == "mixed", now, review_id(key)],
        )
    for key, theme, polarity, evidence in MENTIONS:
        start = texts[key].index(evidence)
        con.execute(
            "INSERT INTO mentions SELECT $id, 0, $start, $end, $theme, $polarity, NULL, 'fixture', 'test', created_at"
            " FROM reviews WHERE review_id = $id",
            {"id": review_id(key), "start": start, "end": start + len(evidence), "theme": theme, "polarity": polarity},
        )
    start = texts["m2"].index("Dr. Lee")
    con.execute(
        "INSERT INTO staff_mentions SELECT $id, 'Dr. Lee', 'physician', 'Dr. Lee', 0, $start, $end, 'praise', 0.6, 'test', created_at"
        " FROM reviews WHERE review_id = $id",
        {"id": review_id("m2"), "start": start, "end": start + len("Dr. Lee")},
    )
    for location, theme, status, complaints, baseline in FLAGS:
        con.execute(
            "INSERT INTO theme_flags VALUES (?, ?, '2026-W09', ?, ?, 0, ?, 0.01, ?)",
            [location, WEEK, theme, complaints, baseline, status],
        )


def build_database(tmp_path: Path, *, analysed: bool = True) -> duckdb.DuckDBPyConnection:
    """The fixture database in tmp_path/state/reviewpulse.duckdb (open, for writing)."""
    con = db.connect(tmp_path / "state" / "reviewpulse.duckdb", timezone="America/Chicago")
    import_reviews(con, ROWS)
    con.execute("UPDATE reviews SET removed_at = ? WHERE review_id = ?", [NOW, review_id("gone")])
    if analysed:
        insert_analysis(con)
    return con
