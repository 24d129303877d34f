"""Google Business Profile exports: Takeout files and zips, and the API's ListReviewsResponse pages."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timezone

import pytest

from errors import ParseError
from ingest import gbp
from ingest.model import Review

from conftest import FIXTURES

TAKEOUT = FIXTURES / "google" / "account-42" / "location-1001" / "reviews.json"


def parse(path):
    with path.open("rb") as fp:
        return list(gbp.iter_reviews(fp, file=str(path)))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_takeout_file_gives_every_review_with_its_fields():
    reviews = parse(TAKEOUT)
    assert [r.source_review_id for r in reviews] == ["AbC-111", "AbC-222", "AbC-333"]
    first = reviews[0]
    assert (first.author, first.rating, first.text) == (
        "Dana Whitfield", 5, "Dr. Okafor explained everything & the front desk was lovely. No wait at all!"
    )
    assert first.created_at == utc(2026, 3, 2, 15, 4, 5, 123456)
    assert (first.reply_text, first.reply_at) == ("Thank you, Dana!", utc(2026, 3, 3, 9))
    assert first.location_ref == "1001"
    assert first.raw["reviewId"] == "AbC-111"


def test_id_comes_from_name_and_anonymous_reviewers_have_no_author():
    second = parse(TAKEOUT)[1]
    assert second.source_review_id == "AbC-222"
    assert second.author is None
    assert second.updated_at == utc(2026, 3, 5, 8, 30)


def test_google_translation_is_reduced_to_the_original_text():
    assert parse(TAKEOUT)[1].text == "Nadie contesta el teléfono."


def test_star_only_review_has_no_text_but_keeps_rating_and_emoji_author():
    third = parse(TAKEOUT)[2]
    assert (third.text, third.rating, third.author, third.reply_text) == (None, 4, "Lee 🙂", None)


def test_api_page_is_read_like_a_takeout_file():
    reviews = parse(FIXTURES / "google" / "api_page.json")
    assert [(r.source_review_id, r.rating, r.location_ref) for r in reviews] == [
        ("AbC-111", 4, "1001"),
        ("AbC-444", 1, "1001"),
    ]


def test_takeout_zip_reads_every_location_file():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(TAKEOUT, "Takeout/Google Business Profile/account-42/location-1001/reviews.json")
        archive.writestr("Takeout/Google Business Profile/account-42/location-2002/reviews.json",
                         json.dumps({"reviews": [{"reviewId": "E-1", "starRating": "THREE",
                                                  "createTime": "2026-03-01T00:00:00Z"}]}))
        archive.writestr("Takeout/archive_browser.html", "<html></html>")
    buffer.seek(0)
    reviews = list(gbp.iter_reviews(buffer, file="takeout.zip"))
    assert [(r.source_review_id, r.location_ref) for r in reviews] == [
        ("AbC-111", "1001"), ("AbC-222", "1001"), ("AbC-333", "1001"), ("E-1", "2002"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"reviews": [{"reviewId": "x", "starRating": "FIVE",', "reviews.json: line 1 column 53: invalid JSON"),
        (b"", "reviews.json: the file is empty"),
        (b'{"type": "FeatureCollection", "features": []}', "reviews.json: this is a Google Maps 'Reviews.json'"),
        (b'{"reviews": [{"reviewId": "x", "starRating": "SIX", "createTime": "2026-01-01T00:00:00Z"}]}',
         "reviews.json: reviews[0]: starRating: rating 'SIX' is not a number of stars"),
        (b'{"reviews": [{"starRating": "FIVE", "createTime": "2026-01-01T00:00:00Z"}]}',
         "reviews.json: reviews[0]: review has neither reviewId nor a name"),
        (b'{"reviews": [{"reviewId": "x", "starRating": "FIVE", "createTime": "yesterday-ish"}]}',
         "reviews.json: reviews[0]: createTime: unrecognised date 'yesterday-ish'"),
    ],
)
def test_bad_google_files_fail_with_a_message_naming_file_and_record(content, message):
    with pytest.raises(ParseError) as info:
        list(gbp.iter_reviews(io.BytesIO(content), file="reviews.json"))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_review_objects_compare_as_whole_records():
    review = parse(FIXTURES / "google" / "api_page.json")[1]
    assert review == Review(
        source_review_id="AbC-444",
        text="They never call back when they say they will.",
        rating=1,
        author="Sam R.",
        created_at=utc(2026, 3, 10, 16, 45),
        updated_at=utc(2026, 3, 10, 16, 45),
        location_ref="1001",
        raw=review.raw,
    )
