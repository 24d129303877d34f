"""The database schema: migrations applied in order on open, recorded, and never silently changed."""

from __future__ import annotations

import duckdb
import pytest

import db
from errors import LockedError, ReviewPulseError


def columns(con, table):
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()


def test_every_migration_is_applied_once_and_recorded(tmp_path):
    path = tmp_path / "rp.duckdb"
    con = db.connect(path)
    recorded = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert recorded == [(v, n) for v, n, _ in db.list_migrations()]
    assert recorded[0] == (1, "core")
    con.close()
    con = db.connect(path)  # re-opening applies nothing
    assert db.migrate(con) == []
    con.close()


def test_core_tables_have_the_documented_columns(tmp_path):
    con = db.connect(tmp_path / "rp.duckdb")
    assert columns(con, "reviews") == [
        ("review_id", "VARCHAR"), ("source", "VARCHAR"), ("source_review_id", "VARCHAR"),
        ("location_id", "VARCHAR"), ("author", "VARCHAR"), ("rating", "TINYINT"), ("text", "VARCHAR"),
        ("question", "VARCHAR"), ("created_at", "TIMESTAMP WITH TIME ZONE"),
        ("updated_at", "TIMESTAMP WITH TIME ZONE"), ("reply_text", "VARCHAR"),
        ("reply_at", "TIMESTAMP WITH TIME ZONE"), ("content_hash", "VARCHAR"),
        ("first_seen_at", "TIMESTAMP WITH TIME ZONE"), ("last_seen_at", "TIMESTAMP WITH TIME ZONE"),
        ("removed_at", "TIMESTAMP WITH TIME ZONE"), ("first_import_id", "BIGINT"), ("last_import_id", "BIGINT"),
        ("raw", "JSON"),
    ]
    assert [c for c, _ in columns(con, "review_versions")] == [
        "review_id", "content_hash", "rating", "text", "reply_text", "updated_at", "seen_at", "import_id",
    ]
    assert [c for c, _ in columns(con, "review_sentiment")] == [
        "review_id", "content_hash", "vader_compound", "score", "label", "is_mixed", "is_safety",
        "is_non_informative", "analyzer_version", "analyzed_at", "created_at",
    ]
    assert [c for c, _ in columns(con, "imports")][:10] == [
        "import_id", "source", "source_type", "location_id", "origin", "sha256", "size_bytes", "started_at",
        "finished_at", "status",
    ]
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO imports (source, source_type, origin, started_at, status) VALUES ('a','b','c',now(),'maybe')")
    con.close()


def test_an_edited_applied_migration_is_refused(tmp_path):
    path = tmp_path / "rp.duckdb"
    db.connect(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_migrations SET sha256 = 'different' WHERE version = 1")
    con.close()
    with pytest.raises(ReviewPulseError, match="migration 0001_core changed after it was applied"):
        db.connect(path)


def test_read_only_open_of_a_missing_database_says_what_to_do(tmp_path):
    with pytest.raises(ReviewPulseError, match="no database yet; run `reviewpulse collect` first"):
        db.connect(tmp_path / "none.duckdb", read_only=True)


def test_the_write_lock_admits_one_writer(tmp_path):
    lock = tmp_path / "rp.lock"
    with db.hold_write_lock(lock):
        with pytest.raises(LockedError, match="another ReviewPulse job is writing"):
            with db.hold_write_lock(lock, wait_seconds=0.1):
                pass
    with db.hold_write_lock(lock):  # released again
        pass


def test_a_job_connection_has_the_configured_memory_limit(settings):
    with db.open_job(settings.model_copy(update={"memory_limit": "300MB"})) as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit in ("286.1 MiB", "300.0 MB")


def _compressions(con, table: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for column, compression in con.execute(
        "SELECT column_name, compression FROM pragma_storage_info(?) WHERE segment_type IN ('VARCHAR', 'JSON')", [table]
    ).fetchall():
        found.setdefault(column, set()).add(compression)
    return found


def test_review_storage_is_upgraded_in_a_database_made_before(tmp_path, monkeypatch):
    path = tmp_path / "rp.duckdb"
    before = [m for m in db.list_migrations() if m[0] < 9]
    with monkeypatch.context() as patch:
        patch.setattr(db, "list_migrations", lambda: before)
        old = db.connect(path)
    text = "Nobody answers the phone, and the front desk never called me back about my referral. " * 3
    old.execute("INSERT INTO imports (import_id, source, source_type, origin, started_at, status)"
                " VALUES (1, 'google', 'google', 'x.json', now(), 'ok')")
    old.execute(
        "INSERT INTO reviews SELECT 'google:' || i, 'google', CAST(i AS VARCHAR), 'main', 'Pat ' || i, 1 + i % 5,"
        " $text || i, NULL, now(), now(), 'Sorry to hear this, please call us. ' || i, now(), md5(CAST(i AS VARCHAR)),"
        " now(), now(), NULL, 1, 1, json_object('comment', $text || i) FROM range(5000) t(i)", {"text": text})
    old.execute("INSERT INTO review_versions SELECT review_id, content_hash, rating, text, reply_text, updated_at, now(), 1"
                " FROM reviews")
    old.execute("INSERT INTO review_sentiment SELECT review_id, content_hash, -0.4767, -0.6, 'negative', false, false, false,"
                " 'v1', now(), created_at FROM reviews")
    stored = {t: old.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
              for t in ("reviews", "review_versions", "review_sentiment")}
    old.execute("CHECKPOINT")
    assert "ZSTD" not in _compressions(old, "reviews")["text"]  # what DuckDB chose by itself
    old.close()

    upgraded = db.connect(path)
    try:
        upgraded.execute("CHECKPOINT")
        for table, rows in stored.items():
            assert upgraded.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == rows, table
        reviews = _compressions(upgraded, "reviews")
        assert reviews["text"] == reviews["reply_text"] == reviews["raw"] == {"ZSTD"}
        versions = _compressions(upgraded, "review_versions")
        assert versions["text"] == versions["reply_text"] == {"ZSTD"}
        # None of these tables has an index to keep in memory any more (0009, 0010, 0011); the imports and the
        # analysis keep their keys unique (tests/test_ingest_fast.py, tests/test_import.py,
        # tests/test_analysis_pipeline.py).
        tables = "('reviews', 'review_versions', 'review_sentiment')"
        assert upgraded.execute(f"SELECT count(*) FROM duckdb_constraints() WHERE table_name IN {tables}"
                                " AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')").fetchone()[0] == 0
        assert upgraded.execute(f"SELECT count(*) FROM duckdb_indexes() WHERE table_name IN {tables}").fetchone()[0] == 0
        not_null = upgraded.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'review_sentiment'"
                                    " AND NOT is_nullable ORDER BY column_index").fetchall()
        assert not_null == [("review_id",), ("content_hash",), ("analyzer_version",), ("analyzed_at",)]
    finally:
        upgraded.close()
