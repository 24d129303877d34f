"""Property-based tests of every parser: any input ends in valid Reviews or one clean ParseError.

Each source type is fed arbitrary bytes and inputs shaped like its format (JSON review records,
CSV rows under the mapped header, HTML with the markup the widget readers look for). Whatever comes
out must be a Review a database row can hold; whatever goes wrong must be a ParseError with a
one-line message naming the file. Example counts stay modest so the file runs in seconds.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st

from config import Columns, Source
from errors import ParseError
from ingest import formats
from ingest.model import Review
from ingest.summaries import Summary

TZ = ZoneInfo("America/Chicago")
FILE = "input.bin"
COLUMNS = Columns(text="Comment", author="Patient", rating="Stars", date="Date", reply="Response", id="Review ID")
SOURCES = {
    "google": Source(name="google", type="google", path="x", location="main"),
    "gbp_api": Source(name="api", type="gbp_api", gbp_locations=["accounts/1/locations/2"], location="main"),
    "csv": Source(name="platform", type="csv", path="x", columns=COLUMNS, location="main"),
    "outscraper": Source(name="outscraper", type="outscraper", path="x", location="main"),
    "survey": Source(name="survey", type="survey", path="x", location="main"),
    "widget": Source(name="widget", type="widget", path="x", location="main"),
    "wordpress": Source(name="wordpress", type="wordpress", path="x", location="main"),
}
assert set(SOURCES) == set(formats.PARSERS), "a new parser needs a place in these properties"
_HIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_review(review: Review) -> None:
    """What the store needs of every review a parser yields."""
    assert isinstance(review, Review)
    assert review.rating is None or (type(review.rating) is int and 1 <= review.rating <= 5)
    for moment in (review.created_at, review.updated_at, review.reply_at):
        if moment is not None:
            assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
            assert 1990 <= moment.astimezone(timezone.utc).year <= 2100
    for value in (review.text, review.author, review.reply_text, review.question):
        assert value is None or (isinstance(value, str) and value.strip() and not _HIDDEN.search(value))
    for value in (review.source_review_id, review.location_ref):
        assert value is None or isinstance(value, str)
    json.dumps(review.raw, default=str)  # stored as JSON


def parse_all(kind: str, data: bytes) -> list[Review] | ParseError:
    """Run one parser to the end; return its reviews or its ParseError (anything else fails the test)."""
    try:
        reviews = list(formats.parse(io.BytesIO(data), file=FILE, source=SOURCES[kind], tz=TZ))
        if kind in ("widget", "outscraper"):
            for summary in formats.read_summaries(io.BytesIO(data), file=FILE, source=SOURCES[kind]):
                assert isinstance(summary, Summary)
    except ParseError as exc:
        message = str(exc)
        assert message.startswith(FILE) and "\n" not in message, message
        return exc
    for review in reviews:
        check_review(review)
    return reviews


@FAST
@given(kind=st.sampled_from(sorted(SOURCES)), data=st.binary(max_size=3000))
def test_arbitrary_bytes(kind, data):
    parse_all(kind, data)


# ---- JSON shaped like Google reviews

json_scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
stars = st.sampled_from(["ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "STAR_RATING_UNSPECIFIED", "", "5", 5, 0, 4.5, True, None])
times = st.sampled_from(["2026-03-02T15:04:05Z", "2026-02-30T10:00:00Z", "1800-01-01", "9999-12-31T23:59:59Z", "",
                         "yesterday", 0, 1_700_000_000, 1_700_000_000_000, 1e300, -1, None]) | st.text(max_size=25)
google_record = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["accounts/1/locations/1001/reviews/r1", "accounts/1/locations/x/reviews/", "x", ""]) | json_values,
        "reviewId": st.text(max_size=12) | json_values,
        "reviewer": st.fixed_dictionaries({}, optional={"displayName": st.text(max_size=20) | json_values,
                                                         "isAnonymous": st.booleans() | json_values}) | json_values,
        "starRating": stars | json_values,
        "comment": st.text(max_size=200) | json_values,
        "createTime": times | json_values,
        "updateTime": times,
        "reviewReply": st.fixed_dictionaries({}, optional={"comment": st.text(max_size=50) | json_values,
                                                            "updateTime": times}) | json_values,
    },
)
google_document = st.one_of(
    st.lists(google_record, max_size=4),
    st.fixed_dictionaries({"reviews": st.lists(google_record, max_size=4) | json_values},
                          optional={"averageRating": json_values, "totalReviewCount": json_values,
                                    "nextPageToken": json_values}),
    json_values,
)


@FAST
@given(document=google_document, kind=st.sampled_from(["google", "gbp_api"]))
def test_google_json_documents(document, kind):
    parse_all(kind, json.dumps(document, allow_nan=True).encode())


# ---- CSV rows under the headers each CSV reader expects

cell = st.text(max_size=40) | st.sampled_from(["5", "0", "6", "4.5", "-1", "five stars", "2026-02-30", "1800-01-01",
                                              "03/04/2026 14:05", "=HYPERLINK(\"x\")", "\"", "\r\n", "Main Street"])
HEADERS = {
    "csv": ["Review ID", "Clinic", "Patient", "Stars", "Date", "Comment", "Response"],
    "outscraper": ["name", "reviews", "rating", "review_id", "author_title", "review_rating", "review_text",
                   "review_datetime_utc", "review_timestamp", "owner_answer", "owner_answer_timestamp_datetime_utc"],
    "survey": ["Date", "Question", "Answer", "Rating", "Location"],
}


@FAST
@given(kind=st.sampled_from(sorted(HEADERS)), rows=st.lists(st.lists(cell, min_size=0, max_size=12), max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_csv_rows(kind, rows, encoding):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS[kind])
    writer.writerows(rows)
    parse_all(kind, out.getvalue().encode(encoding, errors="replace"))


# ---- HTML with the markup the widget and WordPress readers look for

attribute = st.sampled_from([
    'class="ti-widget"', 'class="ti-review-item"', 'class="ti-name"', 'class="ti-review-content"', 'class="ti-stars"',
    'class="ti-star f"', 'class="ti-date"', 'class="grw-review"', 'class="wp-google-name"', 'class="wp-google-feedback"',
    'class="wp-google-stars"', 'class="wp-star"', 'class="wp-google-time" data-time="1700000000"',
    'itemscope itemtype="https://schema.org/Review"', 'itemprop="reviewBody"', 'itemprop="ratingValue" content="7"',
    'itemprop="author"', 'itemprop="datePublished" content="2026-02-30"', 'class="comment"', 'id="comments"',
    'class="comment-body"', 'class="fn"', 'class="comment-content"', 'datetime="1800-01-01"', 'data-rating="4.5"',
    'style="display:none"', 'onerror="alert(1)"', "",
])
tag = st.sampled_from(["div", "span", "li", "ol", "p", "a", "img", "time", "meta", "section", "article"])
text_node = st.text(max_size=30).map(lambda s: s.replace("<", "&lt;"))
jsonld = google_document.map(lambda d: f'<script type="application/ld+json">{json.dumps(d)[:400]}</script>') | st.sampled_from([
    '<script type="application/ld+json">{"@type":"Review","reviewBody":"ok","reviewRating":{"ratingValue":"9","bestRating":"0"}}</script>',
    '<script type="application/ld+json">{"@type":"LocalBusiness","aggregateRating":{"ratingValue":"x","reviewCount":"-3"},"review":[{"@type":"Review","reviewBody":{"a":1}}]}</script>',
    '<script type="application/ld+json">[[[[[[</script>',
])
element = st.recursive(
    text_node,
    lambda inner: st.builds(lambda t, a, kids: f"<{t} {a}>{''.join(kids)}</{t}>", tag, attribute, st.lists(inner, max_size=3)),
    max_leaves=15,
)


@FAST
@given(kind=st.sampled_from(["widget", "wordpress"]), body=st.lists(element | jsonld, max_size=5))
def test_html_pages(kind, body):
    parse_all(kind, f"<!DOCTYPE html><html><head><meta charset=utf-8></head><body>{''.join(body)}</body></html>".encode())
