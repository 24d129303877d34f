"""Collecting: the inbox, every configured file, URL and API source, one import (one transaction) each.

A bad file never stops the others: it is recorded as a failed import with a one-line error. Inbox
files are moved to `done/` or to `failed/` (with a `.error.txt` beside them); files of a configured
`path` are read in place and skipped once their content (sha256) has been imported by that source.
URL sources are fetched with conditional requests (an unchanged page is a `not_modified` import) and
their raw body is archived with the import; API sources list reviews incrementally (ingest.gbp_api).
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import httpx

from config import Settings, Source
from db import checkpoints_deferred
from errors import FetchError, ParseError, ReviewPulseError
from ingest import bulk, fetch, formats, gbp_api
from ingest.ahead import Staged, StagingAhead
from ingest.filecache import FileDigests, sha256_file
from ingest.summaries import save_summaries
from ingest.model import Review
from ingest.store import FastStage, ImportResult, ImportTarget, record_outcome, save_import

log = logging.getLogger("reviewpulse.collect")
# A collect of many files checkpoints once 1 GiB is in the write-ahead log instead of after each large
# file (db.checkpoints_deferred). Each checkpoint rewrites the tables' newest row groups and leaves the
# old blocks free in the file, so the fewer the better. What bounds it is disk, not memory: beyond the
# jobs' memory limit DuckDB spills the committed rows to its temp file (about half the log's size),
# and a restart after a crash replays the log (benchmarks/README.md).
WAL_LIMIT_BYTES = 2**30
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def build_location_resolver(settings: Settings, source: Source) -> Callable[[Review], str]:
    """Map what an export says about a location (Google id, name, alias) to a configured location id."""
    names: dict[str, str] = {}
    for loc in settings.locations:
        for key in (loc.id, loc.name, *loc.aliases, *loc.google_location_ids):
            names[key.casefold()] = loc.id
    default = source.location or (settings.locations[0].id if len(settings.locations) == 1 else None)

    def resolve(review: Review) -> str:
        ref = review.location_ref
        if ref is not None:
            found = names.get(ref.strip().casefold())
            if found is not None:
                return found
            if default is None:
                raise ParseError(
                    f"location {ref!r} is not a configured location id, name, alias or google_location_id",
                    where=_where(review),
                )
            return default
        if default is None:
            raise ParseError(f"no location in the record and source {source.name!r} has no location", where=_where(review))
        return default

    return resolve


def _where(review: Review) -> str | None:
    line = review.raw.get("line") if isinstance(review.raw, dict) else None
    return f"line {line}" if line else (f"review {review.source_review_id}" if review.source_review_id else None)


def display_name(path: Path) -> str:
    """The file name for messages, with control and bidi characters escaped: a hostile name can
    neither split the one-line error nor reorder how it is displayed."""
    return _UNSAFE_IN_NAME.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), path.name)


def describe_file(source: Source, path: Path, sha256: str | None = None) -> ImportTarget:
    """The import target of an export file (its digest computed unless given); raises OSError when
    the file cannot be read."""
    with path.open("rb") as fp:
        head = fp.read(8)
    return ImportTarget(
        source=source.name,
        source_type=source.type,
        platform=source.platform_name,
        origin=str(path),
        location_id=source.location,
        sha256=sha256 or sha256_file(path),
        size_bytes=path.stat().st_size,
        snapshot=formats.is_snapshot(source, head),
    )


def build_file_stage(settings: Settings, source: Source, path: Path, target: ImportTarget) -> FastStage | None:
    """The fast path (ingest.bulk) that stages this export file, or None when its type has none."""
    return bulk.build_fast_stage(path, source=source, file=display_name(path), target=target,
                                 resolve_location=build_location_resolver(settings, source), tz=settings.zone)


def import_file(
    con: duckdb.DuckDBPyConnection, settings: Settings, source: Source, path: Path, sha256: str | None = None,
    staged: Staged | None = None,
) -> ImportResult:
    """Parse and save one export file of `source` in one transaction; failures are recorded, not raised.

    `sha256`: the file's digest when the caller already has it (it is computed otherwise).
    `staged`: the file's delivery when it was staged ahead (ingest.ahead); it is saved on the
    connection that staged it, which is closed afterwards.
    """
    if staged is not None:
        try:
            return _import_file(staged.con, settings, source, path, sha256, staged.stage)
        finally:
            staged.con.close()
    return _import_file(con, settings, source, path, sha256)


def _import_file(
    con: duckdb.DuckDBPyConnection, settings: Settings, source: Source, path: Path, sha256: str | None,
    fast: FastStage | None = None,
) -> ImportResult:
    name = display_name(path)
    try:
        target = describe_file(source, path, sha256)
    except OSError as exc:  # unreadable (permissions, vanished): a failed import, not a crash
        unreadable = ImportTarget(source.name, source.type, source.platform_name, str(path), source.location)
        return record_outcome(con, unreadable, "failed", describe_failure(exc, name))
    if was_imported_by(con, source.name, target.sha256):
        return record_outcome(con, target, "skipped_duplicate")
    try:
        with path.open("rb") as fp:
            reviews = formats.parse(fp, file=name, source=source, tz=settings.zone)
            resolver = build_location_resolver(settings, source)
            if fast is None:
                fast = build_file_stage(settings, source, path, target)
            result = save_import(con, target, reviews, resolver, fast)
        with path.open("rb") as fp:
            record_summaries(con, source, target, fp, name, result.import_id)
        return result
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
        error = describe_failure(exc, name)
    return record_outcome(con, target, "failed", error)


def describe_failure(exc: Exception, name: str) -> str:
    """One line for `imports.error` and the `.error.txt`: the file or URL, where, and what was wrong.

    Errors ReviewPulse expects (a parse error, a fetch error, a file that cannot be read) are
    described as they are; anything else is a bug in a parser, logged with its traceback.
    """
    if isinstance(exc, ParseError):
        text = str(exc.in_file(name))
    elif isinstance(exc, ReviewPulseError):
        text = f"{name}: {exc}"
    elif isinstance(exc, (OSError, MemoryError, RecursionError)):
        text = f"{name}: {type(exc).__name__}: {exc}"
    else:
        log.error("unexpected error importing %s", name, exc_info=exc)
        text = f"{name}: unexpected {type(exc).__name__}: {exc}"
    return text.splitlines()[0] if text.strip() else f"{name}: failed"


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    dest = folder / path.name
    if dest.exists():
        dest = folder / f"{stamp}-{path.name}"
    n = 1
    while dest.exists():
        dest = folder / f"{stamp}-{n}-{path.name}"
        n += 1
    shutil.move(str(path), dest)
    return dest


def list_inbox(inbox: Path, settle_seconds: float = 0) -> list[Path]:
    """Files waiting in the inbox, including one level of per-source subfolders, oldest first.

    Files modified in the last `settle_seconds` are left for a later run: they may still be being
    copied in, and importing half a file would lose the rest when it is moved to done/.
    """
    if not inbox.is_dir():
        return []
    found = []
    for entry in inbox.iterdir():
        if entry.name.startswith(".") or entry.name in ("done", "failed"):
            continue
        if entry.is_file():
            found.append(entry)
        elif entry.is_dir():
            found.extend(p for p in entry.iterdir() if p.is_file() and not p.name.startswith("."))
    settled_before = time.time() - settle_seconds
    return sorted(
        (p for p in found if settle_seconds <= 0 or p.stat().st_mtime <= settled_before),
        key=lambda p: (p.stat().st_mtime, p.name),
    )


def collect_inbox(con: duckdb.DuckDBPyConnection, settings: Settings, settle_seconds: float = 0) -> list[ImportResult]:
    """Import every file dropped in the inbox, then move it to done/ or failed/ (with .error.txt).

    `settle_seconds`: skip files still being written (see list_inbox); the scheduler sets it.
    """
    inbox = settings.inbox_dir
    results = []
    for path in list_inbox(inbox, settle_seconds):
        try:
            source = _source_for_inbox_file(settings, inbox, path)
        except OSError as exc:  # unreadable: quarantined like any other file that cannot be imported
            result = record_outcome(con, ImportTarget("inbox", "unknown", "unknown", str(path)), "failed",
                                    describe_failure(exc, display_name(path)))
        else:
            if source is None:
                target = ImportTarget("inbox", "unknown", "unknown", str(path), sha256=sha256_file(path),
                                      size_bytes=path.stat().st_size)
                result = record_outcome(
                    con, target, "failed",
                    f"{display_name(path)}: cannot tell which source this file belongs to; put it in inbox/<source name>/ "
                    f"(sources: {', '.join(s.name for s in settings.sources) or 'none configured'})",
                )
            else:
                result = import_file(con, settings, source, path)
        try:
            if result.status == "failed":
                dest = _move(path, inbox / "failed")
                dest.with_name(dest.name + ".error.txt").write_text(result.error + "\n", encoding="utf-8")
                log.warning("import failed: %s", result.error)
            else:
                _move(path, inbox / "done")
        except OSError as exc:
            log.error("%s: could not be moved out of the inbox: %s", display_name(path), exc)
        results.append(result)
    return results


def _source_for_inbox_file(settings: Settings, inbox: Path, path: Path) -> Source | None:
    if path.parent != inbox:
        try:
            return settings.source(path.parent.name)
        except ReviewPulseError:
            return None
    with path.open("rb") as fp:
        head = fp.read(4096)
    return formats.guess_source(settings.sources, path.name, head)


def list_source_files(source: Source) -> list[Path]:
    """The export files of a `path` source: the file itself, or the matching files below a folder or glob."""
    assert source.path is not None
    path = source.path
    endings = formats.EXTENSIONS.get(source.type, ())
    if path.is_file():
        return [path]
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(endings)]
    else:
        files = [p for p in path.parent.glob(path.name) if p.is_file()]
    return sorted(files)


def collect_paths(con: duckdb.DuckDBPyConnection, settings: Settings, sources: list[Source] | None = None) -> list[ImportResult]:
    """Import the files of every configured `path` source that were not imported before (by sha256).

    A file whose size and mtime are those recorded in `file_cache` is not read again: its digest
    comes from there (ingest.filecache). While a file is saved, the next one is staged (ingest.ahead).
    """
    settings_changed = _settings_changed_at(settings)
    candidates = list(_list_path_files(con, settings, sources))
    results = []
    with StagingAhead(con) as ahead:
        for i, (source, path, digest) in enumerate(candidates):
            if not _is_due(con, source, digest, settings_changed):
                continue
            # One staging at a time (a large file's takes much of the memory limit): this file's, then
            # the next one's while this one is saved.
            if not ahead.holds(path):
                _stage_ahead(ahead, settings, source, path, digest)
            staged = ahead.take(path)
            following = next((c for c in candidates[i + 1:] if _is_due(con, c[0], c[2], settings_changed)), None)
            if following is not None:
                _stage_ahead(ahead, settings, *following)
            results.append(import_file(con, settings, source, path, digest, staged))
    return results


def _list_path_files(con: duckdb.DuckDBPyConnection, settings: Settings, sources: list[Source] | None):
    """(source, path, sha256) of every export file of the `path` sources, in order."""
    for source in sources if sources is not None else settings.sources:
        if source.path is None:
            continue
        if not source.path.exists() and not any(ch in source.path.name for ch in "*?["):
            # Said on every run (a typo in the settings must not pass for "nothing new"), but not
            # recorded as an import: nothing was read.
            log.warning("%s: no such file or folder (source %r, path)", source.path, source.name)
            continue
        digests = FileDigests(con, source.name)
        for path in list_source_files(source):
            yield source, path, digests.digest(path)


def _is_due(con: duckdb.DuckDBPyConnection, source: Source, digest: str, settings_changed: datetime | None) -> bool:
    """Whether a file of `source` with this content is to be imported: not imported yet, and not
    failed since the settings last changed (an alias added, a column mapping fixed): a failed file is
    tried again then, not on every run."""
    imported, failed_at = con.execute(
        "SELECT count(*) FILTER (status = 'ok'), max(finished_at) FILTER (status = 'failed')"
        " FROM imports WHERE sha256 = ? AND source = ?",
        [digest, source.name],
    ).fetchone()
    return not imported and (failed_at is None or (settings_changed is not None and failed_at < settings_changed))


def _stage_ahead(ahead: StagingAhead, settings: Settings, source: Source, path: Path, digest: str) -> None:
    """Start staging a file that is due next, when it has a fast path (its errors are left to its import)."""
    try:
        stage = build_file_stage(settings, source, path, describe_file(source, path, digest))
    except OSError:
        return
    if stage is not None:
        ahead.begin(path, stage)


def _settings_changed_at(settings: Settings) -> datetime | None:
    """When the settings file was last modified (None when the settings did not come from a file)."""
    try:
        return datetime.fromtimestamp(settings.config_path.stat().st_mtime, tz=timezone.utc) if settings.config_path else None
    except OSError:
        return None


def was_imported_by(con: duckdb.DuckDBPyConnection, source: str, sha256: str | None) -> bool:
    """True when `source` already imported content with this sha256 (another source may read the same
    page differently, e.g. its widget and its WordPress comments)."""
    return con.execute(
        "SELECT count(*) FROM imports WHERE sha256 = ? AND source = ? AND status = 'ok'", [sha256, source]
    ).fetchone()[0] > 0


def record_summaries(
    con: duckdb.DuckDBPyConnection, source: Source, target: ImportTarget, fp, name: str, import_id: int | None
) -> None:
    """Store what the export says about the whole profile; informational, so it never fails an import."""
    try:
        summaries = formats.read_summaries(fp, file=name, source=source)
        if summaries:
            save_summaries(con, summaries, source=source.name, platform=source.platform_name,
                           location_id=source.location, import_id=import_id, origin=target.origin)
    except Exception as exc:  # the reviews are already committed: a summary must not mark them failed
        log.warning("%s: summary not recorded: %s", name, exc)


def import_url(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: Source,
    client: httpx.Client,
    policy: fetch.FetchPolicy = fetch.FetchPolicy(),
) -> ImportResult:
    """Fetch `source.url` (conditionally) and import the body; failures are recorded, not raised.

    Side effects: an `imports` row in every case; on success the body archived under
    settings.archive_dir and the response's validators stored in `http_cache`.
    """
    assert source.url is not None
    url = source.url
    target = ImportTarget(source.name, source.type, source.platform_name, url, location_id=source.location)
    try:
        fetched = fetch.fetch(client, url, policy=policy, validators=fetch.load_validators(con, source.name, url))
    except FetchError as exc:
        return record_outcome(con, target, "failed", str(exc).splitlines()[0])
    if fetched.not_modified:
        fetch.touch_validators(con, source.name, url)
        return record_outcome(con, target, "not_modified")
    target = ImportTarget(
        source.name, source.type, source.platform_name, url, location_id=source.location,
        sha256=fetched.sha256, size_bytes=len(fetched.body),
        snapshot=formats.is_snapshot(source, fetched.body[:8]),
    )
    if was_imported_by(con, source.name, fetched.sha256):
        fetch.save_validators(con, source.name, url, fetched, None)
        return record_outcome(con, target, "skipped_duplicate")
    # The HTTP charset applies unless the settings name one; the parser sees the bytes as a file would be.
    parsing = source if source.encoding or not fetched.charset else source.model_copy(update={"encoding": fetched.charset})
    name = fetched.url.rsplit("/", 1)[-1].split("?")[0] or url
    archived = None
    try:
        archived = fetch.archive_body(settings.archive_dir, source.name, fetched.body, fetch.suffix_for(fetched.content_type, url))
        reviews = formats.parse(io.BytesIO(fetched.body), file=url, source=parsing, tz=settings.zone)
        result = save_import(con, target, reviews, build_location_resolver(settings, source))
    except Exception as exc:  # noqa: BLE001 - one bad source must not stop the others
        error = describe_failure(exc, url)
    else:
        con.execute("UPDATE imports SET archive_path = ? WHERE import_id = ?", [str(archived), result.import_id])
        fetch.save_validators(con, source.name, url, fetched, result.import_id)
        record_summaries(con, parsing, target, io.BytesIO(fetched.body), name, result.import_id)
        return result
    failed = record_outcome(con, target, "failed", error)
    if archived is not None:  # the body that failed to parse is the evidence for fixing the parser
        con.execute("UPDATE imports SET archive_path = ? WHERE import_id = ?", [str(archived), failed.import_id])
    return failed


def collect_urls(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    client: httpx.Client,
    policy: fetch.FetchPolicy = fetch.FetchPolicy(),
    sources: list[Source] | None = None,
) -> list[ImportResult]:
    """Fetch and import every source with a `url` (the API sources are listed by collect_api)."""
    return [
        import_url(con, settings, source, client, policy)
        for source in (sources if sources is not None else settings.sources)
        if source.url is not None and source.type != "gbp_api"
    ]


def collect_api(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    client: httpx.Client,
    policy: fetch.FetchPolicy = fetch.FetchPolicy(),
    sources: list[Source] | None = None,
) -> list[ImportResult]:
    """List the reviews of every location of every gbp_api source (one import per location)."""
    return gbp_api.collect_api(con, settings, client, build_location_resolver, policy, sources)


def collect_all(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    sources: list[Source] | None = None,
    client: httpx.Client | None = None,
    policy: fetch.FetchPolicy | None = None,
) -> list[ImportResult]:
    """Run every collector once: the inbox, the file sources, the URL sources, then the API sources.

    With `sources`, only those sources are collected (and not the inbox). One HTTP client serves the
    whole run; it is created (and closed) here unless `client` is given.
    """
    chosen = settings.sources if sources is None else sources
    with checkpointing_in_bulk(con):
        results = (collect_inbox(con, settings) if sources is None else []) + collect_paths(con, settings, chosen)
        remote = [s for s in chosen if s.type == "gbp_api" or s.url is not None]
        if not remote:
            return results
        policy = policy or fetch.FetchPolicy()
        own_client = client is None
        client = client or fetch.build_client(policy)
        try:
            results += collect_urls(con, settings, client, policy, remote)
            results += collect_api(con, settings, client, policy, remote)
        finally:
            if own_client:
                client.close()
    return results


def checkpointing_in_bulk(con: duckdb.DuckDBPyConnection):
    """Around a collect's imports: their commits checkpoint together, every WAL_LIMIT_BYTES of log."""
    return checkpoints_deferred(con, WAL_LIMIT_BYTES)
