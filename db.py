"""The DuckDB database: connecting, applying the ordered migrations, and the one-writer lock.

`connect()` applies every pending migration from the `schema` package in one transaction each and
records it in `schema_migrations`. Writers go through `open_writer()`, which holds a lock file for the
duration of the job only, so the database is never held open between jobs and analysts can open it
read-only in between.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import filelock

from errors import LockedError, ReviewPulseError

if TYPE_CHECKING:
    from config import Settings

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def list_migrations() -> list[tuple[int, str, str]]:
    """Return (version, name, sql) of every migration in the `schema` package, in order."""
    found = []
    for entry in resources.files("schema").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise ReviewPulseError(f"two migrations share a version number: {versions}")
    return found


def _checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; return the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL)"
    )
    applied = {v: s for v, s in con.execute("SELECT version, sha256 FROM schema_migrations").fetchall()}
    done = []
    for version, name, sql in list_migrations():
        if version in applied:
            if applied[version] != _checksum(sql):
                raise ReviewPulseError(
                    f"migration {version:04d}_{name} changed after it was applied to this database; "
                    "add a new migration instead of editing a released one"
                )
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                [version, name, _checksum(sql), datetime.now(timezone.utc)],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        done.append(version)
    return done


def connect(
    path: Path | str, read_only: bool = False, timezone: str | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the database file (creating it and its folder when writable) with the schema up to date.

    Read-only connections never migrate. A writable connection given the practice's `timezone`
    records it in the `settings` table, where the analyst views read it to compute local weeks.
    Raises LockedError when another process has the file open for writing, and ReviewPulseError
    when a read-only open finds no database.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise ReviewPulseError(f"{path}: no database yet; run `reviewpulse collect` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise LockedError(
                f"{path}: the database is open for writing by another ReviewPulse process "
                "(a collect, analyze, report or serve job); try again when it has finished"
            ) from None
        raise ReviewPulseError(f"{path}: cannot open the database: {exc}") from None
    apply_session_settings(con)
    if memory_limit is not None:
        # DuckDB caches up to 80 % of RAM by default; a job's memory should not grow with the
        # database (larger work spills to disk instead).
        con.execute("SET memory_limit = ?", [memory_limit])
    if not read_only:
        try:
            migrate(con)
            if timezone is not None:
                save_timezone(con, timezone)
        except Exception:
            con.close()
            raise
    return con


def apply_session_settings(con: duckdb.DuckDBPyConnection) -> None:
    """The settings every connection of a job has: instants in UTC, and no progress bar (a long
    migration or query must not draw on the job's output)."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")


def open_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second connection to `con`'s database, with the same session settings (its own temp tables
    and transactions; close it when done)."""
    cursor = con.cursor()
    apply_session_settings(cursor)
    return cursor


def save_timezone(con: duckdb.DuckDBPyConnection, zone: str) -> None:
    """Record the practice's IANA time zone for the views (`local_time()`, week columns)."""
    con.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES ('timezone', ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        " WHERE settings.value <> excluded.value",
        [zone, datetime.now(timezone.utc)],
    )


@contextmanager
def hold_lock(lock_path: Path, wait_seconds: float, busy: str) -> Iterator[None]:
    """Hold a lock file; raise LockedError("<path>: <busy>") if it is not free within wait_seconds."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(lock_path))
    try:
        lock.acquire(timeout=wait_seconds)
    except filelock.Timeout:
        raise LockedError(f"{lock_path}: {busy}") from None
    try:
        yield
    finally:
        lock.release()


def hold_write_lock(lock_path: Path, wait_seconds: float = 0):
    """Hold the single-writer lock file; raise LockedError if it is not free within wait_seconds."""
    return hold_lock(
        lock_path,
        wait_seconds,
        "another ReviewPulse job is writing (collect, analyze, report or serve); "
        "try again when it has finished, or pass --wait SECONDS",
    )


@contextmanager
def open_writer(
    database: Path,
    lock_path: Path,
    wait_seconds: float = 0,
    timezone: str | None = None,
    memory_limit: str | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Lock, connect for writing (recording `timezone` when given), and close and unlock when done."""
    with hold_write_lock(lock_path, wait_seconds):
        con = connect(database, timezone=timezone, memory_limit=memory_limit)
        try:
            yield con
        finally:
            con.close()


def open_job(settings: "Settings", wait_seconds: float = 0):
    """`open_writer` with a practice's database, lock file, time zone and memory limit."""
    return open_writer(
        settings.database_path, settings.lock_path, wait_seconds, settings.timezone, settings.memory_limit
    )


@contextmanager
def checkpoints_deferred(con: duckdb.DuckDBPyConnection, wal_bytes: int) -> Iterator[None]:
    """Let committed writes gather up to `wal_bytes` in the write-ahead log before DuckDB checkpoints
    them into the database file, then checkpoint once at the end.

    DuckDB checkpoints after every 16 MB of log by default: after every commit of a large import,
    rewriting the tables' newest row groups each time. Each commit is as durable either way (the log
    is on disk). Until the checkpoint, its rows are held by DuckDB's buffer manager, within the
    memory limit: beyond it they go to the temp file beside the database.
    """
    con.execute("SET checkpoint_threshold = ?", [f"{int(wal_bytes)}B"])
    try:
        yield
    finally:
        con.execute("RESET checkpoint_threshold")
        con.execute("CHECKPOINT")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
