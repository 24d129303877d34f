"""The weekly flag rule on constructed counts, and theme_flags written from real analysed reviews."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from analysis.flags import flag_week, iso_week, poisson_upper_tail
from analysis.pipeline import analyze_pending
from db import connect
from ingest.model import Review
from ingest.store import ImportTarget, save_import


def test_poisson_upper_tail_is_exact():
    assert poisson_upper_tail(0, 2.0) == 1.0
    assert poisson_upper_tail(1, 2.0) == pytest.approx(1 - 0.1353352832, abs=1e-9)
    assert poisson_upper_tail(3, 0.5) == pytest.approx(0.0143876, abs=1e-6)
    assert poisson_upper_tail(2, 0.0) == 0.0


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, 1], "new"),            # first complaint after 8 quiet weeks
        ([2, 0, 0, 0, 0, 0, 0, 0, 0, 3], "new"),         # 9 weeks ago is outside the baseline window
        ([2, 0, 0, 0, 0, 0, 0, 0, 3], "rising"),         # 8 weeks ago is inside: 3 against 0.25 a week
        ([0, 0, 0, 0, 0, 1, 0, 0, 4], "rising"),         # 4 against 1/8 a week
        ([1, 1, 1, 1, 1, 1, 1, 1, 2], "recurring"),      # 2 against a steady 1 is no spike (p = 0.26)
        ([0, 0, 0, 0, 0, 1, 1, 0, 1], "recurring"),      # 3 of the last 4 weeks
        ([0, 0, 0, 0, 0, 1, 1, 1, 0], None),             # a quiet week is not flagged, however recent the run
        ([0, 0, 0, 0, 0, 0, 1, 0, 1], None),             # only 2 of the last 4
        ([0, 0, 0, 0, 0, 0, 0, 0, 0], None),
        ([0, 0, 0, 0, 0, 0, 0, 1, 1], None),             # 1 complaint: below the 2-complaint minimum for rising
        ([5], None),                                     # no earlier week: nothing to compare with
    ],
)
def test_flag_rule_on_constructed_counts(counts, status):
    assert flag_week(counts).status == status


def test_rising_wins_over_recurring_and_reports_baseline_and_p_value():
    flag = flag_week([0, 0, 0, 0, 0, 0, 1, 1, 6])
    assert flag.status == "rising"
    assert (flag.complaints, flag.baseline) == (6, 0.25)
    assert flag.p_value == pytest.approx(poisson_upper_tail(6, 0.25), abs=1e-6)
    steady = flag_week([3, 3, 3, 3, 3, 3, 3, 3, 4])
    assert (steady.status, steady.baseline) == ("recurring", 3.0)
    assert steady.p_value > 0.05


def test_short_history_uses_the_weeks_there_are():
    assert flag_week([0, 0, 2]).baseline == 0.0
    assert flag_week([0, 0, 2]).status == "new"
    assert flag_week([1, 3]).baseline == 1.0


def test_iso_week_label():
    assert iso_week(date(2026, 11, 9)) == "2026-W46"
    assert iso_week(date(2024, 12, 30)) == "2025-W01"


def _reviews(spec):
    """(location, days after Monday 2026-01-05 13:00 Chicago, text) -> Reviews."""
    start = datetime(2026, 1, 5, 19, 0, tzinfo=timezone.utc)  # 13:00 in Chicago
    return [
        Review(source_review_id=f"r{i}", text=text, rating=2, created_at=start + timedelta(days=day), location_ref=loc)
        for i, (loc, day, text) in enumerate(spec)
    ]


def test_theme_flags_per_location_week_and_practice(settings):
    phone = "Nobody answers the phone, I was on hold for an hour."
    spec = [("main", 7 * w, "The parking was fine.") for w in range(9)]          # weeks of history, no phone complaint
    spec += [("main", 7 * 9, phone), ("main", 7 * 9 + 1, phone), ("main", 7 * 9 + 2, phone)]  # week 10: 3 complaints
    spec += [("east", 7 * 9 + 3, phone)]
    con = connect(settings.database_path)
    target = ImportTarget("platform", "csv", "ratemd", "test")
    save_import(con, target, _reviews(spec), lambda r: r.location_ref)
    analyze_pending(con, settings)
    rows = con.execute(
        "SELECT location_id, week_start, iso_week, complaints, baseline, status FROM theme_flags"
        " WHERE theme = 'phone_access' ORDER BY location_id"
    ).fetchall()
    week10 = date(2026, 3, 9)
    assert rows == [
        ("*", week10, "2026-W11", 4, 0.0, "new"),
        ("east", week10, "2026-W11", 1, None, None),  # east's first week: no baseline yet
        ("main", week10, "2026-W11", 3, 0.0, "new"),
    ]
    con.close()


def test_week_boundaries_follow_the_practice_time_zone(settings):
    # Sunday 23:30 in Chicago is already Monday in UTC; the review belongs to the Chicago week.
    late_sunday = datetime(2026, 1, 12, 5, 30, tzinfo=timezone.utc)
    con = connect(settings.database_path)
    save_import(
        con, ImportTarget("platform", "csv", "ratemd", "test"),
        [Review(source_review_id="x", text="They never called me back.", rating=1, created_at=late_sunday, location_ref="main")],
        lambda r: r.location_ref,
    )
    analyze_pending(con, settings)
    assert con.execute("SELECT DISTINCT week_start FROM theme_flags").fetchall() == [(date(2026, 1, 5),)]
    con.close()


def test_a_new_time_zone_moves_the_flags_weeks_without_new_reviews(settings):
    late_sunday = datetime(2026, 1, 12, 5, 30, tzinfo=timezone.utc)  # Sunday in Chicago, Monday in UTC
    con = connect(settings.database_path)
    save_import(
        con, ImportTarget("platform", "csv", "ratemd", "test"),
        [Review(source_review_id="x", text="They never called me back.", rating=1, created_at=late_sunday, location_ref="main")],
        lambda r: r.location_ref,
    )
    analyze_pending(con, settings)
    summary = analyze_pending(con, settings.model_copy(update={"timezone": "UTC"}))
    assert summary.reviews_analyzed == 0
    assert con.execute("SELECT DISTINCT week_start FROM theme_flags").fetchall() == [(date(2026, 1, 12),)]
    again = analyze_pending(con, settings.model_copy(update={"timezone": "UTC"}))
    assert again.flags_written == 0  # nothing changed since
    con.close()
