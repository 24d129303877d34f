"""Google Business Profile API: the reviews of every configured location, incrementally.

`GET {api_base}/v4/accounts/{a}/locations/{l}/reviews?pageSize=50&orderBy=updateTime desc`, then
`pageToken=` until `nextPageToken` is absent. Newest changes come first, so listing stops at the first
page whose reviews are all stored unchanged. A listing that reached the end is a complete snapshot
(reviews missing from it are marked removed); one that stopped early is not. `totalReviewCount` and
`averageRating` are recorded in `source_summaries` next to the stored count.

The bearer token comes from settings (read from the environment at the edge). It is sent only in the
Authorization header to the API host: never logged, stored, archived or put in an error message.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import httpx

from config import Settings, Source
from errors import FetchError, ParseError, ReviewPulseError
from ingest import gbp
from ingest.fetch import FetchPolicy, archive_body, fetch
from ingest.model import Review, hash_content
from ingest.store import ImportResult, ImportTarget, record_outcome, save_import
from ingest.summaries import Summary, save_summaries

log = logging.getLogger("reviewpulse.gbp_api")

PAGE_SIZE = 50
MAX_PAGES = 2_000  # 100,000 reviews: far beyond any practice; a server that never stops paging is an error


@dataclass
class Listing:
    """The pages fetched for one location."""

    location: str  # accounts/{a}/locations/{l}
    reviews: list[Review] = field(default_factory=list)
    raw_pages: list[bytes] = field(default_factory=list)
    complete: bool = False  # paged until nextPageToken was absent
    total_review_count: int | None = None
    average_rating: float | None = None


def reviews_url(api_base: str, location: str) -> str:
    return f"{api_base.rstrip('/')}/v4/{location.strip('/')}/reviews"


def redact(text: str, secret: str | None) -> str:
    """`text` with any occurrence of `secret` replaced (a server may echo what it was sent)."""
    return text.replace(secret, "[redacted]") if secret else text


def is_stored_unchanged(con: duckdb.DuckDBPyConnection, platform: str, reviews: list[Review]) -> bool:
    """True when every review of a page is stored with the same content and not removed."""
    if not reviews:
        return False
    ids = [f"{platform}:{r.source_review_id}" for r in reviews]
    stored = dict(
        con.execute(
            "SELECT review_id, content_hash FROM reviews WHERE removed_at IS NULL AND review_id IN (SELECT unnest(?))",
            [ids],
        ).fetchall()
    )
    return all(stored.get(i) == hash_content(r) for i, r in zip(ids, reviews))


def list_location(
    client: httpx.Client,
    source: Source,
    location: str,
    token: str,
    *,
    policy: FetchPolicy,
    unchanged: Callable[[list[Review]], bool],
) -> Listing:
    """Fetch pages of one location's reviews until the end or a page of stored, unchanged reviews.

    Raises FetchError or ParseError (naming the page) on the first page that fails; the caller then
    writes nothing of this location.
    """
    url = reviews_url(source.api_base, location)
    listing = Listing(location)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    token_param: str | None = None
    location_id = location.rstrip("/").rsplit("/", 1)[-1]
    for page_number in range(1, MAX_PAGES + 1):
        params = {"pageSize": str(PAGE_SIZE), "orderBy": "updateTime desc"}
        if token_param:
            params["pageToken"] = token_param
        page_url = str(httpx.URL(url, params=params))
        fetched = fetch(client, page_url, policy=policy, headers=headers)
        where = f"{url} page {page_number}"
        document = gbp.load_json(_Body(fetched.body), where)
        if not isinstance(document, dict):
            raise ParseError("expected a ListReviewsResponse object", file=where)
        page = list(gbp.iter_page(document, file=where, location_hint=location_id))
        listing.reviews.extend(page)
        listing.raw_pages.append(fetched.body)
        if page_number == 1:
            listing.total_review_count = _int_or_none(document.get("totalReviewCount"))
            listing.average_rating = _float_or_none(document.get("averageRating"))
        token_param = document.get("nextPageToken") or None
        if token_param is None:
            listing.complete = True
            return listing
        if unchanged(page):
            log.info("%s: page %d holds only stored, unchanged reviews; stopping", location, page_number)
            return listing
    raise FetchError(f"{url}: still paging after {MAX_PAGES} pages; stopped")


class _Body:
    """A read()-able view of bytes, for the JSON loader that reads files."""

    def __init__(self, data: bytes):
        self._data = data

    def read(self, *_: int) -> bytes:
        return self._data


def _int_or_none(value: object) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float_or_none(value: object) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def import_location(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: Source,
    location: str,
    client: httpx.Client,
    resolve_location: Callable[[Review], str],
    policy: FetchPolicy,
) -> ImportResult:
    """List one location and save it as one import; any failure is a failed import row, nothing else."""
    url = reviews_url(source.api_base, location)
    target = ImportTarget(source.name, source.type, source.platform_name, url, location_id=source.location)
    token = settings.gbp_token.get_secret_value() if settings.gbp_token is not None else None
    if not token:
        return record_outcome(
            con, target, "failed", f"{url}: no API token; set the REVIEWPULSE_GBP_TOKEN environment variable"
        )
    try:
        listing = list_location(
            client, source, location, token, policy=policy,
            unchanged=lambda page: is_stored_unchanged(con, source.platform_name, page),
        )
        body = b"[" + b",\n".join(listing.raw_pages) + b"]"  # the pages as received, one JSON array
        archived = archive_body(settings.archive_dir, source.name, body, ".json")
        target = ImportTarget(
            source.name, source.type, source.platform_name, url, location_id=source.location,
            sha256=hashlib.sha256(body).hexdigest(), size_bytes=len(body), snapshot=listing.complete,
        )
        result = save_import(con, target, listing.reviews, resolve_location)
    except ParseError as exc:
        return record_outcome(con, target, "failed", redact(str(exc), token).splitlines()[0])
    except ReviewPulseError as exc:
        message = redact(str(exc), token)
        if "HTTP 401" in message or "HTTP 403" in message:
            message += " (the API token was refused: expired, or without access to this location?)"
        return record_outcome(con, target, "failed", message.splitlines()[0])
    except Exception as exc:  # noqa: BLE001 - a network, disk or database fault fails this location only
        if not isinstance(exc, (OSError, httpx.HTTPError)):
            log.error("unexpected error listing %s", url, exc_info=exc)
        return record_outcome(con, target, "failed", redact(f"{url}: {type(exc).__name__}: {exc}", token).splitlines()[0])
    con.execute("UPDATE imports SET archive_path = ? WHERE import_id = ?", [str(archived), result.import_id])
    if listing.complete and listing.total_review_count is not None and listing.total_review_count != len(listing.reviews):
        log.warning(
            "%s: the API says %d reviews but listed %d", location, listing.total_review_count, len(listing.reviews)
        )
    if listing.total_review_count is not None or listing.average_rating is not None:
        location_ids = {resolve_location(r) for r in listing.reviews}
        save_summaries(
            con,
            [Summary("gbp_api", location, listing.total_review_count, listing.average_rating, len(listing.reviews))],
            source=source.name,
            platform=source.platform_name,
            location_id=location_ids.pop() if len(location_ids) == 1 else source.location,
            import_id=result.import_id,
            origin=url,
        )
    return result


def collect_api(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    client: httpx.Client,
    resolver: Callable[[Settings, Source], Callable[[Review], str]],
    policy: FetchPolicy = FetchPolicy(),
    sources: list[Source] | None = None,
) -> list[ImportResult]:
    """Import every location of every gbp_api source; one import per location."""
    results = []
    for source in sources if sources is not None else settings.sources:
        if source.type != "gbp_api":
            continue
        resolve = resolver(settings, source)
        for location in source.gbp_locations:
            results.append(import_location(con, settings, source, location, client, resolve, policy))
    return results

