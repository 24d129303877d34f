"""URL sources over HTTP, against a real server on loopback: validators, retries, limits, failures.

Every failure must end as one `failed` row in `imports` with a clear error, and write no review.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from config import load_settings
from db import connect
from ingest import fetch
from ingest.collect import collect_all, collect_urls

from conftest import FIXTURES, write_config

PAGE = (FIXTURES / "collectors" / "google_reviews_widget_page.html").read_bytes()
# Small waits so the retry paths run for real in a test.
FAST = fetch.FetchPolicy(timeout=2.0, attempts=3, wait_initial=0.01, wait_max=0.05, wait_jitter=0.0, retry_after_cap=2.0)


@pytest.fixture
def make_practice(tmp_path: Path):
    """Configure a practice whose widget source is `url`, and open its database."""
    opened = []

    def make(url: str, source_type: str = "widget"):
        write_config(tmp_path, f'''
            [[sources]]
            name = "website"
            type = "{source_type}"
            location = "main"
            url = "{url}"
        ''')
        settings = load_settings(tmp_path / "reviewpulse.toml", environ={})
        con = connect(settings.database_path)
        opened.append(con)
        return settings, con

    yield make
    for con in opened:
        con.close()


def run(settings, con, policy=FAST):
    with fetch.build_client(policy) as client:
        return collect_urls(con, settings, client, policy)


def imports(con):
    return con.execute("SELECT status, rows_seen, rows_new, error FROM imports ORDER BY import_id").fetchall()


def review_count(con):
    return con.execute("SELECT count(*) FROM reviews").fetchone()[0]


def test_page_is_imported_archived_and_not_reimported_when_the_server_says_304(httpserver: HTTPServer, make_practice):
    settings, con = make_practice(httpserver.url_for("/reviews"))
    etag, modified = '"v1-abc"', "Wed, 05 Jun 2024 10:00:00 GMT"
    httpserver.expect_ordered_request("/reviews").respond_with_data(
        PAGE, content_type="text/html; charset=utf-8", headers={"ETag": etag, "Last-Modified": modified}
    )
    httpserver.expect_ordered_request(
        "/reviews", headers={"If-None-Match": etag, "If-Modified-Since": modified}
    ).respond_with_data(b"", status=304)

    first = run(settings, con)
    second = run(settings, con)

    httpserver.check_assertions()
    assert [(r.status, r.rows_new) for r in first + second] == [("ok", 5), ("not_modified", 0)]
    archived = Path(con.execute("SELECT archive_path FROM imports WHERE status = 'ok'").fetchone()[0])
    assert archived.read_bytes() == PAGE and archived.is_relative_to(settings.archive_dir / "website")
    assert con.execute("SELECT etag, last_modified, import_id FROM http_cache").fetchall() == [(etag, modified, first[0].import_id)]
    assert review_count(con) == 5


def test_same_body_under_a_new_etag_is_a_skipped_duplicate(httpserver: HTTPServer, make_practice):
    settings, con = make_practice(httpserver.url_for("/reviews"))
    httpserver.expect_ordered_request("/reviews").respond_with_data(PAGE, headers={"ETag": '"a"'})
    httpserver.expect_ordered_request("/reviews", headers={"If-None-Match": '"a"'}).respond_with_data(PAGE, headers={"ETag": '"b"'})
    httpserver.expect_ordered_request("/reviews", headers={"If-None-Match": '"b"'}).respond_with_data(b"", status=304)
    statuses = [r.status for _ in range(3) for r in run(settings, con)]
    httpserver.check_assertions()
    assert statuses == ["ok", "skipped_duplicate", "not_modified"]


def test_429_waits_for_retry_after_then_succeeds(httpserver: HTTPServer, make_practice, caplog):
    settings, con = make_practice(httpserver.url_for("/reviews"))
    httpserver.expect_ordered_request("/reviews").respond_with_data(b"slow down", status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/reviews").respond_with_data(PAGE, content_type="text/html")
    caplog.set_level(logging.WARNING, logger="reviewpulse.fetch")
    started = time.monotonic()
    (result,) = run(settings, con)
    elapsed = time.monotonic() - started
    assert (result.status, result.rows_new) == ("ok", 5)
    assert 0.9 <= elapsed < 5  # the server's 1 s, not the policy's 0.01 s backoff
    assert "/reviews: HTTP 429 TOO MANY REQUESTS, retrying after 1.00s (Retry-After)" in caplog.text


def test_retry_after_is_capped(httpserver: HTTPServer, make_practice):
    settings, con = make_practice(httpserver.url_for("/reviews"))
    httpserver.expect_ordered_request("/reviews").respond_with_data(b"", status=503, headers={"Retry-After": "86400"})
    httpserver.expect_ordered_request("/reviews").respond_with_data(PAGE)
    started = time.monotonic()
    (result,) = run(settings, con, fetch.FetchPolicy(attempts=2, wait_jitter=0, retry_after_cap=0.05))
    assert result.status == "ok" and time.monotonic() - started < 5


def test_500_then_success(httpserver: HTTPServer, make_practice):
    settings, con = make_practice(httpserver.url_for("/reviews"))
    httpserver.expect_ordered_request("/reviews").respond_with_data(b"oops", status=500)
    httpserver.expect_ordered_request("/reviews").respond_with_data(PAGE)
    (result,) = run(settings, con)
    httpserver.check_assertions()
    assert (result.status, result.rows_new) == ("ok", 5)


def test_persistent_5xx_is_a_failed_import_after_the_attempts(httpserver: HTTPServer, make_practice):
    url = httpserver.url_for("/reviews")
    settings, con = make_practice(url)
    httpserver.expect_request("/reviews").respond_with_data(b"down", status=503)
    (result,) = run(settings, con)
    assert len(httpserver.log) == 3
    assert imports(con) == [("failed", 0, 0, f"{url}: HTTP 503 SERVICE UNAVAILABLE after 3 attempts")]
    assert review_count(con) == 0


def test_a_client_error_is_not_retried(httpserver: HTTPServer, make_practice):
    url = httpserver.url_for("/reviews")
    settings, con = make_practice(url)
    httpserver.expect_request("/reviews").respond_with_data(b"gone", status=404)
    run(settings, con)
    assert len(httpserver.log) == 1
    assert imports(con) == [("failed", 0, 0, f"{url}: HTTP 404 NOT FOUND")]


def test_timeout_is_retried_then_a_failed_import(httpserver: HTTPServer, make_practice):
    url = httpserver.url_for("/slow")
    settings, con = make_practice(url)

    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(PAGE)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    (result,) = run(settings, con, fetch.FetchPolicy(timeout=0.2, attempts=2, wait_initial=0.01, wait_jitter=0))
    assert imports(con) == [("failed", 0, 0, f"{url}: timed out (limit 0.2s) after 2 attempts")]
    assert review_count(con) == 0
    deadline = time.monotonic() + 5
    while len(httpserver.log) < 2 and time.monotonic() < deadline:  # let the server finish both slow answers
        time.sleep(0.05)
    assert len(httpserver.log) == 2


def test_connection_refused_is_a_failed_import(make_practice):
    url = "http://127.0.0.1:9/reviews"  # the discard port: nothing listens
    settings, con = make_practice(url)
    run(settings, con, fetch.FetchPolicy(timeout=1, attempts=2, wait_initial=0.01, wait_jitter=0))
    ((status, _, _, error),) = imports(con)
    assert status == "failed" and error.startswith(f"{url}: connection failed (ConnectError") and error.endswith("after 2 attempts")


def test_oversized_body_is_refused_by_content_length_and_while_streaming(httpserver: HTTPServer, make_practice):
    url = httpserver.url_for("/big")
    settings, con = make_practice(url)
    policy = fetch.FetchPolicy(max_bytes=1000, attempts=1)
    httpserver.expect_ordered_request("/big").respond_with_data(b"x" * 5000)

    def chunked(request: Request) -> Response:  # no Content-Length: the cap must hold while reading
        return Response((b"y" * 400 for _ in range(10)), content_type="text/html")

    httpserver.expect_ordered_request("/big").respond_with_handler(chunked)
    run(settings, con, policy)
    run(settings, con, policy)
    assert imports(con) == [
        ("failed", 0, 0, f"{url}: response of 5000 bytes is over the 1000-byte limit"),
        ("failed", 0, 0, f"{url}: response is over the 1000-byte limit (stopped reading)"),
    ]
    assert review_count(con) == 0 and not settings.archive_dir.exists()


def test_redirects_are_followed_within_http_but_never_to_another_scheme(httpserver: HTTPServer, make_practice):
    url = httpserver.url_for("/old")
    settings, con = make_practice(url)
    httpserver.expect_ordered_request("/old").respond_with_data(b"", status=301, headers={"Location": "/new"})
    httpserver.expect_ordered_request("/new").respond_with_data(PAGE)
    httpserver.expect_ordered_request("/old").respond_with_data(b"", status=302, headers={"Location": "file:///etc/passwd"})
    run(settings, con)
    con.execute("DELETE FROM http_cache")
    con.execute("UPDATE imports SET sha256 = NULL")  # make the second fetch a fresh import
    run(settings, con)
    assert [(s, n, e) for s, _, n, e in imports(con)] == [
        ("ok", 5, None),
        ("failed", 0, f"{url}: redirected to a file URL; only http(s) is followed"),
    ]


def test_a_page_that_does_not_parse_is_failed_with_nothing_written_but_its_body_archived(httpserver: HTTPServer, make_practice):
    url = httpserver.url_for("/reviews")
    settings, con = make_practice(url)
    httpserver.expect_request("/reviews").respond_with_data(b"<html><body>Site under maintenance</body></html>", headers={"ETag": '"m"'})
    run(settings, con)
    assert imports(con) == [("failed", 0, 0, f"{url}: no review widget found (looked for Trustindex .ti-review-item, "
                                              "Google Reviews Widget .wp-google-review, schema.org Review and AggregateRating)")]
    assert review_count(con) == 0
    assert con.execute("SELECT count(*) FROM http_cache").fetchone() == (0,)  # next run fetches it again in full
    assert Path(con.execute("SELECT archive_path FROM imports").fetchone()[0]).read_bytes().startswith(b"<html>")


def test_the_http_charset_decodes_a_page_without_a_meta_charset(httpserver: HTTPServer, make_practice):
    settings, con = make_practice(httpserver.url_for("/reviews"))
    body = ('<div class="ti-widget"><div class="ti-review-item" data-time="1700000000"><div class="ti-name">Zoë</div>'
            '<span class="ti-star f"></span><div class="ti-review-content">Très gentille – merci</div></div></div>')
    httpserver.expect_request("/reviews").respond_with_data(body.encode("cp1252"), content_type="text/html; charset=windows-1252")
    run(settings, con)
    assert con.execute("SELECT author, text FROM reviews").fetchall() == [("Zoë", "Très gentille – merci")]


def test_collect_all_runs_url_sources_with_its_own_client(httpserver: HTTPServer, make_practice):
    settings, con = make_practice(httpserver.url_for("/reviews"))
    httpserver.expect_request("/reviews").respond_with_data(PAGE)
    results = collect_all(con, settings, policy=FAST)
    assert [(r.origin, r.status, r.rows_new) for r in results if r.origin.startswith("http")] == [
        (httpserver.url_for("/reviews"), "ok", 5)
    ]


def test_only_http_urls_are_fetched():
    with fetch.build_client() as client:
        for url in ("file:///etc/passwd", "ftp://example.test/x.csv", "not a url"):
            with pytest.raises(fetch.FetchError, match="only http and https URLs are fetched|not a valid URL"):
                fetch.fetch(client, url)


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2024, 6, 5, 10, 0, tzinfo=timezone.utc)
    assert fetch.parse_retry_after("120", now) == 120
    assert fetch.parse_retry_after("Wed, 05 Jun 2024 10:00:30 GMT", now) == 30
    assert fetch.parse_retry_after("Wed, 05 Jun 2024 09:00:00 GMT", now) == 0
    assert fetch.parse_retry_after("soon", now) is None and fetch.parse_retry_after(None, now) is None
    assert now + timedelta(seconds=fetch.parse_retry_after("5", now)) == now + timedelta(seconds=5)


def test_truncated_json_export_from_a_url_is_a_failed_import_with_nothing_written(httpserver: HTTPServer, make_practice):
    url = httpserver.url_for("/export.json")
    settings, con = make_practice(url, source_type="google")
    whole = (FIXTURES / "google" / "api_page.json").read_bytes()
    httpserver.expect_request("/export.json").respond_with_data(whole[: len(whole) // 2], content_type="application/json")
    (result,) = run(settings, con)
    assert result.status == "failed"
    assert re.match(rf"{re.escape(url)}: line \d+ column \d+: invalid JSON: ", result.error), result.error
    assert review_count(con) == 0


def test_a_bad_record_half_way_through_a_fetched_export_writes_nothing(httpserver: HTTPServer, tmp_path, make_practice):
    url = httpserver.url_for("/outscraper.csv")
    settings, con = make_practice(url, source_type="outscraper")
    rows = (FIXTURES / "collectors" / "outscraper_reviews.csv").read_bytes().decode("utf-8-sig").split("\r\n")
    rows[3] = rows[3].replace(",4,", ",four and a half,")  # the last review's rating
    httpserver.expect_request("/outscraper.csv").respond_with_data("\r\n".join(rows).encode(), content_type="text/csv")
    (result,) = run(settings, con)
    assert result.status == "failed" and result.error == (
        f"{url}: line 5: column 'review_rating': rating 'four and a half' is not a number of stars")  # physical line
    assert review_count(con) == 0 and con.execute("SELECT count(*) FROM review_versions").fetchone() == (0,)
