"""Fetching exports and pages over HTTP(S): one client per run, bounded and polite.

`fetch()` returns the raw bytes exactly as a file would hold them, so the same parser reads a URL and a
file. Every request has timeouts; connection errors, timeouts, 429 and 5xx answers are retried a
bounded number of times with exponential backoff, or after the server's `Retry-After` (capped); the
body is streamed against a size cap; only http and https URLs are fetched, and redirects are followed
by hand so they cannot lead to another scheme or carry credentials to another host. ETag and
Last-Modified validators (the `http_cache` table) make an unchanged resource a cheap 304.

Headers passed in (such as an API bearer token) are never logged and never appear in errors.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import duckdb
import httpx
import stamina

from errors import FetchError

log = logging.getLogger("reviewpulse.fetch")

USER_AGENT = "ReviewPulse/0.1 (patient review analytics)"
MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
_RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one fetch. The defaults suit a scheduled job; tests shrink the waits."""

    timeout: float = 30.0  # seconds, for connecting and for each read
    attempts: int = 4  # in total, including the first
    wait_initial: float = 1.0  # first backoff; doubles on every retry
    wait_max: float = 60.0
    wait_jitter: float = 1.0
    retry_after_cap: float = 300.0  # never sleep longer than this on a server's Retry-After
    max_bytes: int = 50 * 1024 * 1024
    # Seconds for a whole response: `timeout` bounds each read, so a server dripping a byte at a
    # time would otherwise hold the job forever.
    total_timeout: float = 600.0


@dataclass(frozen=True)
class Validators:
    """What the server said identifies the last body we imported."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A response: 200 with the whole body, or 304 (not modified) with none."""

    url: str  # after redirects
    status: int
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def charset(self) -> str | None:
        if not self.content_type:
            return None
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ")
        return None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class _RetryableResponse(Exception):
    """A 429/5xx answer: worth another attempt, possibly after the server's Retry-After."""

    def __init__(self, status: int, reason: str, retry_after: float | None):
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status
        self.retry_after = retry_after


def build_client(policy: FetchPolicy = FetchPolicy()) -> httpx.Client:
    """The one HTTP client of a collection run (connection pooling, timeouts, no automatic redirects)."""
    return httpx.Client(
        timeout=httpx.Timeout(policy.timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


def check_url(url: str) -> httpx.URL:
    """Parse `url`, refusing anything but an absolute http(s) URL."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(f"{url}: not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchError(f"{url}: only http and https URLs are fetched")
    return parsed


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _describe(exc: BaseException, policy: FetchPolicy) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out (limit {policy.timeout:g}s)"
    if isinstance(exc, httpx.TransportError):
        return f"connection failed ({type(exc).__name__}{': ' + str(exc) if str(exc) else ''})"
    return str(exc)


def _read_capped(response: httpx.Response, url: str, max_bytes: int, deadline: float, total_timeout: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{url}: response of {int(declared)} bytes is over the {max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:  # counted after decompression, so a gzip bomb stops here too
            raise FetchError(f"{url}: response is over the {max_bytes}-byte limit (stopped reading)")
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: the response took longer than the {total_timeout:g}s limit (stopped reading)")
        chunks.append(chunk)
    return b"".join(chunks)


def _request_once(
    client: httpx.Client, url: httpx.URL, headers: dict[str, str], policy: FetchPolicy
) -> Fetched:
    """One GET, following redirects within http(s); raises _RetryableResponse for 429/5xx."""
    current = url
    deadline = time.monotonic() + policy.total_timeout
    for _ in range(MAX_REDIRECTS + 1):
        with client.stream("GET", current, headers=headers) as response:
            if response.status_code in _REDIRECTS and "Location" in response.headers:
                target = current.join(response.headers["Location"])
                if target.scheme not in ("http", "https"):
                    raise FetchError(f"{url}: redirected to a {target.scheme or 'relative'} URL; only http(s) is followed")
                if (target.scheme, target.host, target.port) != (current.scheme, current.host, current.port):
                    # Credentials are for the origin they were issued for (never sent in clear after a
                    # redirect from https to http, nor to another host or port).
                    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                current = target
                continue
            if response.status_code == 304:
                return Fetched(str(current), 304, b"", response.headers.get("ETag"), response.headers.get("Last-Modified"))
            if response.status_code in _RETRY_STATUSES or response.status_code >= 500:
                raise _RetryableResponse(
                    response.status_code, response.reason_phrase, parse_retry_after(response.headers.get("Retry-After"))
                )
            if response.status_code != 200:
                raise FetchError(f"{url}: HTTP {response.status_code} {response.reason_phrase}".rstrip())
            body = _read_capped(response, str(url), policy.max_bytes, deadline, policy.total_timeout)
            return Fetched(
                str(current),
                200,
                body,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                response.headers.get("Content-Type"),
            )
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")


def fetch(
    client: httpx.Client,
    url: str,
    *,
    policy: FetchPolicy = FetchPolicy(),
    validators: Validators | None = None,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """GET `url` with retries and limits; a 304 comes back as `Fetched.not_modified`.

    Raises FetchError naming the URL and the cause once the attempts are used up, or at once for
    answers a retry cannot fix (4xx other than 408/425/429, over the size cap, a bad redirect).
    """
    parsed = check_url(url)
    request_headers = dict(headers or {})
    if validators is not None:
        if validators.etag:
            request_headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            request_headers["If-Modified-Since"] = validators.last_modified

    def backoff(exc: Exception) -> bool | float:
        if isinstance(exc, _RetryableResponse):
            if exc.retry_after is not None:
                wait = min(exc.retry_after, policy.retry_after_cap)
                log.warning("%s: %s, retrying after %.2fs (Retry-After)", url, exc, wait)
                return wait
            log.warning("%s: %s, retrying", url, exc)
            return True
        if isinstance(exc, httpx.TransportError):
            log.warning("%s: %s, retrying", url, _describe(exc, policy))
            return True
        return False

    try:
        for attempt in stamina.retry_context(
            on=backoff,
            attempts=policy.attempts,
            timeout=None,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                return _request_once(client, parsed, request_headers, policy)
    except (_RetryableResponse, httpx.TransportError) as exc:
        raise FetchError(f"{url}: {_describe(exc, policy)} after {policy.attempts} attempts") from None
    except httpx.InvalidURL:
        # httpx reads a redirect's Location even when not following it, and cannot parse some
        # ("javascript:alert(1)", "data:..."): a bad redirect, never a crash of the whole collect.
        raise FetchError(f"{url}: redirected to an invalid URL; only http(s) is followed") from None
    except httpx.HTTPError as exc:  # e.g. a malformed response: not retried
        raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
    raise AssertionError("unreachable: retry_context either returns or raises")


# --- validators and the raw-body archive -------------------------------------------------------


def load_validators(con: duckdb.DuckDBPyConnection, source: str, url: str) -> Validators | None:
    """The validators stored for `url` of `source`, or None when it was never imported."""
    row = con.execute("SELECT etag, last_modified FROM http_cache WHERE source = ? AND url = ?", [source, url]).fetchone()
    if row is None or (row[0] is None and row[1] is None):
        return None
    return Validators(row[0], row[1])


def save_validators(
    con: duckdb.DuckDBPyConnection, source: str, url: str, fetched: Fetched, import_id: int | None
) -> None:
    """Remember the validators of a body that was imported (or found already imported)."""
    now = datetime.now(timezone.utc)
    con.execute(
        "INSERT INTO http_cache (source, url, etag, last_modified, sha256, import_id, checked_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,"
        " sha256 = excluded.sha256, import_id = excluded.import_id, checked_at = excluded.checked_at",
        [source, url, fetched.etag, fetched.last_modified, fetched.sha256, import_id, now],
    )


def touch_validators(con: duckdb.DuckDBPyConnection, source: str, url: str) -> None:
    """Record that `url` was checked and found unchanged."""
    con.execute(
        "UPDATE http_cache SET checked_at = ? WHERE source = ? AND url = ?", [datetime.now(timezone.utc), source, url]
    )


def archive_body(archive_dir: Path, source: str, body: bytes, suffix: str, when: datetime | None = None) -> Path:
    """Write `body` to archive_dir/<source>/<yyyy>/<mm>/<timestamp>-<sha256 prefix><suffix>; return the path.

    `source` is a configured source name (validated as [a-z0-9_-]), never text from the response.
    """
    when = when or datetime.now(timezone.utc)
    folder = archive_dir / source / f"{when:%Y}" / f"{when:%m}"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(body).hexdigest()[:16]
    path = folder / f"{when:%Y%m%dT%H%M%S}-{digest}{suffix}"
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(body)
    tmp.replace(path)  # never a half-written archive file under the final name
    return path


def suffix_for(content_type: str | None, url: str) -> str:
    """A file ending for an archived body, from its Content-Type or else the URL's path."""
    kind = (content_type or "").split(";")[0].strip().lower()
    known = {
        "text/html": ".html",
        "application/xhtml+xml": ".html",
        "application/json": ".json",
        "text/csv": ".csv",
        "application/zip": ".zip",
        "text/plain": ".txt",
    }
    if kind in known:
        return known[kind]
    name = httpx.URL(url).path.rsplit("/", 1)[-1].lower()
    for ending in (".html", ".htm", ".json", ".csv", ".zip", ".txt"):
        if name.endswith(ending):
            return ending
    return ".bin"
