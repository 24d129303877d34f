"""Saving parsed reviews: the one place that writes `imports`, `reviews` and `review_versions`.

An import is one transaction: the reviews are staged through Arrow in batches, merged on the natural
key `(source, source_review_id)`, and the `imports` row is written with the counts. Either all of it
is committed or none of it (a parse error half-way, or a crash, leaves nothing behind).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from db import now_utc
from ingest.model import Review, derive_review_id, hash_content

BATCH_SIZE = 20_000
_TS = pa.timestamp("us", tz="UTC")
STAGING_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("review_id", pa.string()),
        ("source", pa.string()),
        ("source_review_id", pa.string()),
        ("location_id", pa.string()),
        ("author", pa.string()),
        ("rating", pa.int8()),
        ("text", pa.string()),
        ("question", pa.string()),
        ("created_at", _TS),
        ("updated_at", _TS),
        ("reply_text", pa.string()),
        ("reply_at", _TS),
        ("content_hash", pa.string()),
        ("raw", pa.string()),
    ]
)


@dataclass(frozen=True)
class ImportTarget:
    """Where an import comes from: the configured source and the file or URL."""

    source: str  # configured source name
    source_type: str
    platform: str  # reviews.source
    origin: str
    location_id: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    snapshot: bool = False


@dataclass(frozen=True)
class ImportResult:
    import_id: int | None
    origin: str
    status: str
    rows_seen: int = 0
    rows_new: int = 0
    rows_updated: int = 0
    rows_removed: int = 0
    error: str | None = None


def _json_default(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _to_batch(rows: list[tuple]) -> pa.RecordBatch:
    columns = list(zip(*rows))
    return pa.RecordBatch.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, STAGING_SCHEMA)], schema=STAGING_SCHEMA
    )


def _stage(
    con: duckdb.DuckDBPyConnection,
    reviews: Iterable[Review],
    target: ImportTarget,
    resolve_location: Callable[[Review], str],
    seen_at: datetime,
) -> int:
    """Write the reviews into the temp table `staging` in Arrow batches; return how many."""
    con.execute("DROP TABLE IF EXISTS staging")
    created = False
    rows: list[tuple] = []
    count = 0

    def flush() -> None:
        nonlocal created, rows
        batch = _to_batch(rows)  # noqa: F841 - read by DuckDB's replacement scan below
        if created:
            con.execute("INSERT INTO staging SELECT * FROM batch")
        else:
            con.execute("CREATE TEMP TABLE staging AS SELECT * FROM batch")
            created = True
        rows = []

    for review in reviews:
        location_id = resolve_location(review)
        source_review_id = review.source_review_id or derive_review_id(location_id, review)
        rows.append(
            (
                count,
                f"{target.platform}:{source_review_id}",
                target.platform,
                source_review_id,
                location_id,
                review.author,
                review.rating,
                review.text,
                review.question,
                review.created_at or seen_at,
                review.updated_at or review.created_at or seen_at,
                review.reply_text,
                review.reply_at,
                hash_content(review),
                json.dumps(review.raw, ensure_ascii=False, default=_json_default),
            )
        )
        count += 1
        if len(rows) >= BATCH_SIZE:
            flush()
    if rows or not created:
        if rows:
            flush()
        else:
            batch = STAGING_SCHEMA.empty_table()  # noqa: F841
            con.execute("CREATE TEMP TABLE staging AS SELECT * FROM batch")
    return count


_MERGE = """
CREATE OR REPLACE TEMP TABLE incoming AS
SELECT * EXCLUDE (seq) FROM staging
QUALIFY row_number() OVER (PARTITION BY review_id ORDER BY updated_at DESC NULLS LAST, seq DESC) = 1;

INSERT INTO review_versions
SELECT i.review_id, i.content_hash, i.rating, i.text, i.reply_text, i.updated_at, $now, $import_id
FROM incoming i
ON CONFLICT DO NOTHING;

CREATE OR REPLACE TEMP TABLE changes AS
SELECT i.review_id,
       r.review_id IS NULL AS is_new,
       r.review_id IS NOT NULL AND (r.content_hash <> i.content_hash OR r.removed_at IS NOT NULL)
           AND (r.updated_at IS NULL OR i.updated_at >= r.updated_at OR r.removed_at IS NOT NULL) AS is_update
FROM incoming i LEFT JOIN reviews r USING (review_id);

UPDATE reviews AS r SET
    location_id = i.location_id, author = i.author, rating = i.rating, text = i.text,
    question = i.question, created_at = i.created_at, updated_at = i.updated_at,
    reply_text = i.reply_text, reply_at = i.reply_at, content_hash = i.content_hash,
    removed_at = NULL, last_import_id = $import_id, raw = i.raw::JSON, last_seen_at = $now
FROM (SELECT i.* FROM incoming i JOIN changes c USING (review_id) WHERE c.is_update) AS i
WHERE r.review_id = i.review_id;

UPDATE reviews AS r SET last_seen_at = $now, last_import_id = $import_id
FROM changes c WHERE r.review_id = c.review_id AND NOT c.is_new AND NOT c.is_update;

INSERT INTO reviews
SELECT i.review_id, i.source, i.source_review_id, i.location_id, i.author, i.rating, i.text, i.question,
       i.created_at, i.updated_at, i.reply_text, i.reply_at, i.content_hash, $now, $now, NULL,
       $import_id, $import_id, i.raw::JSON
FROM incoming i JOIN changes c USING (review_id)
WHERE c.is_new;
"""

_REMOVE_MISSING = """
UPDATE reviews SET removed_at = $now
WHERE source = $platform AND removed_at IS NULL
  AND location_id IN (SELECT DISTINCT location_id FROM incoming)
  AND review_id NOT IN (SELECT review_id FROM incoming)
"""


def save_import(
    con: duckdb.DuckDBPyConnection,
    target: ImportTarget,
    reviews: Iterable[Review],
    resolve_location: Callable[[Review], str],
) -> ImportResult:
    """Import `reviews` in one transaction and record it in `imports`; return the counts.

    Raises whatever the parser raises (after rolling back): nothing of a failed import is written.
    With `target.snapshot`, reviews of the same platform and locations that are missing from this
    delivery get `removed_at`; a removed review that reappears is restored.
    """
    started = now_utc()
    con.execute("BEGIN TRANSACTION")
    try:
        import_id = con.execute("SELECT nextval('imports_id_seq')").fetchone()[0]
        seen = _stage(con, reviews, target, resolve_location, started)
        params = {"now": started, "import_id": import_id}
        for statement in _MERGE.split(";"):
            if statement.strip():
                needed = {k: v for k, v in params.items() if f"${k}" in statement}
                con.execute(statement, needed or None)
        new, updated = con.execute("SELECT count(*) FILTER (is_new), count(*) FILTER (is_update) FROM changes").fetchone()
        removed = 0
        if target.snapshot and seen:
            removed = con.execute(_REMOVE_MISSING, {"now": started, "platform": target.platform}).fetchone()[0]
        con.execute(
            "INSERT INTO imports (import_id, source, source_type, location_id, origin, sha256, size_bytes,"
            " started_at, finished_at, status, rows_seen, rows_new, rows_updated, rows_removed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?)",
            [import_id, target.source, target.source_type, target.location_id, target.origin, target.sha256,
             target.size_bytes, started, now_utc(), seen, new, updated, removed],
        )
        con.execute("DROP TABLE IF EXISTS staging; DROP TABLE IF EXISTS incoming; DROP TABLE IF EXISTS changes")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return ImportResult(import_id, target.origin, "ok", seen, new, updated, removed)


def record_outcome(con: duckdb.DuckDBPyConnection, target: ImportTarget, status: str, error: str | None = None) -> ImportResult:
    """Record an import that wrote no reviews: failed, skipped as a duplicate, or not modified."""
    now = now_utc()
    import_id = con.execute(
        "INSERT INTO imports (source, source_type, location_id, origin, sha256, size_bytes, started_at,"
        " finished_at, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING import_id",
        [target.source, target.source_type, target.location_id, target.origin, target.sha256, target.size_bytes,
         now, now, status, error],
    ).fetchone()[0]
    return ImportResult(import_id, target.origin, status, error=error)


def was_imported(con: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    """True when a file with this content was already imported successfully."""
    return con.execute("SELECT count(*) FROM imports WHERE sha256 = ? AND status = 'ok'", [sha256]).fetchone()[0] > 0
