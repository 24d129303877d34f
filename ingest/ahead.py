"""Reading the next export file while the current one is saved.

DuckDB reads and normalises an export file on one thread (a Google file is one JSON document), and
while a file is merged and committed nothing is read: on a machine of two cores, a collect of many
large files keeps one core idle much of the time. `StagingAhead` stages the next file's
delivery with ingest.bulk's fast path in a background thread, on a connection of its own (temp tables
belong to a connection), while the caller saves the current one; that file is then saved on the
connection that staged it. Files are still saved one at a time and in order, each in its own
transaction: only the reading overlaps, and a file staged ahead that is not imported after all (its
content was imported meanwhile) is dropped with its connection.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from db import now_utc, open_cursor
from ingest.store import FastStage


@dataclass(frozen=True)
class Staged:
    """A delivery staged ahead: the connection that holds its `staging` table, and the fast stage
    that hands over its outcome (the rows staged, or what the staging raised)."""

    con: duckdb.DuckDBPyConnection
    stage: FastStage


class StagingAhead:
    """Stages one file ahead of the imports, in a background thread. Use as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewpulse-staging")
        self._ahead: tuple[Path, duckdb.DuckDBPyConnection, Future] | None = None

    def __enter__(self) -> "StagingAhead":
        return self

    def __exit__(self, *exc) -> None:
        self._discard()
        self._pool.shutdown(wait=True)

    def begin(self, path: Path, stage: FastStage) -> None:
        """Start staging `path` with `stage` (dropping what was staged ahead before, if not taken)."""
        self._discard()
        cursor = open_cursor(self._con)
        self._ahead = (path, cursor, self._pool.submit(stage, cursor, now_utc()))

    def holds(self, path: Path) -> bool:
        """Whether `path` is being (or has been) staged ahead."""
        return self._ahead is not None and self._ahead[0] == path

    def take(self, path: Path) -> Staged | None:
        """The delivery of `path` if it was staged ahead (the caller closes `Staged.con` after saving it)."""
        if not self.holds(path):
            return None
        _, cursor, future = self._ahead
        self._ahead = None
        future.exception()  # wait: the staging finishes before its connection is used again
        return Staged(cursor, _handing_over(future))

    def _discard(self) -> None:
        if self._ahead is not None:
            _, cursor, future = self._ahead
            self._ahead = None
            future.exception()
            cursor.close()


def _handing_over(future: Future) -> FastStage:
    def stage(con: duckdb.DuckDBPyConnection, seen_at) -> int:
        return future.result()  # the staged row count, or the staging's exception raised again

    return stage

