"""Servers that misbehave: slow, dripping, resetting, lying, redirecting elsewhere, or answering junk.

Each fault ends in a bounded number of attempts and one `failed` imports row whose error names the
URL and the cause, with no review written. The misbehaving servers are raw sockets on 127.0.0.1
(pytest-httpserver answers too politely for resets and drips) or pytest-httpserver where it can.
"""

from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from config import load_settings
from db import connect
from ingest import fetch
from ingest.collect import collect_urls
from errors import FetchError

from conftest import FIXTURES, write_config

FAST = fetch.FetchPolicy(timeout=0.5, attempts=3, wait_initial=0.01, wait_max=0.02, wait_jitter=0.0,
                         retry_after_cap=0.1, max_bytes=1024 * 1024, total_timeout=3.0)
GOOD_BODY = (FIXTURES / "google" / "api_page.json").read_bytes()


class RawServer:
    """A TCP server on loopback that hands each connection to `handle(conn)`; counts connections."""

    def __init__(self, handle: Callable[[socket.socket], None]):
        self.handle = handle
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/reviews.json"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            read_request(conn)
            self.handle(conn)
        except OSError:
            pass  # the client gave up first: that is what these tests provoke
        finally:
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(2)
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def reset(conn: socket.socket) -> None:
    """Close with an RST instead of a FIN, as a crashing server or a middlebox does."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


@pytest.fixture
def raw_server():
    servers = []

    def start(handle):
        server = RawServer(handle)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def practice(tmp_path: Path):
    opened = []

    def make(url: str):
        write_config(tmp_path, f'''
            [[sources]]
            name = "gbp_export"
            type = "google"
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


def collect_failure(settings, con) -> str:
    """Collect the URL source; assert the whole failure contract and return the error line."""
    with fetch.build_client(FAST) as client:
        (result,) = collect_urls(con, settings, client, FAST)
    assert result.status == "failed"
    assert "\n" not in result.error
    assert con.execute("SELECT count(*) FROM reviews").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM review_versions").fetchone() == (0,)
    assert con.execute("SELECT status, rows_seen FROM imports").fetchall() == [("failed", 0)]
    return result.error


# ---- faults a retry may cure: retried a bounded number of times, then one clear line


def test_a_server_that_never_answers_times_out_after_the_attempts(raw_server, practice):
    server = raw_server(lambda conn: time.sleep(2))
    settings, con = practice(server.url)
    started = time.monotonic()
    error = collect_failure(settings, con)
    assert error == f"{server.url}: timed out (limit 0.5s) after 3 attempts"
    assert server.connections == 3
    assert time.monotonic() - started < 5


def test_a_body_dripped_one_byte_at_a_time_is_cut_off_by_the_total_time_limit(raw_server, practice):
    # Each byte arrives within the read timeout, so only a limit on the whole response stops it.
    def drip(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(200):
            conn.sendall(b" ")
            time.sleep(0.1)

    server = raw_server(drip)
    settings, con = practice(server.url)
    started = time.monotonic()
    error = collect_failure(settings, con)
    assert error == f"{server.url}: the response took longer than the 3s limit (stopped reading)"
    assert time.monotonic() - started < 6
    assert server.connections == 1


def test_a_connection_reset_before_any_answer_is_retried_then_reported(raw_server, practice):
    server = raw_server(reset)
    settings, con = practice(server.url)
    error = collect_failure(settings, con)
    assert error.startswith(f"{server.url}: connection failed (")
    assert error.endswith(") after 3 attempts")
    assert server.connections == 3


def test_a_reset_half_way_through_the_body_writes_nothing(raw_server, practice):
    def half(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(GOOD_BODY))
        conn.sendall(GOOD_BODY[: len(GOOD_BODY) // 2])
        time.sleep(0.05)
        reset(conn)

    server = raw_server(half)
    settings, con = practice(server.url)
    error = collect_failure(settings, con)
    assert error.startswith(f"{server.url}: connection failed (") and error.endswith("after 3 attempts")
    assert server.connections == 3


def test_a_body_shorter_than_its_content_length_writes_nothing(raw_server, practice):
    def short(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(GOOD_BODY) + 500) + GOOD_BODY)

    server = raw_server(short)
    settings, con = practice(server.url)
    error = collect_failure(settings, con)
    assert error.startswith(f"{server.url}: connection failed (RemoteProtocolError")
    assert server.connections == 3


def test_an_answer_that_is_not_http_is_reported(raw_server, practice):
    server = raw_server(lambda conn: conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"))
    settings, con = practice(server.url)
    error = collect_failure(settings, con)
    assert error.startswith(f"{server.url}: connection failed (RemoteProtocolError")


def test_persistent_503_with_a_huge_retry_after_waits_only_the_capped_time(httpserver: HTTPServer, practice):
    httpserver.expect_request("/reviews.json").respond_with_data("busy", status=503, headers={"Retry-After": "86400"})
    settings, con = practice(httpserver.url_for("/reviews.json"))
    started = time.monotonic()
    error = collect_failure(settings, con)
    assert error == f"{httpserver.url_for('/reviews.json')}: HTTP 503 SERVICE UNAVAILABLE after 3 attempts"
    assert time.monotonic() - started < 2
    assert len(httpserver.log) == 3


# ---- faults a retry cannot cure: reported at once


def test_a_gzip_bomb_stops_at_the_size_cap_after_decompression(httpserver: HTTPServer, practice):
    bomb = gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < FAST.max_bytes  # small on the wire, 64 MiB once decoded
    httpserver.expect_request("/reviews.json").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    settings, con = practice(httpserver.url_for("/reviews.json"))
    error = collect_failure(settings, con)
    assert error == f"{httpserver.url_for('/reviews.json')}: response is over the 1048576-byte limit (stopped reading)"
    assert len(httpserver.log) == 1


def test_a_content_length_over_the_cap_is_refused_before_reading(raw_server, practice):
    def huge(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n")
        time.sleep(0.5)

    server = raw_server(huge)
    settings, con = practice(server.url)
    error = collect_failure(settings, con)
    assert error == f"{server.url}: response of 10737418240 bytes is over the 1048576-byte limit"
    assert server.connections == 1


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/reviews.json", "javascript:alert(1)",
                                      "data:application/json,{}", "gopher://127.0.0.1:70/"])
def test_a_redirect_to_another_scheme_is_refused(location, httpserver: HTTPServer, practice):
    httpserver.expect_request("/reviews.json").respond_with_data("", status=302, headers={"Location": location})
    settings, con = practice(httpserver.url_for("/reviews.json"))
    error = collect_failure(settings, con)
    scheme = location.split(":")[0]
    assert error in (f"{httpserver.url_for('/reviews.json')}: redirected to a {scheme} URL; only http(s) is followed",
                     f"{httpserver.url_for('/reviews.json')}: redirected to an invalid URL; only http(s) is followed")


def test_a_redirect_loop_ends_after_the_redirect_limit(httpserver: HTTPServer, practice):
    httpserver.expect_request("/reviews.json").respond_with_data("", status=301, headers={"Location": "/again"})
    httpserver.expect_request("/again").respond_with_data("", status=307, headers={"Location": "/reviews.json"})
    settings, con = practice(httpserver.url_for("/reviews.json"))
    error = collect_failure(settings, con)
    assert error == f"{httpserver.url_for('/reviews.json')}: more than 5 redirects"
    assert len(httpserver.log) == 6


def test_a_redirect_to_another_host_does_not_carry_the_credentials(httpserver: HTTPServer):
    seen: list[dict] = []

    def record(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response(GOOD_BODY, content_type="application/json")

    httpserver.expect_request("/final").respond_with_handler(record)
    other_host = httpserver.url_for("/final").replace("localhost", "127.0.0.1")
    if other_host == httpserver.url_for("/final"):
        other_host = httpserver.url_for("/final").replace("127.0.0.1", "localhost")
    httpserver.expect_request("/start").respond_with_data("", status=302, headers={"Location": other_host})
    with fetch.build_client(FAST) as client:
        fetched = fetch.fetch(client, httpserver.url_for("/start"), policy=FAST,
                              headers={"Authorization": "Bearer known-secret-token"})
    assert fetched.body == GOOD_BODY and fetched.url == other_host
    assert [h.get("Authorization") for h in seen] == [None]


def test_a_redirect_to_another_port_of_the_same_host_does_not_carry_the_credentials(httpserver: HTTPServer):
    seen: list[dict] = []

    def record(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response(GOOD_BODY, content_type="application/json")

    other = HTTPServer(host=httpserver.host)
    other.start()
    try:
        other.expect_request("/final").respond_with_handler(record)
        httpserver.expect_request("/start").respond_with_data("", status=302, headers={"Location": other.url_for("/final")})
        with fetch.build_client(FAST) as client:
            fetched = fetch.fetch(client, httpserver.url_for("/start"), policy=FAST,
                                  headers={"Authorization": "Bearer known-secret-token"})
    finally:
        other.clear()
        other.stop()
    assert fetched.body == GOOD_BODY
    assert [h.get("Authorization") for h in seen] == [None]


@pytest.mark.parametrize(
    ("content_type", "body", "problem"),
    [
        ("text/html; charset=utf-8", b"<!DOCTYPE html><html><body>Sign in to continue</body></html>",
         "line 1 column 1: invalid JSON: Expecting value"),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not UTF-8 JSON (byte 0)"),
        ("application/json", b"", "the file is empty"),
        ("application/json", json.dumps({"error": {"code": 401, "message": "Request had invalid credentials"}}).encode(),
         "no 'reviews' list: not a Google Business Profile reviews file"),
    ],
    ids=["html", "png", "empty", "api-error"],
)
def test_a_body_of_the_wrong_kind_is_a_parse_failure_naming_the_url(content_type, body, problem, httpserver, practice):
    httpserver.expect_request("/reviews.json").respond_with_data(body, content_type=content_type)
    settings, con = practice(httpserver.url_for("/reviews.json"))
    error = collect_failure(settings, con)
    assert error == f"{httpserver.url_for('/reviews.json')}: {problem}"
    assert len(httpserver.log) == 1


def test_a_failed_source_does_not_stop_the_next_one(httpserver: HTTPServer, raw_server, tmp_path):
    server = raw_server(reset)
    httpserver.expect_request("/good.json").respond_with_data(GOOD_BODY, content_type="application/json")
    write_config(tmp_path, f'''
        [[sources]]
        name = "broken"
        type = "google"
        location = "main"
        url = "{server.url}"

        [[sources]]
        name = "working"
        type = "google"
        location = "main"
        url = "{httpserver.url_for('/good.json')}"
    ''')
    settings = load_settings(tmp_path / "reviewpulse.toml", environ={})
    con = connect(settings.database_path)
    try:
        with fetch.build_client(FAST) as client:
            results = collect_urls(con, settings, client, FAST)
        assert [(r.status, r.rows_new) for r in results] == [("failed", 0), ("ok", 2)]
        assert con.execute("SELECT count(*) FROM reviews").fetchone() == (2,)
    finally:
        con.close()


def test_only_http_urls_are_fetched_even_when_called_directly():
    with fetch.build_client(FAST) as client:
        for url in ("file:///etc/passwd", "ftp://example.org/x", "//example.org/x", "http:///nohost"):
            with pytest.raises(FetchError, match="only http and https URLs are fetched|not a valid URL"):
                fetch.fetch(client, url, policy=FAST)
