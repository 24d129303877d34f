"""The Business Profile API against a loopback server: paging, incremental stops, snapshots, failures,
and the bearer token never leaving the Authorization header."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from config import load_settings
from db import connect
from ingest import fetch
from ingest.collect import collect_all, collect_api

from conftest import write_config

TOKEN = "ya29.a0AfB_test-Secret-Token-0123456789"
LOCATION = "accounts/42/locations/1001"
PATH = f"/v4/{LOCATION}/reviews"
FAST = fetch.FetchPolicy(timeout=2.0, attempts=2, wait_initial=0.01, wait_max=0.02, wait_jitter=0.0, retry_after_cap=0.05)


def review(n: int, stars: str = "FIVE", text: str | None = None, updated: str = "2024-05-01T10:00:00Z") -> dict:
    record = {
        "name": f"{LOCATION}/reviews/r{n}",
        "reviewId": f"r{n}",
        "reviewer": {"displayName": f"Patient {n}", "profilePhotoUrl": "https://lh3.googleusercontent.com/a/x"},
        "starRating": stars,
        "createTime": f"2024-04-{n:02d}T09:00:00.123Z",
        "updateTime": updated if n < 10 else f"2024-04-{n:02d}T09:00:00Z",
    }
    if text is not None or n % 2:
        record["comment"] = text or f"Review number {n}: the staff were kind."
    return record


def page(reviews: list[dict], next_token: str | None = None, total: int = 5, average: float = 4.2) -> dict:
    body = {"reviews": reviews, "averageRating": average, "totalReviewCount": total}
    if next_token:
        body["nextPageToken"] = next_token
    return body


def query(token: str | None = None) -> dict:
    q = {"pageSize": "50", "orderBy": "updateTime desc"}
    if token:
        q["pageToken"] = token
    return q


@pytest.fixture
def practice(tmp_path: Path, httpserver: HTTPServer):
    write_config(tmp_path, f'''
        [[sources]]
        name = "gbp"
        type = "gbp_api"
        api_base = "{httpserver.url_for("/").rstrip("/")}"
        gbp_locations = ["{LOCATION}"]
    ''')
    settings = load_settings(tmp_path / "reviewpulse.toml", environ={"REVIEWPULSE_GBP_TOKEN": TOKEN})
    con = connect(settings.database_path)
    yield settings, con
    con.close()


def expect_page(httpserver: HTTPServer, body: dict | bytes, token: str | None = None, **kw) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    httpserver.expect_ordered_request(
        PATH, query_string=query(token), headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_data(data, content_type="application/json", **kw)


def run(settings, con):
    with fetch.build_client(FAST) as client:
        return collect_api(con, settings, client, FAST)


def stored(con):
    return con.execute(
        "SELECT review_id, location_id, rating, removed_at IS NOT NULL FROM reviews ORDER BY review_id"
    ).fetchall()


def test_pages_until_next_page_token_is_absent_as_one_snapshot_import(httpserver, practice):
    settings, con = practice
    expect_page(httpserver, page([review(1), review(2)], "tok-2"))
    expect_page(httpserver, page([review(3), review(4)], "tok-3"), token="tok-2")
    expect_page(httpserver, page([review(5, "ONE")]), token="tok-3")
    (result,) = run(settings, con)
    httpserver.check_assertions()
    assert (result.status, result.rows_seen, result.rows_new) == ("ok", 5, 5)
    assert stored(con) == [(f"google:r{n}", "main", 1 if n == 5 else 5, False) for n in range(1, 6)]
    assert con.execute(
        "SELECT source, location_id, kind, subject, review_count, average_rating, reviews_listed, stored_count"
        " FROM source_summaries"
    ).fetchall() == [("gbp", "main", "gbp_api", LOCATION, 5, 4.2, 5, 5)]
    archived = Path(con.execute("SELECT archive_path FROM imports").fetchone()[0])
    assert [len(p["reviews"]) for p in json.loads(archived.read_bytes())] == [2, 2, 1]


def test_stops_at_the_first_page_of_stored_unchanged_reviews(httpserver, practice):
    settings, con = practice
    expect_page(httpserver, page([review(1), review(2)], "tok-2"))
    expect_page(httpserver, page([review(3)]), token="tok-2")
    run(settings, con)
    httpserver.clear()
    # Review 1 was edited (newest first); page 2 holds only known reviews, so page 3 is never asked for.
    edited = review(1, "TWO", "Changed my mind: nobody calls back.", updated="2024-06-01T08:00:00Z")
    expect_page(httpserver, page([edited, review(2)], "tok-2"))
    expect_page(httpserver, page([review(3)], "tok-3"), token="tok-2")
    (result,) = run(settings, con)
    httpserver.check_assertions()
    assert len(httpserver.log) == 2
    assert (result.status, result.rows_seen, result.rows_new, result.rows_updated, result.rows_removed) == ("ok", 3, 0, 1, 0)
    assert con.execute("SELECT rating, text FROM reviews WHERE review_id = 'google:r1'").fetchone() == (
        2, "Changed my mind: nobody calls back.")
    assert con.execute("SELECT count(*) FROM review_versions WHERE review_id = 'google:r1'").fetchone() == (2,)


def test_an_incremental_listing_removes_nothing_but_a_complete_one_does(httpserver, practice):
    settings, con = practice
    expect_page(httpserver, page([review(1), review(2), review(3)]))
    run(settings, con)
    httpserver.clear()
    expect_page(httpserver, page([review(1)], "tok-2"))  # unchanged: stops here, not a snapshot
    run(settings, con)
    assert [r[3] for r in stored(con)] == [False, False, False]
    httpserver.clear()
    expect_page(httpserver, page([review(1), review(3)]))  # the whole listing, without review 2
    (result,) = run(settings, con)
    assert result.rows_removed == 1
    assert stored(con) == [("google:r1", "main", 5, False), ("google:r2", "main", 5, True), ("google:r3", "main", 5, False)]


def test_truncated_json_on_a_later_page_fails_the_import_and_writes_nothing(httpserver, practice):
    settings, con = practice
    expect_page(httpserver, page([review(1)], "tok-2"))
    expect_page(httpserver, json.dumps(page([review(2)])).encode()[:40], token="tok-2")
    (result,) = run(settings, con)
    assert result.status == "failed"
    assert result.error.startswith(f"{httpserver.url_for(PATH)} page 2: line 1 column ") and "invalid JSON" in result.error
    assert stored(con) == [] and con.execute("SELECT count(*) FROM source_summaries").fetchone() == (0,)
    assert con.execute("SELECT status FROM imports").fetchall() == [("failed",)]


def test_server_errors_are_retried_then_recorded(httpserver, practice):
    settings, con = practice
    expect_page(httpserver, b'{"error": {"code": 500}}', status=500)
    expect_page(httpserver, page([review(1)]))
    (result,) = run(settings, con)
    assert (result.status, result.rows_new) == ("ok", 1)
    httpserver.clear()
    httpserver.expect_request(PATH).respond_with_data(b"{}", status=503)
    (result,) = run(settings, con)
    assert result.error == f"{httpserver.url_for(PATH)}?pageSize=50&orderBy=updateTime+desc: HTTP 503 SERVICE UNAVAILABLE after 2 attempts"


def test_a_refused_token_says_so(httpserver, practice):
    settings, con = practice
    httpserver.expect_request(PATH).respond_with_json({"error": {"code": 401, "status": "UNAUTHENTICATED"}}, status=401)
    (result,) = run(settings, con)
    assert result.status == "failed"
    assert result.error.endswith("HTTP 401 UNAUTHORIZED (the API token was refused: expired, or without access to this location?)")


def test_without_a_token_nothing_is_requested(httpserver, practice):
    settings, con = practice
    settings = settings.model_copy(update={"gbp_token": None})
    (result,) = run(settings, con)
    assert len(httpserver.log) == 0
    assert result.error == f"{httpserver.url_for(PATH)}: no API token; set the REVIEWPULSE_GBP_TOKEN environment variable"


def test_total_review_count_is_compared_with_what_is_listed(httpserver, practice, caplog):
    settings, con = practice
    expect_page(httpserver, page([review(1)], total=7))
    caplog.set_level(logging.WARNING, logger="reviewpulse.gbp_api")
    run(settings, con)
    assert f"{LOCATION}: the API says 7 reviews but listed 1" in caplog.text
    assert con.execute("SELECT review_count, stored_count FROM source_summaries").fetchall() == [(7, 1)]


def test_the_token_is_not_sent_to_another_host_on_redirect(httpserver: HTTPServer, practice):
    settings, con = practice
    seen = []
    other = httpserver.url_for("/elsewhere").replace("localhost", "127.0.0.1")
    httpserver.expect_ordered_request(PATH).respond_with_data(b"", status=302, headers={"Location": other})

    def record(request: Request) -> Response:
        seen.append(request.headers.get("Authorization"))
        return Response(json.dumps(page([review(1)])), content_type="application/json")

    httpserver.expect_ordered_request("/elsewhere").respond_with_handler(record)
    (result,) = run(settings, con)
    assert result.status == "ok" and seen == [None]


def test_the_token_never_appears_in_logs_database_or_files(httpserver: HTTPServer, practice, caplog, tmp_path):
    settings, con = practice
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included

    def echo(request: Request) -> Response:  # a hostile or buggy server echoing what it was sent
        return Response(f'{{"error": "{request.headers.get("Authorization")}"}}', status=400)

    expect_page(httpserver, page([review(1), review(2)], "tok-2"))
    expect_page(httpserver, page([review(3)]), token="tok-2")
    expect_page(httpserver, b'{"reviews": [', token=None)  # truncated: a failed import
    httpserver.expect_ordered_request(PATH).respond_with_handler(echo)
    expect_page(httpserver, b"", status=500)
    expect_page(httpserver, b"", status=500)
    results = []
    for _ in range(4):
        results += collect_all(con, settings, policy=FAST)
    assert [r.status for r in results if r.origin.endswith("/reviews")] == ["ok", "failed", "failed", "failed"]
    assert len(httpserver.log) == 6

    # logs: messages and every attribute of every record
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert all(TOKEN not in repr(value) for value in vars(record).values())
    # every text column of every table
    con.execute("CHECKPOINT")
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE data_type IN ('VARCHAR', 'JSON') AND table_schema = 'main'"
    ).fetchall():
        hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?', [f"%{TOKEN}%"]).fetchone()
        assert hits == (0,), f"{table}.{column}"
    con.close()
    # the database file and every other file written (archive, error files), in any form
    secret = TOKEN.encode()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".duckdb" for p in written) and any("archive" in p.parts for p in written)
    for path in written:
        assert secret not in path.read_bytes(), path
    # the server did receive it, in the header only
    assert all(req.headers.get("Authorization") == f"Bearer {TOKEN}" for req, _ in httpserver.log)
    assert all(TOKEN not in req.url for req, _ in httpserver.log)
