"""A collect checkpoints its imports in bulk: once per WAL_LIMIT_BYTES of log, and always at its end."""

from __future__ import annotations

import shutil
import sys

import duckdb
import pytest

import ingest.collect
from config import load_settings
from db import connect
from ingest.collect import collect_all

from conftest import REPO, copy_fixture

sys.path.insert(0, str(REPO / "benchmarks"))
import generate  # noqa: E402

DEFAULT_THRESHOLD = "16.0 MiB"


def threshold(con) -> str:
    return con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]


def wal_of(settings):
    return settings.database_path.with_name(settings.database_path.name + ".wal")


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
        assert set(during) == {"1.0 GiB"}  # WAL_LIMIT_BYTES while the files were imported, whatever the memory limit
        assert threshold(con) == DEFAULT_THRESHOLD  # and DuckDB's default again afterwards
        stored = con.execute("SELECT count(*) FROM reviews").fetchone()[0]
        wal = wal_of(settings)
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


def test_the_log_may_outgrow_the_memory_limit(tmp_path, monkeypatch):
    """Committed imports wait in the log beyond the jobs' memory limit: DuckDB spills them to its temp
    file, so the collect completes and the database file holds every review."""
    generate.write_export("google", tmp_path / "exports", 30_000, seed=8, locations=3)
    config = tmp_path / "reviewpulse.toml"
    config.write_text(generate.settings_toml(tmp_path / "data", {"google": tmp_path / "exports" / "google"}, 3,
                                             tmp_path / "site"), encoding="utf-8")
    settings = load_settings(config, environ={})
    wal = wal_of(settings)
    logged: list[int] = []
    real = ingest.collect.import_file

    def recording(con, *args, **kwargs):
        result = real(con, *args, **kwargs)
        logged.append(wal.stat().st_size if wal.exists() else 0)
        return result

    monkeypatch.setattr(ingest.collect, "import_file", recording)
    limit_mb = 48
    con = connect(settings.database_path, timezone=settings.timezone, memory_limit=f"{limit_mb}MB")
    try:
        results = collect_all(con, settings)
        assert [r.status for r in results] == ["ok"] * 3
        assert logged == sorted(logged) and logged[-1] > limit_mb * 10**6  # never checkpointed before the end
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 30_000
    finally:
        con.close()
    assert not wal.exists() or wal.stat().st_size == 0
