"""Staging an export with DuckDB's own readers: the fast path of an import.

DuckDB parses a Google reviews file (`read_text` and its JSON functions) or a CSV export (`read_csv`)
in C++ and normalises every *regular* record with SQL expressions into the temp table `staging` that
`ingest.store` merges. A record is regular when the Python parser would take its fields as they are:
known fields of the expected JSON types, text already clean (no entities, control, bidi or invisible
characters, no runs of spaces, NFC), the usual date forms outside the hour of a daylight-saving change
(its repeated or missing times), a plain star rating. Every other record is re-parsed by the Python
parser of its format (the reference), so the staged rows are the same whichever path a record takes
(tests/test_ingest_fast.py).

The fast path never reports an error itself: whenever the file is not one it can read exactly as the
reference would (an unexpected shape, anything DuckDB refuses, a record Python rejects), it raises
`Unavailable` and the caller runs the reference path, whose error names the file and the record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path

from config import Source
from ingest.bulk_csv import stage_csv
from ingest.bulk_json import stage_google
from ingest.model import Review
from ingest.store import FastStage, ImportTarget


def build_fast_stage(path: Path, *, source: Source, file: str, target: ImportTarget,
                     resolve_location: Callable[[Review], str], tz: tzinfo) -> FastStage | None:
    """The fast path for an export file of `source`, or None when its type has none."""
    if source.type in ("google", "gbp_api"):
        return lambda con, seen_at: stage_google(con, path, file=file, target=target,
                                                 resolve_location=resolve_location, seen_at=seen_at)
    if source.type == "csv":
        return lambda con, seen_at: stage_csv(con, path, file=file, source=source, tz=tz, target=target,
                                              resolve_location=resolve_location, seen_at=seen_at)
    return None
