"""The weekly page reads its scope of reviews once, and its figures do not depend on storage order.

`reviews` is stored in import order: a practice imports one export after another, each spanning
years. The report copies the page's reviews (the location's 12 weeks) into a temporary table once
and every query reads that. These tests build a three-year history imported as three exports in
scrambled order, and check the page against what a reader would count by hand from the same
reviews, against the same reviews imported in time order, and that the temporary table is gone
once the page is built (also on a read-only connection and when a query fails).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

import db
from ingest.model import Review
from ingest.store import ImportTarget, save_import
from report_fixtures import ZONE, build_settings, local
from reports import queries
from reports.context import NEEDS_REPLY_SHOWN, WEEK_REVIEWS_SHOWN, build_context
from reports.weeks import shift_week, week_of

WEEK = date(2026, 2, 23)  # the report week, 2026-W09 (America/Chicago)
FIRST_WEEK = shift_week(WEEK, -11)
BUSY = 130  # reviews in the report week: more than the whole-practice page lists
COMPLAINT = "Nobody answered the phone for an hour."


def build_history(seed: int = 8) -> list[dict]:
    """Three years of reviews at two locations, one or two a day, and a busy report week."""
    rng = random.Random(seed)
    rows = []
    day = WEEK - timedelta(days=3 * 365)
    while day < WEEK + timedelta(days=7):
        per_day = BUSY // 7 + (1 if day.weekday() < BUSY % 7 else 0) if day >= WEEK else rng.choice([1, 2])
        for i in range(per_day):
            rating = rng.choice([1, 2, 3, 4, 5, 5, None])
            complains = rating is not None and rating <= 2 or rating is None and rng.random() < 0.5
            replied = rng.random() < 0.4
            key = f"r{len(rows):05d}"
            rows.append({
                "key": key,
                "location": rng.choice(["main", "east"]),
                "rating": rating,
                "created": local(day, 6) + timedelta(minutes=40 * i + rng.randrange(40)),
                "text": f"{COMPLAINT} Review {key}." if complains else f"Friendly staff, review {key}.",
                "author": f"Reviewer {key}",
                "reply_at": replied,
                "complaint": complains,
                # Multiples of 1/8 sum exactly in any order: both databases give the same averages.
                "score": None if rng.random() < 0.1 else rng.randrange(-8, 9) / 8,
            })
        day += timedelta(days=1)
    return rows


def import_history(path: Path, rows: list[dict], *, scrambled: bool) -> duckdb.DuckDBPyConnection:
    """Import `rows` as three exports (each spanning the whole history, shuffled) or as one, in time order."""
    con = db.connect(path, timezone="America/Chicago")
    if scrambled:
        shuffled = rows[:]
        random.Random(1).shuffle(shuffled)
        exports = [shuffled[i::3] for i in range(3)]
    else:
        exports = [rows]
    for n, export in enumerate(exports):
        reviews = [
            Review(
                source_review_id=r["key"], text=r["text"], rating=r["rating"], author=r["author"],
                created_at=r["created"], updated_at=r["created"],
                reply_text="Thank you." if r["reply_at"] else None,
                reply_at=r["created"] + timedelta(hours=5) if r["reply_at"] else None,
                location_ref=r["location"],
            )
            for r in export
        ]
        target = ImportTarget(source="google", source_type="google", platform="google", origin=f"export-{n}.json")
        save_import(con, target, reviews, lambda review: review.location_ref)
    # The analysis writes its rows in time order, with the review's created_at.
    analysed = datetime(2026, 3, 2, tzinfo=timezone.utc)
    for r in sorted(rows, key=lambda r: r["created"]):
        rid = f"google:{r['key']}"
        if r["score"] is not None:
            label = "negative" if r["score"] < 0 else "positive"
            con.execute(
                "INSERT INTO review_sentiment SELECT review_id, content_hash, ?, ?, ?, false, false, false, 'test', ?, created_at"
                " FROM reviews WHERE review_id = ?", [r["score"], r["score"], label, analysed, rid])
        if r["complaint"]:
            con.execute(
                "INSERT INTO mentions SELECT review_id, 0, 0, ?, 'phone_access', 'complaint', NULL, 'fixture', 'test', created_at"
                " FROM reviews WHERE review_id = ?", [len(COMPLAINT), rid])
    return con


@pytest.fixture(scope="module")
def history():
    return build_history()


@pytest.fixture(scope="module")
def databases(tmp_path_factory, history):
    folder = tmp_path_factory.mktemp("scope")
    for name, scrambled in (("scrambled", True), ("ordered", False)):
        import_history(folder / f"{name}.duckdb", history, scrambled=scrambled).close()
    return folder


@pytest.fixture
def scrambled(databases):
    con = db.connect(databases / "scrambled.duckdb", read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return build_settings(tmp_path_factory.mktemp("settings"))


def in_scope(history, location=None):
    """The reviews a page of the report week looks at: its location's, in the 12 weeks."""
    return [r for r in history if FIRST_WEEK <= week_of(r["created"], ZONE) <= WEEK
            and (location is None or r["location"] == location)]


def count_temporary_tables(con) -> int:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]


def test_the_reviews_were_stored_out_of_time_order(scrambled):
    """The premise: in import order, the newest week's reviews are spread over the whole table."""
    created = [row[0] for row in scrambled.execute("SELECT created_at FROM reviews ORDER BY rowid").fetchall()]
    assert created != sorted(created)
    assert scrambled.execute("SELECT count(DISTINCT origin) FROM imports").fetchone()[0] == 3


@pytest.mark.parametrize("location", [None, "main"])
def test_a_page_shows_what_a_reader_counts_from_its_reviews(scrambled, settings, history, location):
    report = build_context(scrambled, settings, location, WEEK)
    scope = in_scope(history, location)
    per_week = Counter(week_of(r["created"], ZONE) for r in scope)
    assert list(report.trend.reviews) == [per_week[shift_week(FIRST_WEEK, i)] for i in range(12)]
    week = sorted((r for r in scope if week_of(r["created"], ZONE) == WEEK), key=lambda r: r["created"])
    assert report.reviews_this_week == len(week)
    rated = [r["rating"] for r in week if r["rating"] is not None]
    assert report.figure("average_rating").value == pytest.approx(sum(rated) / len(rated))
    assert report.figure("reply_rate").value == pytest.approx(sum(r["reply_at"] for r in week) / len(week))

    # Listed: every review of a location's week; the first 100 on the whole-practice page.
    listed = week[:WEEK_REVIEWS_SHOWN] if location is None else week
    assert [(v.review_id, v.author, "".join(s.text for s in v.segments)) for v in report.reviews] == [
        (f"google:{r['key']}", r["author"], r["text"]) for r in listed
    ]
    # Complaints (a complaint mention, a negative label or 1-2 stars) without a reply over the 12
    # weeks, oldest first: the first 100 and their number; the evidence marked where there is one.
    def is_complaint(r):
        return r["complaint"] or (r["score"] is not None and r["score"] < 0) or (r["rating"] or 3) <= 2

    waiting = sorted((r for r in scope if is_complaint(r) and not r["reply_at"]), key=lambda r: r["created"])
    assert report.needs_reply_count == len(waiting)
    assert [(v.review_id, v.author, "".join(s.text for s in v.segments if s.marked)) for v in report.needs_reply] == [
        (f"google:{r['key']}", r["author"], COMPLAINT if r["complaint"] else "") for r in waiting[:NEEDS_REPLY_SHOWN]
    ]
    # The theme's quotes are its week's first complaints, with their text.
    complaints = [r for r in week if r["complaint"]]
    (theme,) = [t for t in report.other_complaints if t.theme == "phone_access"]  # no flags in this history
    assert theme.reviews == len(complaints)
    assert [q.review_id for q in theme.quotes] == [f"google:{r['key']}" for r in complaints[:10]]
    assert all(q.segments[0].text == COMPLAINT and q.segments[0].marked for q in theme.quotes)


@pytest.mark.parametrize("location", [None, "main", "east"])
def test_the_page_is_the_same_whatever_order_the_reviews_were_imported_in(databases, settings, location):
    reports = []
    for name in ("scrambled", "ordered"):
        con = db.connect(databases / f"{name}.duckdb", read_only=True)
        try:
            reports.append(build_context(con, settings, location, WEEK))
        finally:
            con.close()
    scrambled, ordered = reports
    assert scrambled.reviews_this_week > 0 and scrambled.needs_reply
    assert scrambled == ordered


def test_the_scope_table_is_dropped_after_each_page_on_a_writable_connection(databases, settings, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes((databases / "scrambled.duckdb").read_bytes())
    con = db.connect(copy, timezone="America/Chicago")
    try:
        first = build_context(con, settings, None, WEEK)
        assert count_temporary_tables(con) == 0
        assert build_context(con, settings, None, WEEK) == first  # a second page on the same connection
        assert count_temporary_tables(con) == 0
    finally:
        con.close()


def test_the_scope_table_works_and_is_dropped_on_a_read_only_connection(scrambled, settings):
    build_context(scrambled, settings, "east", WEEK)
    assert count_temporary_tables(scrambled) == 0


def test_a_failing_query_leaves_no_scope_table_behind(scrambled, settings, monkeypatch):
    monkeypatch.setattr(queries, "WEEK_FLAGS", "SELECT * FROM no_such_table")
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        build_context(scrambled, settings, None, WEEK)
    assert count_temporary_tables(scrambled) == 0


def test_a_scope_table_name_is_checked_before_it_is_written_into_sql(scrambled):
    with pytest.raises(ValueError, match="not a scope table name"):
        queries.execute(scrambled, queries.DROP_SCOPE_TABLE, {"scope": "x; DROP TABLE reviews"})
