"""docs/report.md: the SQL an analyst runs gives the same figures as the report's build_context()."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest import approx

from report_fixtures import WEEK, build_database, build_settings
from reports.context import build_context
from reports.weeks import shift_week

DOC = Path(__file__).resolve().parents[1] / "docs" / "report.md"


@pytest.fixture(scope="module")
def queries():
    """The doc's SQL blocks, moved from its example (Northside, 2026-W46) to the fixture's main location and week."""
    text = DOC.read_text(encoding="utf-8")
    dates = {"2026-11-09": WEEK, "2026-11-02": shift_week(WEEK, -1), "2026-10-12": shift_week(WEEK, -4), "2026-08-24": shift_week(WEEK, -11)}
    for example, week in dates.items():
        text = text.replace(f"DATE '{example}'", f"DATE '{week.isoformat()}'")
    text = text.replace("'northside'", "'main'")
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    return [stmt.strip() for block in blocks for stmt in block.split(";") if stmt.strip()]


@pytest.fixture(scope="module")
def answers(tmp_path_factory, queries):
    folder = tmp_path_factory.mktemp("sql")
    con = build_database(folder)
    results = [con.execute(sql).fetchall() for sql in queries]
    report = build_context(con, build_settings(folder), "main", WEEK)
    con.close()
    return results, report


def test_the_headline_sql_gives_the_headline_figures(answers):
    (periods, *_), report = answers
    rows = {row[0]: row[1:] for row in periods}
    for figure in report.figures:
        column = [f.key for f in report.figures].index(figure.key)
        this, last, previous = rows["this week"][column], rows["last week"][column], rows["previous 4 weeks"][column]
        if figure.key == "new_reviews":
            previous = previous / 4
        assert (figure.value, figure.last_week, figure.previous_four) == (approx(this), approx(last), approx(previous)), figure.key


def test_the_flag_quote_sparkline_reply_impact_trend_and_source_sql_agree(answers):
    (_, flags, quotes, sparkline, needs_reply, impact, trend, sources, staff), report = answers
    assert [(t, s, n) for t, s, n, _ in flags] == [(f.theme, f.status, f.complaints) for f in report.flagged]
    assert [r[0] for r in quotes] == [q.review_id for q in report.flagged[0].quotes]
    assert [r[3] for r in quotes] == ["".join(s.text for s in q.segments if s.marked) for q in report.flagged[0].quotes]
    weeks = dict(sparkline)
    assert [p.value for p in report.flagged[0].sparkline.points] == [weeks.get(shift_week(WEEK, i - 11), 0) for i in range(12)]
    assert [r[0] for r in needs_reply] == [q.review_id for q in report.needs_reply]
    assert [(t, n, approx(avg), approx(diff)) for t, n, avg, diff in impact] == [
        (i.theme, i.reviews, i.average_without, i.impact) for i in report.impacts
    ]
    by_week = {w: (n, rating, sentiment) for w, n, rating, sentiment in trend}
    assert [by_week.get(shift_week(WEEK, i - 11), (0, None, None))[0] for i in range(12)] == list(report.trend.reviews)
    assert [(s, n, approx(a), approx(neg), approx(rep)) for s, n, a, neg, rep in sources] == [
        (b.key, b.reviews, b.average_rating, b.share_negative, b.reply_rate) for b in report.by_source
    ]
    assert {(name, pol): n for name, pol, n in staff} == {(s.name, "praise"): s.praise for s in report.staff}
