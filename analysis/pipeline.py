"""The analysis stage over the database: `analyze_pending()`.

Reads the reviews whose (content_hash, analyzer_version) differ from what `review_sentiment` holds
(all reviews with `rescore=True`) and, in one transaction, replaces their rows in review_sentiment,
review_sentences, mentions and staff_mentions and recomputes theme_flags for the affected locations
from the earliest affected week on. A crash leaves the old analysis or the new one, never a mix.

It streams: the pending reviews are read in batches of BATCH_SIZE and each batch's results are
bulk-loaded through Arrow before the next is read, so memory does not grow with the number of
reviews. With several processes, batches go to worker processes in chunks, a bounded number at a
time, and come back as Arrow tables.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from analysis.analyzer import Analyzer
from analysis.flags import recompute_theme_flags
from analysis.taxonomy import load_taxonomy
from analysis.version import compute_analyzer_version
from config import Settings, StaffMember
from db import now_utc

# Below this many reviews, starting worker processes costs more than it saves.
PARALLEL_MIN_REVIEWS = 2_000
BATCH_SIZE = 5_000  # reviews read from the database at a time
CHUNK_SIZE = 1_000  # reviews sent to a worker process at a time
IN_FLIGHT_PER_WORKER = 2  # chunks queued per worker: keeps workers busy, bounds memory

# Every row carries its review's created_at, which the report's queries over a few weeks filter on.
CREATED_AT = ("created_at", pa.timestamp("us", tz="UTC"))
SENTIMENT_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("content_hash", pa.string()), ("vader_compound", pa.float64()),
    ("score", pa.float64()), ("label", pa.string()), ("is_mixed", pa.bool_()), ("is_safety", pa.bool_()),
    ("is_non_informative", pa.bool_()), CREATED_AT,
])
SENTENCE_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("sentence_index", pa.int32()), ("char_start", pa.int32()), ("char_end", pa.int32()),
    ("vader_compound", pa.float64()), ("score", pa.float64()), ("label", pa.string()),
])
MENTION_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("sentence_index", pa.int32()), ("char_start", pa.int32()), ("char_end", pa.int32()),
    ("theme", pa.string()), ("polarity", pa.string()), ("score", pa.float64()), ("rule", pa.string()), CREATED_AT,
])
STAFF_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("staff_name", pa.string()), ("role", pa.string()), ("matched_text", pa.string()),
    ("sentence_index", pa.int32()), ("char_start", pa.int32()), ("char_end", pa.int32()), ("polarity", pa.string()),
    ("score", pa.float64()), CREATED_AT,
])


@dataclass
class AnalysisSummary:
    reviews_analyzed: int = 0
    sentences: int = 0
    mentions: int = 0
    complaints: int = 0
    staff_mentions: int = 0
    flags_written: int = 0
    analyzer_version: str = ""
    workers: int = 1
    seconds: float = 0.0

    def __str__(self) -> str:
        if not self.reviews_analyzed:
            return f"nothing to analyse: every review is up to date (analyzer {self.analyzer_version})"
        return (
            f"analysed {self.reviews_analyzed} reviews ({self.sentences} sentences, {self.mentions} theme mentions, "
            f"{self.complaints} complaints, {self.staff_mentions} staff mentions), {self.flags_written} theme flag rows, "
            f"analyzer {self.analyzer_version}, {self.workers} process{'es' if self.workers > 1 else ''}, {self.seconds:.1f} s"
        )


@dataclass
class _Rows:
    sentiment: list[tuple]
    sentences: list[tuple]
    mentions: list[tuple]
    staff: list[tuple]


def analyze_rows(analyzer: Analyzer, reviews: Iterable[tuple[str, str, str | None, int | None, datetime | None]]) -> _Rows:
    """Analyse (review_id, content_hash, text, rating, created_at) tuples into table rows (without version columns)."""
    out = _Rows([], [], [], [])
    for review_id, content_hash, text, rating, created_at in reviews:
        r = analyzer.analyze(text, rating)
        out.sentiment.append(
            (review_id, content_hash, r.vader_compound, r.score, r.label, r.is_mixed, r.is_safety, r.is_non_informative, created_at)
        )
        out.sentences += [(review_id, s.index, s.start, s.end, s.vader_compound, s.score, s.label) for s in r.sentences]
        out.mentions += [(review_id, m.sentence_index, m.start, m.end, m.theme, m.polarity, m.score, m.rule, created_at) for m in r.mentions]
        out.staff += [
            (review_id, s.staff_name, s.role, s.matched_text, s.sentence_index, s.start, s.end, s.polarity, s.score, created_at)
            for s in r.staff
        ]
    return out


@dataclass
class _Tables:
    """One chunk's results as Arrow tables (cheap to send between processes and to load into DuckDB)."""

    sentiment: pa.Table
    sentences: pa.Table
    mentions: pa.Table
    staff: pa.Table
    complaints: int


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cycle collector off for the duration (restored after).

    Analysing a chunk allocates millions of small objects, none of them in cycles, and every few
    thousand allocations the collector walks the analyzer's caches again: 13 % of the analysis time.
    The chunk's objects are freed by reference counting; a cycle made meanwhile waits for the
    collector's next run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyze_tables(analyzer: Analyzer, reviews: Iterable[tuple[str, str, str | None, int | None, datetime | None]]) -> _Tables:
    # The rows become Arrow tables with the collector still paused: transposing them allocates as
    # many tuples again, and the collections that set off took two thirds of the time of making the
    # tables (about 28 µs a review).
    with _collection_paused():
        rows = analyze_rows(analyzer, reviews)
        return _Tables(
            _table(rows.sentiment, SENTIMENT_SCHEMA), _table(rows.sentences, SENTENCE_SCHEMA),
            _table(rows.mentions, MENTION_SCHEMA), _table(rows.staff, STAFF_SCHEMA),
            sum(1 for m in rows.mentions if m[5] == "complaint"),
        )


# One analyzer per worker process, built by the pool's initializer (the lexicon and taxonomy are
# loaded once per process, not once per review or chunk).
_worker_analyzer: Analyzer | None = None


def _init_worker(themes_file: Path | None, staff: list[dict]) -> None:
    global _worker_analyzer
    _worker_analyzer = Analyzer(load_taxonomy(themes_file), [StaffMember.model_validate(s) for s in staff])


def _analyze_chunk(chunk: list[tuple]) -> _Tables:
    assert _worker_analyzer is not None
    return analyze_tables(_worker_analyzer, chunk)


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    if not rows:
        return schema.empty_table()
    columns = list(zip(*rows))
    return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)


# The reviews to analyse, numbered in created_at order so that batches can be read by number and
# the analysis rows are written in time order: the report's queries over a few weeks then read only
# the row groups of those weeks. A review whose created_at changed is analysed again, so the copy of
# created_at in its analysis rows stays equal to the review's.
_PENDING = """
CREATE OR REPLACE TEMP TABLE pending_analysis AS
SELECT row_number() OVER (ORDER BY r.created_at, r.review_id) AS n, r.review_id
FROM reviews r LEFT JOIN review_sentiment s USING (review_id)
WHERE $rescore OR s.review_id IS NULL OR s.content_hash <> r.content_hash OR s.analyzer_version <> $version
   OR s.created_at IS DISTINCT FROM r.created_at
"""
# What the analysis reads of them, copied once in that order: `reviews` is stored in import order,
# so reading each batch by joining it with `reviews` would scan the whole table once per batch (0.16 s
# a batch at 1,000,000 reviews, on the cores the workers need). Read by a range of n, this copy is
# pruned to the batch's rows. DuckDB keeps it on disk beyond the memory limit.
_PENDING_TEXTS = """
CREATE OR REPLACE TEMP TABLE pending_texts AS
SELECT p.n, r.review_id, r.content_hash, r.text, r.rating, r.created_at
FROM pending_analysis p JOIN reviews r USING (review_id)
ORDER BY p.n
"""
_BATCH = """
SELECT review_id, content_hash, text, rating, created_at
FROM pending_texts
WHERE n > $after AND n <= $until
ORDER BY n
"""


def _batches(con: duckdb.DuckDBPyConnection, total: int, size: int) -> Iterator[list[tuple]]:
    """The pending reviews, `size` at a time (each batch is fetched whole before it is yielded)."""
    for after in range(0, total, size):
        yield con.execute(_BATCH, {"after": after, "until": after + size}).fetchall()


def _chunks(batches: Iterable[list[tuple]], size: int) -> Iterator[list[tuple]]:
    for batch in batches:
        for start in range(0, len(batch), size):
            yield batch[start:start + size]


def analyze_pending(
    con: duckdb.DuckDBPyConnection, settings: Settings, *, rescore: bool = False, workers: int | None = None
) -> AnalysisSummary:
    """Analyse new and changed reviews (every review with `rescore`) and write the results.

    Side effects: replaces the analysis rows of those reviews and the affected theme_flags in one
    transaction. `workers`: processes to use (default: every core, when there is enough work).
    Raises TaxonomyError when the taxonomy or the practice's themes file is invalid.
    """
    started = time.perf_counter()
    taxonomy = load_taxonomy(settings.themes_file)
    version = compute_analyzer_version(taxonomy, settings.staff)
    summary = AnalysisSummary(analyzer_version=version)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(_PENDING, {"rescore": rescore, "version": version})
        total = con.execute("SELECT count(*) FROM pending_analysis").fetchone()[0]
        if total:
            # The old rows go first (one pass over each table); every batch then only appends.
            for table in ("review_sentences", "mentions", "staff_mentions", "review_sentiment"):
                con.execute(f"DELETE FROM {table} WHERE review_id IN (SELECT review_id FROM pending_analysis)")
            con.execute(_PENDING_TEXTS)
            processes = workers if workers is not None else (os.cpu_count() or 1)
            if processes > 1 and total >= PARALLEL_MIN_REVIEWS:
                results = _analyze_in_workers(con, total, processes, settings)
                summary.workers = processes
            else:
                analyzer = Analyzer(taxonomy, settings.staff)
                results = (analyze_tables(analyzer, chunk) for chunk in _chunks(_batches(con, total, BATCH_SIZE), CHUNK_SIZE))
            params = {"version": version, "now": now_utc()}
            for tables in results:
                _append(con, tables, params, summary)
            summary.flags_written = _recompute_flags(con, settings.timezone)
        elif _flags_zone(con) not in (None, settings.timezone):
            # The practice's time zone changed: every review may now fall in another week.
            con.execute("DELETE FROM theme_flags")
            con.execute("INSERT INTO pending_analysis SELECT row_number() OVER (), review_id FROM reviews")
            summary.flags_written = _recompute_flags(con, settings.timezone)
        _record_flags_zone(con, settings.timezone)
        con.execute("DROP TABLE pending_analysis")
        con.execute("DROP TABLE IF EXISTS pending_texts")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    summary.seconds = time.perf_counter() - started
    return summary


def _analyze_in_workers(con: duckdb.DuckDBPyConnection, total: int, processes: int, settings: Settings) -> Iterator[_Tables]:
    """Chunks analysed by `processes` workers, in order, with at most a few chunks in flight."""
    chunk_size = max(50, min(CHUNK_SIZE, total // (processes * 4) or 1))
    staff = [m.model_dump(mode="json") for m in settings.staff]
    # spawn: the parent holds an open DuckDB connection that a forked child must not inherit.
    with ProcessPoolExecutor(
        max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker, initargs=(settings.themes_file, staff),
    ) as pool:
        in_flight: deque[Future[_Tables]] = deque()
        for chunk in _chunks(_batches(con, total, BATCH_SIZE), chunk_size):
            in_flight.append(pool.submit(_analyze_chunk, chunk))
            if len(in_flight) >= processes * IN_FLIGHT_PER_WORKER:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def _append(con: duckdb.DuckDBPyConnection, tables: _Tables, params: dict, summary: AnalysisSummary) -> None:
    """Insert one chunk's rows (inside the caller's transaction) and count them into `summary`."""
    # Read by DuckDB's replacement scans below; named so that no table name shadows them.
    new_sentiment = tables.sentiment  # noqa: F841
    new_sentences = tables.sentences  # noqa: F841
    new_mentions = tables.mentions  # noqa: F841
    new_staff = tables.staff  # noqa: F841
    con.execute(
        "INSERT INTO review_sentiment BY NAME SELECT *, $version AS analyzer_version, $now AS analyzed_at FROM new_sentiment",
        params,
    )
    version = {"version": params["version"]}
    con.execute("INSERT INTO review_sentences BY NAME SELECT *, $version AS analyzer_version FROM new_sentences", version)
    con.execute("INSERT INTO mentions BY NAME SELECT *, $version AS analyzer_version FROM new_mentions", version)
    con.execute("INSERT INTO staff_mentions BY NAME SELECT *, $version AS analyzer_version FROM new_staff", version)
    summary.reviews_analyzed += tables.sentiment.num_rows
    summary.sentences += tables.sentences.num_rows
    summary.mentions += tables.mentions.num_rows
    summary.complaints += tables.complaints
    summary.staff_mentions += tables.staff.num_rows


def _flags_zone(con: duckdb.DuckDBPyConnection) -> str | None:
    """The time zone theme_flags' weeks were computed in (None before the first analysis)."""
    row = con.execute("SELECT value FROM settings WHERE key = 'flags_timezone'").fetchone()
    return row[0] if row else None


def _record_flags_zone(con: duckdb.DuckDBPyConnection, zone: str) -> None:
    con.execute(
        "INSERT INTO settings VALUES ('flags_timezone', $zone, $now)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        " WHERE settings.value <> excluded.value",
        {"zone": zone, "now": now_utc()},
    )


def _recompute_flags(con: duckdb.DuckDBPyConnection, zone: str) -> int:
    """Recompute theme_flags from the earliest week of the analysed reviews, per location."""
    since: dict[str, date] = dict(
        con.execute(
            "SELECT location_id, min(CAST(date_trunc('week', timezone($zone, created_at)) AS DATE))"
            " FROM reviews WHERE review_id IN (SELECT review_id FROM pending_analysis) AND created_at IS NOT NULL"
            " GROUP BY location_id",
            {"zone": zone},
        ).fetchall()
    )
    return recompute_theme_flags(con, zone, since)
