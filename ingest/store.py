"""Saving parsed reviews: the one place that writes `imports`, `reviews` and `review_versions`.

An import is one transaction: the reviews are staged through Arrow in batches, merged on the natural
key `(source, source_review_id)`, and the `imports` row is written with the counts. Either all of it
is committed or none of it (a parse error half-way, or a crash, leaves nothing behind).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from db import now_utc
from ingest.model import Review, derive_review_id, hash_content

log = logging.getLogger("reviewpulse.store")
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


def build_row(seq: int, review: Review, target: ImportTarget, resolve_location: Callable[[Review], str], seen_at: datetime) -> tuple:
    """One staging row (STAGING_SCHEMA) for a parsed review."""
    location_id = resolve_location(review)
    source_review_id = review.source_review_id or derive_review_id(location_id, review)
    return (
        seq,
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


def append_rows(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple], *, create: bool) -> int:
    """Write staging rows into the temp table `staging` in Arrow batches (creating it when `create`);
    return how many."""
    count = 0
    batch_rows: list[tuple] = []

    def flush() -> None:
        nonlocal create, batch_rows
        con.register("rp_batch", _to_batch(batch_rows) if batch_rows else STAGING_SCHEMA.empty_table())
        try:
            # json(raw): the record minified by DuckDB, as the fast paths stage it (the same bytes
            # whichever path a record takes), and typed JSON so the merge copies it without a cast.
            if create:
                con.execute("CREATE OR REPLACE TEMP TABLE staging AS SELECT * REPLACE (json(raw) AS raw) FROM rp_batch")
                create = False
            else:
                con.execute("INSERT INTO staging BY NAME SELECT * REPLACE (json(raw) AS raw) FROM rp_batch")
        finally:
            con.unregister("rp_batch")
        batch_rows = []

    for row in rows:
        batch_rows.append(row)
        count += 1
        if len(batch_rows) >= BATCH_SIZE:
            flush()
    if batch_rows or create:
        flush()
    return count


def _stage(
    con: duckdb.DuckDBPyConnection,
    reviews: Iterable[Review],
    target: ImportTarget,
    resolve_location: Callable[[Review], str],
    seen_at: datetime,
) -> int:
    """Write the reviews into the temp table `staging` in Arrow batches; return how many."""
    con.execute("DROP TABLE IF EXISTS staging")
    rows = (build_row(seq, review, target, resolve_location, seen_at) for seq, review in enumerate(reviews))
    return append_rows(con, rows, create=True)


class FastPathUnavailable(Exception):
    """A fast path (ingest.bulk) cannot stage this delivery exactly as the reference parser would."""


# Stages a delivery by itself into `staging` (ingest.bulk): (connection, seen_at) -> rows staged;
# raises FastPathUnavailable to hand the delivery to the reference parser.
FastStage = Callable[[duckdb.DuckDBPyConnection, datetime], int]


# The newest version of each review in the delivery (a view over staging when no id repeats).
_INCOMING_DEDUPLICATED = """
CREATE OR REPLACE TEMP TABLE incoming AS
SELECT * EXCLUDE (seq) FROM staging
QUALIFY row_number() OVER (PARTITION BY review_id ORDER BY updated_at DESC NULLS LAST, seq DESC) = 1
"""
_INCOMING_ALL = "CREATE OR REPLACE TEMP VIEW incoming AS SELECT * EXCLUDE (seq) FROM staging"

# New versions by an anti-join (incoming holds each review once). It is what keeps (review_id,
# content_hash) unique: review_versions has no index (schema/0009_review_storage.sql).
_MERGE = """

INSERT INTO review_versions
SELECT i.review_id, i.content_hash, i.rating, i.text, i.reply_text, i.updated_at, $now, $import_id
FROM incoming i
WHERE NOT EXISTS (SELECT 1 FROM review_versions v WHERE v.review_id = i.review_id AND v.content_hash = i.content_hash);

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
    removed_at = NULL, last_import_id = $import_id, raw = i.raw, last_seen_at = $now
FROM (SELECT i.* FROM incoming i JOIN changes c USING (review_id) WHERE c.is_update) AS i
WHERE r.review_id = i.review_id;

UPDATE reviews AS r SET last_seen_at = $now, last_import_id = $import_id
FROM changes c WHERE r.review_id = c.review_id AND NOT c.is_new AND NOT c.is_update;

INSERT INTO reviews
SELECT i.review_id, i.source, i.source_review_id, i.location_id, i.author, i.rating, i.text, i.question,
       i.created_at, i.updated_at, i.reply_text, i.reply_at, i.content_hash, $now, $now, NULL,
       $import_id, $import_id, i.raw
FROM incoming i JOIN changes c USING (review_id)
WHERE c.is_new;
"""

_REMOVE_MISSING = """
UPDATE reviews SET removed_at = $now
WHERE source = $platform AND removed_at IS NULL
  AND location_id IN (SELECT DISTINCT location_id FROM incoming)
  -- only what this configured source delivered: another source of the same platform (an
  -- Outscraper export beside Takeout) is not contradicted by this one's snapshot
  AND last_import_id IN (SELECT import_id FROM imports WHERE source = $source)
  AND review_id NOT IN (SELECT review_id FROM incoming)
"""


def save_import(
    con: duckdb.DuckDBPyConnection,
    target: ImportTarget,
    reviews: Iterable[Review],
    resolve_location: Callable[[Review], str],
    fast_stage: FastStage | None = None,
) -> ImportResult:
    """Import `reviews` in one transaction and record it in `imports`; return the counts.

    With `fast_stage` (ingest.bulk), the delivery is staged by DuckDB's readers; when that path
    cannot read it exactly, `reviews` (the reference parser) is used instead.

    Raises whatever the parser raises (after rolling back): nothing of a failed import is written.
    With `target.snapshot`, reviews of the same platform and locations that are missing from this
    delivery get `removed_at`; a removed review that reappears is restored.
    """
    started = now_utc()
    seen = None
    if fast_stage is not None:
        # Outside the transaction: a statement DuckDB refuses must not abort the import itself.
        try:
            seen = fast_stage(con, started)
        except FastPathUnavailable as exc:
            log.debug("%s: read by the Python parser (%s)", target.origin, exc)
            con.execute("DROP TABLE IF EXISTS staging")
    con.execute("BEGIN TRANSACTION")
    try:
        import_id = con.execute("SELECT nextval('imports_id_seq')").fetchone()[0]
        if seen is None:
            seen = _stage(con, reviews, target, resolve_location, started)
        duplicated = con.execute("SELECT count(*) - count(DISTINCT review_id) FROM staging").fetchone()[0]
        con.execute(_INCOMING_DEDUPLICATED if duplicated else _INCOMING_ALL)
        params = {"now": started, "import_id": import_id}
        for statement in _MERGE.split(";"):
            if statement.strip():
                needed = {k: v for k, v in params.items() if f"${k}" in statement}
                con.execute(statement, needed or None)
        new, updated = con.execute("SELECT count(*) FILTER (is_new), count(*) FILTER (is_update) FROM changes").fetchone()
        removed = 0
        if target.snapshot and seen:
            removed = con.execute(
                _REMOVE_MISSING, {"now": started, "platform": target.platform, "source": target.source}
            ).fetchone()[0]
        con.execute(
            "INSERT INTO imports (import_id, source, source_type, location_id, origin, sha256, size_bytes,"
            " started_at, finished_at, status, rows_seen, rows_new, rows_updated, rows_removed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?)",
            [import_id, target.source, target.source_type, target.location_id, target.origin, target.sha256,
             target.size_bytes, started, now_utc(), seen, new, updated, removed],
        )
        con.execute(f"DROP {'TABLE' if duplicated else 'VIEW'} incoming; DROP TABLE changes; DROP TABLE staging")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        con.execute("DROP TABLE IF EXISTS staging")  # staged by a fast path before the transaction
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
