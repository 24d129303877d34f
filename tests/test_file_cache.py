"""The file cache: an unchanged in-place export is recognised by its size and mtime and never read again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import ingest.filecache
from db import connect
from ingest.collect import collect_paths

from conftest import copy_fixture


@pytest.fixture
def con(settings):
    connection = connect(settings.database_path)
    yield connection
    connection.close()


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The names of the files collect reads to hash, in order."""
    seen: list[str] = []
    real = ingest.filecache.sha256_file

    def counting(path: Path) -> str:
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(ingest.filecache, "sha256_file", counting)
    return seen


def imports(con) -> list[tuple]:
    return con.execute("SELECT origin, status FROM imports ORDER BY import_id").fetchall()


def test_an_unchanged_file_is_not_read_again_and_its_digest_is_recorded(settings, practice_dir, con, hashed):
    export = copy_fixture("google/api_page.json", practice_dir / "exports" / "google")

    (first,) = collect_paths(con, settings)
    assert first.status == "ok" and hashed == ["api_page.json"]  # hashed once, not again by the import
    stat = export.stat()
    assert con.execute("SELECT source, path, size_bytes, mtime_ns, sha256 FROM file_cache").fetchall() == [
        ("google", str(export), stat.st_size, stat.st_mtime_ns, hashlib.sha256(export.read_bytes()).hexdigest()),
    ]

    assert collect_paths(con, settings) == []
    assert hashed == ["api_page.json"]  # the second run only looked at the file's size and mtime
    assert imports(con) == [(str(export), "ok")]


def test_a_touched_file_with_the_same_content_is_hashed_again_and_still_skipped(settings, practice_dir, con, hashed):
    export = copy_fixture("google/api_page.json", practice_dir / "exports" / "google")
    collect_paths(con, settings)
    later = export.stat().st_mtime_ns + 5_000_000_000
    os.utime(export, ns=(later, later))

    assert collect_paths(con, settings) == []

    assert hashed == ["api_page.json", "api_page.json"]
    assert con.execute("SELECT mtime_ns FROM file_cache").fetchall() == [(later,)]
    assert imports(con) == [(str(export), "ok")]


def test_a_rewritten_file_of_the_same_size_is_imported(settings, practice_dir, con, hashed):
    export = copy_fixture("google/api_page.json", practice_dir / "exports" / "google")
    collect_paths(con, settings)
    before = export.stat()
    text = export.read_text(encoding="utf-8")
    changed = text.replace("\"FOUR\"", "\"FIVE\"", 1)  # the first review now has five stars
    assert changed != text and len(changed) == len(text)
    export.write_text(changed, encoding="utf-8")
    os.utime(export, ns=(before.st_mtime_ns + 1_000_000, before.st_mtime_ns + 1_000_000))

    (again,) = collect_paths(con, settings)

    assert again.status == "ok" and again.rows_updated == 1
    assert hashed == ["api_page.json", "api_page.json"]
    assert con.execute("SELECT sha256 FROM file_cache").fetchone()[0] == hashlib.sha256(changed.encode()).hexdigest()
