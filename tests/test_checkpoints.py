"""A collect checkpoints its imports in bulk: once per share of the memory limit, and always at its end."""

from __future__ import annotations

import shutil

import duckdb
import pytest

import ingest.collect
from db import connect
from ingest.collect import collect_all, wal_limit

from conftest import copy_fixture

DEFAULT_THRESHOLD = "16.0 MiB"


def threshold(con) -> str:
    return con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]


def test_the_log_may_hold_a_share_of_the_memory_limit(settings):
    assert wal_limit(settings.model_copy(update={"memory_limit": "512MB"})) == 204_800_000
    assert wal_limit(settings.model_copy(update={"memory_limit": "1GiB"})) == int(0.4 * 2**30)


def test_files_are_committed_one_by_one_and_checkpointed_together(settings, practice_dir, monkeypatch):
    copy_fixture("google/account-42", practice_dir / "exports" / "google")
    copy_fixture("google/api_page.json", practice_dir / "exports" / "google")
    during: list[str] = []
    real = ingest.collect.import_file

    def recording(con, *args, **kwargs):
        during.append(threshold(con))
        return real(con, *args, **kwargs)

    monkeypatch.setattr(ingest.collect, "import_file", recording)
    con = connect(settings.database_path, memory_limit="512MB")
    try:
        results = collect_all(con, settings)
        assert len(results) >= 2 and all(r.status == "ok" for r in results)
        assert set(during) == {"195.3 MiB"}  # 204,800,000 bytes while the files were imported
        assert threshold(con) == DEFAULT_THRESHOLD  # and DuckDB's default again afterwards
        stored = con.execute("SELECT count(*) FROM reviews").fetchone()[0]
        wal = settings.database_path.with_name(settings.database_path.name + ".wal")
        assert not wal.exists() or wal.stat().st_size == 0  # everything is in the database file
        # A copy of the database file alone (a backup taken right after the collect) holds every review.
        backup = practice_dir / "backup.duckdb"
        shutil.copy(settings.database_path, backup)
    finally:
        con.close()
    with duckdb.connect(str(backup), read_only=True) as copy:
        assert copy.execute("SELECT count(*) FROM reviews").fetchone()[0] == stored > 0


def test_a_collect_that_stops_half_way_restores_the_default(settings, practice_dir, monkeypatch):
    copy_fixture("google/api_page.json", practice_dir / "exports" / "google")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest.collect, "import_file", interrupted)
    con = connect(settings.database_path)
    try:
        with pytest.raises(KeyboardInterrupt):
            collect_all(con, settings)
        assert threshold(con) == DEFAULT_THRESHOLD
    finally:
        con.close()
