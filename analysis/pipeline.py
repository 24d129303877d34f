"""The analysis stage over the database: `analyze_pending()`.

Reads the reviews whose (content_hash, analyzer_version) differ from what `review_sentiment` holds
(all reviews with `rescore=True`), analyses them (in worker processes when there are many), and in
one transaction replaces their rows in review_sentiment, review_sentences, mentions and
staff_mentions (bulk-loaded through Arrow) and recomputes theme_flags for the affected locations
from the earliest affected week on.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
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
CHUNK_SIZE = 500

SENTIMENT_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("content_hash", pa.string()), ("vader_compound", pa.float64()),
    ("score", pa.float64()), ("label", pa.string()), ("is_mixed", pa.bool_()), ("is_safety", pa.bool_()),
    ("is_non_informative", pa.bool_()),
])
SENTENCE_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("sentence_index", pa.int32()), ("char_start", pa.int32()), ("char_end", pa.int32()),
    ("vader_compound", pa.float64()), ("score", pa.float64()), ("label", pa.string()),
])
MENTION_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("sentence_index", pa.int32()), ("char_start", pa.int32()), ("char_end", pa.int32()),
    ("theme", pa.string()), ("polarity", pa.string()), ("score", pa.float64()), ("rule", pa.string()),
])
STAFF_SCHEMA = pa.schema([
    ("review_id", pa.string()), ("staff_name", pa.string()), ("role", pa.string()), ("matched_text", pa.string()),
    ("sentence_index", pa.int32()), ("char_start", pa.int32()), ("char_end", pa.int32()), ("polarity", pa.string()),
    ("score", pa.float64()),
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

    def extend(self, other: "_Rows") -> None:
        self.sentiment += other.sentiment
        self.sentences += other.sentences
        self.mentions += other.mentions
        self.staff += other.staff


def analyze_rows(analyzer: Analyzer, reviews: Iterable[tuple[str, str, str | None, int | None]]) -> _Rows:
    """Analyse (review_id, content_hash, text, rating) tuples into table rows (without version columns)."""
    out = _Rows([], [], [], [])
    for review_id, content_hash, text, rating in reviews:
        r = analyzer.analyze(text, rating)
        out.sentiment.append((review_id, content_hash, r.vader_compound, r.score, r.label, r.is_mixed, r.is_safety, r.is_non_informative))
        out.sentences += [(review_id, s.index, s.start, s.end, s.vader_compound, s.score, s.label) for s in r.sentences]
        out.mentions += [(review_id, m.sentence_index, m.start, m.end, m.theme, m.polarity, m.score, m.rule) for m in r.mentions]
        out.staff += [
            (review_id, s.staff_name, s.role, s.matched_text, s.sentence_index, s.start, s.end, s.polarity, s.score)
            for s in r.staff
        ]
    return out


# One analyzer per worker process, built by the pool's initializer (the lexicon and taxonomy are
# loaded once per process, not once per review or chunk).
_worker_analyzer: Analyzer | None = None


def _init_worker(themes_file: Path | None, staff: list[dict]) -> None:
    global _worker_analyzer
    _worker_analyzer = Analyzer(load_taxonomy(themes_file), [StaffMember.model_validate(s) for s in staff])


def _analyze_chunk(chunk: list[tuple]) -> _Rows:
    assert _worker_analyzer is not None
    return analyze_rows(_worker_analyzer, chunk)


def _chunks(items: Sequence[tuple], size: int) -> Iterable[list[tuple]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    if not rows:
        return schema.empty_table()
    columns = list(zip(*rows))
    return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)


_PENDING = """
SELECT r.review_id, r.content_hash, r.text, r.rating
FROM reviews r LEFT JOIN review_sentiment s USING (review_id)
WHERE $rescore OR s.review_id IS NULL OR s.content_hash <> r.content_hash OR s.analyzer_version <> $version
ORDER BY r.review_id
"""


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
    pending = con.execute(_PENDING, {"rescore": rescore, "version": version}).fetchall()
    summary = AnalysisSummary(analyzer_version=version)
    if not pending:
        summary.seconds = time.perf_counter() - started
        return summary
    processes = workers if workers is not None else (os.cpu_count() or 1)
    if processes > 1 and len(pending) >= PARALLEL_MIN_REVIEWS:
        rows = _Rows([], [], [], [])
        chunk_size = max(50, min(CHUNK_SIZE, len(pending) // (processes * 4) or 1))
        staff = [m.model_dump(mode="json") for m in settings.staff]
        # spawn: the parent holds an open DuckDB connection that a forked child must not inherit.
        with ProcessPoolExecutor(
            max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(settings.themes_file, staff),
        ) as pool:
            for part in pool.map(_analyze_chunk, _chunks(pending, chunk_size)):
                rows.extend(part)
        summary.workers = processes
    else:
        rows = analyze_rows(Analyzer(taxonomy, settings.staff), pending)
    summary.flags_written = _write(con, rows, version, settings.timezone)
    summary.reviews_analyzed = len(rows.sentiment)
    summary.sentences = len(rows.sentences)
    summary.mentions = len(rows.mentions)
    summary.complaints = sum(1 for m in rows.mentions if m[5] == "complaint")
    summary.staff_mentions = len(rows.staff)
    summary.seconds = time.perf_counter() - started
    return summary


def _write(con: duckdb.DuckDBPyConnection, rows: _Rows, version: str, zone: str) -> int:
    """Replace the analysis rows of the analysed reviews and recompute flags, in one transaction."""
    # Read by DuckDB's replacement scans below; named so that no table name shadows them.
    new_sentiment = _table(rows.sentiment, SENTIMENT_SCHEMA)  # noqa: F841
    new_sentences = _table(rows.sentences, SENTENCE_SCHEMA)  # noqa: F841
    new_mentions = _table(rows.mentions, MENTION_SCHEMA)  # noqa: F841
    new_staff = _table(rows.staff, STAFF_SCHEMA)  # noqa: F841
    params = {"version": version, "now": now_utc()}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE analysed AS SELECT review_id FROM new_sentiment")
        for table in ("review_sentences", "mentions", "staff_mentions", "review_sentiment"):
            con.execute(f"DELETE FROM {table} WHERE review_id IN (SELECT review_id FROM analysed)")
        con.execute(
            "INSERT INTO review_sentiment SELECT review_id, content_hash, vader_compound, score, label, is_mixed,"
            " is_safety, is_non_informative, $version, $now FROM new_sentiment", params,
        )
        con.execute("INSERT INTO review_sentences SELECT *, $version FROM new_sentences", {"version": version})
        con.execute("INSERT INTO mentions SELECT *, $version FROM new_mentions", {"version": version})
        con.execute("INSERT INTO staff_mentions SELECT *, $version FROM new_staff", {"version": version})
        since: dict[str, date] = dict(
            con.execute(
                "SELECT location_id, min(CAST(date_trunc('week', timezone($zone, created_at)) AS DATE))"
                " FROM reviews WHERE review_id IN (SELECT review_id FROM analysed) AND created_at IS NOT NULL"
                " GROUP BY location_id",
                {"zone": zone},
            ).fetchall()
        )
        written = recompute_theme_flags(con, zone, since)
        con.execute("DROP TABLE analysed")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return written
