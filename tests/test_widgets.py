"""Review widgets on a practice's web pages: Trustindex, the Google Reviews Widget and schema.org."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from db import connect
from errors import ParseError
from ingest import widgets
from ingest.collect import collect_paths
from ingest.summaries import Summary

from conftest import FIXTURES, write_config
from config import load_settings

PAGES = FIXTURES / "collectors"
SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def read(name: str, tz=timezone.utc) -> widgets.Page:
    with (PAGES / name).open("rb") as fp:
        return widgets.parse_page(fp, file=name, tz=tz)


def rows(page: widgets.Page) -> list[tuple]:
    return [(r.author, r.rating, r.created_at, r.text, r.reply_text, r.reply_at) for r in page.reviews]


def test_trustindex_cards_including_template_rating_only_and_translated():
    page = read("trustindex_page.html")
    assert rows(page) == [
        ("Priya Raman", 5, utc(2024, 6, 1, 12, 0),
         "Dr. Okafor listened to every question & never rushed me.\nThe front desk called back the same afternoon 🙏",
         None, None),
        ("Sean O'Brien", 2, utc(2024, 5, 18, 12, 15),
         "Waited 55 minutes past my appointment time and nobody said why. The phone line rings out every morning.",
         None, None),
        ("Marta Nowak", 4, utc(2024, 5, 1), "Bardzo miła pielęgniarka, krótkie oczekiwanie.", None, None),
        ("Dev Patel", 5, utc(2024, 4, 1), None, None, None),  # a rating-only card
        # from the <template>; its copy of Priya's card is not counted twice
        ("Grace Liu", 1, utc(2024, 3, 1),
         "They asked for $240 upfront before I was even seen. No one mentioned it when I booked.", None, None),
    ]
    assert page.summaries == [Summary("trustindex", None, 1284, None, 4)]
    assert {r.raw["platform"] for r in page.reviews} == {"Google"}


def test_trustindex_date_text_is_used_when_there_is_no_data_time():
    html = (
        '<div class="ti-widget"><div class="ti-review-item source-Google" data-empty="0">'
        '<div class="ti-name">Ana</div><div class="ti-date">2024-02-03</div>'
        '<span class="ti-stars"><span class="ti-star f"></span><span class="ti-star f"></span>'
        '<span class="ti-star f"></span><span class="ti-star h"></span><span class="ti-star e"></span></span>'
        '<div class="ti-review-content">Fine.</div></div>'
        '<div class="ti-review-item source-Google"><div class="ti-name">Bo</div><div class="ti-date">3 weeks ago</div>'
        '<span class="ti-stars"><span class="ti-star f"></span></span><div class="ti-review-content">Ok</div></div></div>'
    ).encode()
    page = widgets.parse_page(io.BytesIO(html), file="p.html", tz=ZoneInfo("America/Chicago"))
    assert [(r.author, r.rating, r.created_at) for r in page.reviews] == [
        ("Ana", 4, utc(2024, 2, 3, 6, 0)),  # midnight in the practice's zone; 3.5 stars shown as 4
        ("Bo", 1, None),  # a relative date is not a date
    ]


def test_google_reviews_widget_removes_clamp_markers_and_keeps_hidden_text():
    page = read("google_reviews_widget_page.html")
    assert rows(page) == [
        ("Alicia Moreno", 5, utc(2022, 6, 30, 15, 34),
         "The whole team treats you like family. I have been a patient here for six years now and every visit is "
         "unhurried and kind, and Dr. Haddad explains each option …they genuinely changed how I manage my asthma!",
         None, None),
        ("Brian Kowalski", 3, utc(2022, 5, 19, 22, 20),
         "Dr. Haddad was patient and explained everything clearly. The nurses were lovely as well. I would have "
         "given 5 stars but at check-in I was told to pay $450 upfront. That should have been mentioned in the "
         "confirmation call.", None, None),
        # the patient's own "..." stays; only the widget's marker goes
        ("Chloe Nguyen", 1, utc(2022, 3, 25, 14, 13),
         "My doctor is great, but the office staff is another story. They never call you back when they say they "
         "will. I've given up... four voicemails in a week and still no answer. Nobody picks up the phone.",
         None, None),
        ("Daniel Okoye", 4, utc(2022, 3, 16, 16, 28),
         "Quick visit, friendly staff, clean waiting room. Only complaint: no coffee 😀", None, None),
        ("Ewa Lindqvist", 4, utc(2021, 4, 16, 16, 20),  # beyond the first page, hidden until "More reviews"
         "Good care once you get in. Getting an appointment by phone is nearly impossible – every time I call I "
         "end up in voicemail.", None, None),
    ]
    for review in page.reviews:
        assert "read more" not in review.text and "... " not in review.text.replace("up... four", "")
    # the article's own star rating (a CreativeWorkSeries) is not the practice's summary
    assert page.summaries == [Summary("google_reviews_widget", "Cedar Grove Family Practice", 312, 4.6, 5)]


def test_google_reviews_widget_grid_layout_with_owner_reply_and_anonymous_reviewer():
    page = read("google_reviews_widget_grid.html")
    assert rows(page) == [
        ("Farah Siddiqui", 2, datetime.fromtimestamp(1733840000, timezone.utc),
         "Billing sent my account to collections over a $35 copay I had already paid.",
         "Farah, we are sorry. Our billing manager has reversed the collection notice & will call you today.",
         datetime.fromtimestamp(1734012800, timezone.utc)),
        (None, 5, datetime.fromtimestamp(1731240000, timezone.utc), None, None, None),
    ]
    assert page.summaries == [Summary("google_reviews_widget", "Cedar Grove Family Practice", 1312, 4.6, 2)]


def test_schema_org_json_ld_reviews_and_aggregate_skipping_broken_blocks():
    page = read("schema_jsonld_page.html")
    assert rows(page) == [
        ("Hannah K.", 5, utc(2024, 2, 14),
         "Nurse Jo calmed my toddler down in seconds. Same-day sick visit, in and out in 40 minutes.", None, None),
        ("Luis M.", 3, utc(2024, 1, 30, 14, 15),  # 6 of 10 is 3 stars
         "The portal said my son's forms were ready, but no one could find them at the desk.", None, None),
    ]
    assert page.summaries == [Summary("schema.org", "Harbor Pediatrics", 96, 4.8, 2)]


def test_schema_org_microdata_in_an_undeclared_windows_1252_page():
    page = read("schema_microdata_page.html")
    assert rows(page) == [
        ("René Dubois", 2, utc(2023, 11, 2),
         "The hygienist was gentle – but I waited 50 minutes in the lobby.\nNobody apologised.", None, None),
        ("Ana", 5, utc(2023, 10, 20), "Painless filling & a very clear bill.", None, None),
    ]
    assert page.summaries == [Summary("schema.org", "Northside Dental", 57, 4.3, 2)]


def test_a_page_without_any_widget_is_an_error_naming_the_file():
    with pytest.raises(ParseError) as caught:
        widgets.parse_page(io.BytesIO(b"<html><body><h1>About us</h1></body></html>"), file="about.html")
    assert str(caught.value).startswith("about.html: no review widget found")


def test_review_text_is_never_markup_or_script():
    html = (
        '<div class="ti-widget"><div class="ti-review-item" data-time="1700000000"><div class="ti-name">'
        '<script>alert(1)</script>Eve</div><span class="ti-star f"></span>'
        '<div class="ti-review-content">&lt;b&gt;bold&lt;/b&gt; <style>p{}</style>claim<!-- hidden --></div></div></div>'
    ).encode()
    (review,) = widgets.parse_page(io.BytesIO(html), file="x.html").reviews
    assert (review.author, review.text) == ("Eve", "<b>bold</b> claim")


def test_widget_source_imports_reviews_and_stores_the_summary(tmp_path):
    write_config(tmp_path, '''
        [[sources]]
        name = "website"
        type = "widget"
        location = "main"
        path = "site/reviews.html"
    ''')
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "reviews.html").write_bytes((PAGES / "google_reviews_widget_page.html").read_bytes())
    settings = load_settings(tmp_path / "reviewpulse.toml", environ={})
    con = connect(settings.database_path)
    try:
        (result,) = [r for r in collect_paths(con, settings) if r.origin.endswith("reviews.html")]
        assert (result.status, result.rows_seen, result.rows_new) == ("ok", 5, 5)
        assert con.execute(
            "SELECT source, kind, subject, review_count, average_rating, reviews_listed, stored_count, import_id"
            " FROM source_summaries"
        ).fetchall() == [("website", "google_reviews_widget", "Cedar Grove Family Practice", 312, 4.6, 5, 5, result.import_id)]
        assert con.execute("SELECT DISTINCT source, location_id FROM reviews").fetchall() == [("website", "main")]
    finally:
        con.close()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not available")
def test_seed_page_text_shows_the_clamp_style_the_parser_removes():
    """The seed (a practice page saved as text) shows what the widget markup renders to."""
    seed = next(SEEDS.glob("004_*.txt")).read_text(encoding="utf-8")
    assert "Based on 905 reviews" in seed and "read more" in seed
    assert datetime.strptime("15:34 30 Jun 22", widgets._WIDGET_TIME).replace(tzinfo=timezone.utc) == utc(2022, 6, 30, 15, 34)
    clamped = [line for line in seed.splitlines() if line.endswith("read more")]
    assert clamped and all(not widgets.clean_text(line, clamped=True).endswith("read more") for line in clamped)


def test_a_saved_page_dropped_in_the_inbox_goes_to_the_widget_or_wordpress_source(tmp_path):
    write_config(tmp_path, '''
        [[sources]]
        name = "blog"
        type = "wordpress"
        location = "main"
        path = "unused/blog.html"

        [[sources]]
        name = "website"
        type = "widget"
        location = "main"
        path = "unused/reviews.html"
    ''')
    settings = load_settings(tmp_path / "reviewpulse.toml", environ={})
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True)
    (inbox / "reviews.html").write_bytes((PAGES / "trustindex_page.html").read_bytes())
    (inbox / "comments.html").write_bytes((PAGES / "wordpress_comments.html").read_bytes())
    from ingest.collect import collect_inbox

    con = connect(settings.database_path)
    try:
        results = collect_inbox(con, settings)
        assert sorted((r.origin.rsplit("/", 1)[-1], r.status, r.rows_new) for r in results) == [
            ("comments.html", "ok", 4), ("reviews.html", "ok", 5)
        ]
        assert con.execute("SELECT source, count(*) FROM reviews GROUP BY ALL ORDER BY ALL").fetchall() == [
            ("blog", 4), ("website", 5)
        ]
    finally:
        con.close()
