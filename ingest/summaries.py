"""What a source says about its own size ("Based on 905 reviews", totalReviewCount), kept for
completeness checks: the `source_summaries` table holds it next to how many reviews are stored."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from db import now_utc

log = logging.getLogger("reviewpulse.summaries")


@dataclass(frozen=True)
class Summary:
    """One source's statement about a whole profile: 905 reviews, average 4.5."""

    kind: str  # trustindex, google_reviews_widget, schema.org, outscraper, gbp_api
    subject: str | None  # the business as the source names it
    review_count: int | None
    average_rating: float | None
    reviews_listed: int = 0  # reviews this delivery actually contained


def count_stored(con: duckdb.DuckDBPyConnection, platform: str, location_id: str | None) -> int:
    """Reviews of `platform` (and location, when given) stored and not removed."""
    sql = "SELECT count(*) FROM reviews WHERE source = ? AND removed_at IS NULL"
    params: list = [platform]
    if location_id is not None:
        sql += " AND location_id = ?"
        params.append(location_id)
    return con.execute(sql, params).fetchone()[0]


def save_summaries(
    con: duckdb.DuckDBPyConnection,
    summaries: Iterable[Summary],
    *,
    source: str,
    platform: str,
    location_id: str | None,
    import_id: int | None,
    origin: str,
) -> None:
    """Record each summary with the stored count it should be compared with; log a gap."""
    stored = count_stored(con, platform, location_id)
    now = now_utc()
    for summary in summaries:
        con.execute(
            "INSERT INTO source_summaries (source, location_id, kind, subject, review_count, average_rating,"
            " reviews_listed, stored_count, observed_at, import_id, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source, location_id, summary.kind, summary.subject, summary.review_count, summary.average_rating,
             summary.reviews_listed, stored, now, import_id, origin],
        )
        if summary.review_count is not None and summary.review_count != stored:
            log.info(
                "%s: %s says %d reviews, %d are stored%s", source, summary.kind, summary.review_count, stored,
                " (a widget lists only the latest few)" if summary.kind != "gbp_api" else "",
            )
