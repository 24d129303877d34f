"""The file cache: the SHA-256 of in-place export files, recognised again by their size and mtime.

A `path` source is read where its files lie, and collect decides by content (SHA-256) whether a file
was imported before. Hashing every file on every run makes an idle scheduled collect read the whole
export folder; the `file_cache` table keeps the digest of each file at the `(size, mtime_ns)` it had
when it was read, so an unchanged file costs one stat().
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb

from db import now_utc


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        for chunk in iter(lambda: fp.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileDigests:
    """The known digests of one source's files, loaded in one query; `digest()` hashes only what changed.

    Side effects: `digest()` of a new or changed file reads it and upserts its `file_cache` row.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, source: str):
        self._con = con
        self._source = source
        self._hash = sha256_file
        self._known = {
            path: (size, mtime, sha256)
            for path, size, mtime, sha256 in con.execute(
                "SELECT path, size_bytes, mtime_ns, sha256 FROM file_cache WHERE source = ?", [source]
            ).fetchall()
        }

    def digest(self, path: Path) -> str:
        """The file's SHA-256: from the cache when its size and mtime are those it was hashed at."""
        # stat before reading: a file rewritten while it is hashed gets a newer mtime than the one
        # stored, so the next run hashes it again rather than trusting a digest of mixed content.
        stat = os.stat(path)
        key = str(path)
        known = self._known.get(key)
        if known is not None and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            return known[2]
        sha256 = self._hash(path)
        self._con.execute(
            "INSERT OR REPLACE INTO file_cache VALUES (?, ?, ?, ?, ?, ?)",
            [self._source, key, stat.st_size, stat.st_mtime_ns, sha256, now_utc()],
        )
        self._known[key] = (stat.st_size, stat.st_mtime_ns, sha256)
        return sha256
