"""build_context(): every figure of the weekly report against a database with known answers.

The database (tests/report_fixtures.py) holds a dozen reviews around the report week 2026-W09 with
known sentiment, mentions, staff mentions and theme flags; the expected values below are worked out
by hand from that table.
"""

from __future__ import annotations

from datetime import date

import pytest
from pytest import approx

from report_fixtures import WEEK, build_database, build_settings, review_id
from reports.context import build_context
from reports.text import Segment


@pytest.fixture
def con(tmp_path):
    con = build_database(tmp_path)
    yield con
    con.close()


@pytest.fixture
def settings(tmp_path):
    return build_settings(tmp_path)


def figures(report):
    return {f.key: (f.value, f.last_week, f.previous_four) for f in report.figures}


def marked(view):
    return [s.text for s in view.segments if s.marked]


def test_headline_figures_compare_with_last_week_and_the_four_weeks_before(con, settings):
    report = build_context(con, settings, None, WEEK)

    assert report.iso_week == "2026-W09"
    assert (report.week_start, report.week_end) == (date(2026, 2, 23), date(2026, 3, 1))
    got = figures(report)
    # This week: m1 m2 m3 e1 e2 (e2 is Sunday 20:00 in Chicago, already Monday in UTC; "gone" was removed).
    assert got["new_reviews"] == (5, 2, approx(5 / 4))
    assert got["average_rating"] == (approx(3.0), approx(4.0), approx(18 / 5))
    # Negative: 1-2 stars, or unrated and labelled negative (e2).
    assert got["share_negative"] == (approx(3 / 5), approx(0.0), approx(1 / 5))
    # Sentiment averages the analysed reviews only (m7 was never analysed).
    assert got["sentiment"] == (approx(-0.6 / 5), approx(0.5 / 2), approx(0.7 / 4))
    assert got["reply_rate"] == (approx(2 / 5), approx(1 / 2), approx(2 / 5))
    assert got["median_reply_hours"] == (approx(15.0), approx(2.0), approx(25.0))
    rating = report.figure("average_rating")
    assert rating.change_last_week == approx(-1.0)
    assert rating.change_previous_four == approx(3.0 - 3.6)
    assert (report.reviews_this_week, report.analysed_this_week, report.themes_analysed) == (5, 5, True)


def test_flagged_themes_come_first_with_status_baseline_sparkline_and_highlighted_quotes(con, settings):
    report = build_context(con, settings, None, WEEK)

    assert [(f.theme, f.status, f.complaints, f.baseline) for f in report.flagged] == [
        ("phone_access", "rising", 2, 0.5),  # rising before new
        ("billing", "new", 1, 0.0),
    ]
    phone = report.flagged[0]
    assert [q.review_id for q in phone.quotes] == [review_id("m1"), review_id("e1")]
    assert marked(phone.quotes[0]) == ["I called five times and nobody answered the phone."]
    assert marked(phone.quotes[1]) == ["On hold for 40 minutes and nobody picked up."]
    # Complaints per week over the 12 weeks ending this one: e3 in W07, m5 in W08, m1 and e1 in W09.
    assert [p.value for p in phone.sparkline.points] == [0] * 9 + [1, 1, 2]
    assert phone.sparkline.points[-1].label == "2026-W09"
    # Callbacks had a complaint but was not flagged; it is listed with the other complaints.
    assert [(t.theme, t.reviews) for t in report.other_complaints] == [("callbacks", 1), ("front_desk", 1)]


def test_quotes_keep_review_text_as_data_without_bidi_controls(con, settings):
    report = build_context(con, settings, None, WEEK)
    e1 = report.flagged[0].quotes[1]

    text = "".join(s.text for s in e1.segments)
    assert "<script>window.__pwned = 1; alert(1)</script>" in text  # escaped by the template, not here
    assert "\u202e" not in text and "\u202c" not in text
    assert e1.author == "<b>Eve</b> Attacker"
    assert e1.anchor.startswith("r-") and "script" not in e1.anchor


def test_praise_themes_and_named_staff(con, settings):
    report = build_context(con, settings, None, WEEK)

    assert [(t.theme, t.reviews, [marked(q) for q in t.quotes]) for t in report.praise] == [
        ("provider_manner", 1, [["Dr. Lee was wonderful."]]),
        ("wait_time", 1, [["no wait at all."]]),
    ]
    assert [(s.name, s.role, s.praise, s.complaint, s.neutral) for s in report.staff] == [("Dr. Lee", "physician", 1, 0, 0)]
    assert marked(report.staff[0].quotes[0]) == ["Dr. Lee"]


def test_reviews_needing_a_reply_are_unanswered_complaints_of_twelve_weeks_oldest_first(con, settings):
    report = build_context(con, settings, None, WEEK)

    # m5 is a 3-star review with a complaint mention; e2 is unrated but negative; e3 and m2 were
    # answered; old1 is older than 12 weeks; "gone" was removed.
    assert [q.review_id for q in report.needs_reply] == [review_id(k) for k in ("m5", "m1", "e1", "e2")]
    assert [t for t, _, _ in report.needs_reply[1].themes] == ["front_desk", "phone_access"]
    assert marked(report.needs_reply[1]) == ["I called five times and nobody answered the phone.", "The front desk was rude."]


def test_theme_impact_is_the_average_rating_without_the_reviews_complaining_about_it(con, settings):
    report = build_context(con, settings, None, WEEK)

    # 12 weeks of rated reviews: m6 5, m7 4, e3 1, m4 5, m5 3, m1 1, m2 4, m3 5, e1 2 -> 30 / 9.
    assert report.average_rating_12_weeks == approx(30 / 9)
    assert [(i.theme, i.reviews, i.average_without, i.impact) for i in report.impacts] == [
        ("phone_access", 4, approx(23 / 5), approx(23 / 5 - 30 / 9)),  # e3 m5 m1 e1
        ("front_desk", 1, approx(29 / 8), approx(29 / 8 - 30 / 9)),
        ("callbacks", 1, approx(26 / 8), approx(26 / 8 - 30 / 9)),  # a 4-star complaint lowers nothing
    ]


def test_trend_and_breakdowns(con, settings):
    report = build_context(con, settings, None, WEEK)

    assert report.trend.weeks[0] == "2025-W50" and report.trend.weeks[-1] == "2026-W09"
    assert report.trend.reviews == (0,) * 7 + (2, 0, 1, 2, 5)
    assert report.trend.average_rating[-5:] == (approx(4.5), None, approx(1.0), approx(4.0), approx(3.0))
    assert report.trend.sentiment[-5:] == (approx(0.8), None, approx(-0.6), approx(0.25), approx(-0.12))
    assert [(b.key, b.reviews, b.average_rating, b.share_negative, b.reply_rate) for b in report.by_source] == [
        ("google", 3, approx(10 / 3), approx(1 / 3), approx(2 / 3)),
        ("ratemd", 2, approx(2.0), approx(1.0), approx(0.0)),
    ]
    assert [(b.key, b.name, b.reviews) for b in report.by_location] == [("main", "Main Street", 3), ("east", "East Side", 2)]
    assert [r.review_id for r in report.reviews] == [review_id(k) for k in ("m1", "m2", "m3", "e1", "e2")]


def test_a_location_report_counts_only_that_location_and_uses_its_own_flags(con, settings):
    report = build_context(con, settings, "east", WEEK)

    assert report.scope_name == "East Side"
    got = figures(report)
    assert got["new_reviews"] == (2, 0, approx(1 / 4))
    assert got["average_rating"] == (approx(2.0), None, approx(1.0))
    assert [(f.theme, f.status) for f in report.flagged] == [("phone_access", "rising"), ("billing", "new")]
    assert [q.review_id for q in report.flagged[0].quotes] == [review_id("e1")]
    assert [q.review_id for q in report.needs_reply] == [review_id("e1"), review_id("e2")]
    assert report.by_location == ()
    main = build_context(con, settings, "main", WEEK)
    assert [(f.theme, f.status) for f in main.flagged] == [("phone_access", "recurring")]


def test_reviewer_names_can_be_masked_to_initials(con, tmp_path):
    report = build_context(con, build_settings(tmp_path, mask_names=True), None, WEEK)

    assert [q.author for q in report.flagged[0].quotes] == ["J. Q. P.", "B. E. B."]


def test_before_analysis_the_review_figures_are_there_and_themes_are_marked_not_analysed(tmp_path, settings):
    con = build_database(tmp_path, analysed=False)
    report = build_context(con, settings, None, WEEK)

    got = figures(report)
    assert got["new_reviews"] == (5, 2, approx(5 / 4))
    assert got["average_rating"] == (approx(3.0), approx(4.0), approx(18 / 5))
    assert got["share_negative"] == (approx(2 / 4), approx(0.0), approx(1 / 5))  # e2 is unrated and unscored
    assert got["sentiment"] == (None, None, None)
    assert (report.themes_analysed, report.flagged, report.praise, report.impacts) == (False, (), (), ())
    # Without analysis, 1-2 star reviews without a reply still need one.
    assert [q.review_id for q in report.needs_reply] == [review_id("m1"), review_id("e1")]
    con.close()


def test_an_empty_week_has_zero_reviews_and_no_figures(con, settings):
    report = build_context(con, settings, None, date(2026, 2, 2))

    got = figures(report)
    assert got["new_reviews"] == (0, 2, approx(2 / 4))
    assert got["average_rating"][0] is None and got["median_reply_hours"][0] is None
    assert report.reviews == () and report.flagged == ()


def test_week_start_must_be_a_monday(con, settings):
    with pytest.raises(ValueError, match="Monday"):
        build_context(con, settings, None, date(2026, 2, 24))


def test_segments_split_overlapping_spans_and_excerpt_long_text():
    from reports.text import split_marked

    assert split_marked("abc def ghi", [(4, 7), (5, 9), (50, 60)]) == [Segment("abc "), Segment("def g", True), Segment("hi")]
    long = "word " * 200 + "the evidence here" + " tail" * 200
    start = long.index("the evidence")
    excerpt = split_marked(long, [(start, start + len("the evidence here"))], excerpt=True)
    assert excerpt[0] == Segment("… ") and excerpt[-1] == Segment(" …")
    assert [s.text for s in excerpt if s.marked] == ["the evidence here"]
    assert len("".join(s.text for s in excerpt)) < 600
