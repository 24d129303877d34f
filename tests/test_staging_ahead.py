"""A collect stages the next export file while the current one is saved (ingest.ahead): in the
background, on a connection of its own, and with the same outcome as one file after another."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

import ingest.bulk
import ingest.collect
from db import connect
from ingest.collect import collect_paths


@pytest.fixture
def con(settings):
    connection = connect(settings.database_path)
    yield connection
    connection.close()


def write_google_file(folder, name: str, first: int, count: int, edit: int = 0):
    """A Takeout reviews file of location 1001 with reviews r{first} .. r{first + count - 1} (as of
    their `edit`)."""
    reviews = [
        {
            "name": f"accounts/42/locations/1001/reviews/r{i}",
            "reviewId": f"r{i}",
            "reviewer": {"displayName": f"Patient {i}", "isAnonymous": False},
            "starRating": "TWO",
            "comment": f"Visit {i}: nobody answers the phone and I waited {i % 50 + edit} minutes.",
            "createTime": f"2026-03-{1 + i % 28:02d}T15:04:05Z",
            "updateTime": f"2026-03-{1 + i % 28:02d}T15:{4 + edit:02d}:05Z",
        }
        for i in range(first, first + count)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"reviews": reviews}), encoding="utf-8")
    return path


@pytest.fixture
def watched(monkeypatch):
    """What happened, in order: ("stage", file, thread) and ("save", file, staged ahead or not)."""
    events: list[tuple] = []
    lock = threading.Lock()
    build = ingest.bulk.build_fast_stage

    def building(path, **kwargs):
        stage = build(path, **kwargs)

        def staging(con, seen_at):
            with lock:
                events.append(("stage", path.name, threading.current_thread().name))
            return stage(con, seen_at)

        return staging if stage is not None else None

    real_import = ingest.collect.import_file

    def importing(con, settings, source, path, sha256=None, staged=None):
        with lock:
            events.append(("save", path.name, staged is not None))
        return real_import(con, settings, source, path, sha256, staged)

    monkeypatch.setattr(ingest.bulk, "build_fast_stage", building)
    monkeypatch.setattr(ingest.collect, "import_file", importing)
    return events


def temp_tables(con) -> list[str]:
    return [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]


def test_files_are_staged_in_the_background_and_saved_in_order(settings, practice_dir, con, watched):
    folder = practice_dir / "exports" / "google" / "account-42" / "location-1001"
    for k in range(3):
        write_google_file(folder, f"reviews-{k}.json", first=k * 40, count=40)

    results = collect_paths(con, settings)

    assert [(r.status, r.rows_new) for r in results] == [("ok", 40)] * 3
    assert [e[1:] for e in watched if e[0] == "save"] == [(f"reviews-{k}.json", True) for k in range(3)]
    staged = [e for e in watched if e[0] == "stage"]
    assert [e[1] for e in staged] == [f"reviews-{k}.json" for k in range(3)]
    assert all(e[2].startswith("reviewpulse-staging") for e in staged)  # never on the collect's own thread
    # Each file is its own import, committed in the order of the files.
    origins = [row[0].rsplit("/", 1)[-1] for row in con.execute("SELECT origin FROM imports ORDER BY import_id").fetchall()]
    assert origins == [f"reviews-{k}.json" for k in range(3)]
    assert con.execute("SELECT count(*), count(DISTINCT first_import_id) FROM reviews").fetchone() == (120, 3)
    assert con.execute("SELECT count(*) FROM review_versions").fetchone() == (120,)
    assert temp_tables(con) == []


def test_a_later_file_with_content_imported_meanwhile_is_dropped_unsaved(settings, practice_dir, con, watched):
    folder = practice_dir / "exports" / "google" / "account-42" / "location-1001"
    first = write_google_file(folder, "reviews-a.json", first=0, count=30)
    shutil.copy(first, folder / "reviews-b.json")  # the same content again: staged ahead, then not imported
    write_google_file(folder, "reviews-c.json", first=100, count=20)

    results = collect_paths(con, settings)

    assert [(r.origin.rsplit("/", 1)[-1], r.status, r.rows_new) for r in results] == [
        ("reviews-a.json", "ok", 30), ("reviews-c.json", "ok", 20)]
    assert [e[1] for e in watched if e[0] == "stage"] == ["reviews-a.json", "reviews-b.json", "reviews-c.json"]
    assert [e[1] for e in watched if e[0] == "save"] == ["reviews-a.json", "reviews-c.json"]
    assert con.execute("SELECT count(*) FROM imports").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM reviews").fetchone() == (50,)
    assert collect_paths(con, settings) == []  # nothing left over for the next run


def test_a_bad_file_staged_ahead_fails_alone_with_its_own_error(settings, practice_dir, con, watched):
    folder = practice_dir / "exports" / "google" / "account-42" / "location-1001"
    write_google_file(folder, "reviews-1.json", first=0, count=25)
    # A record the reference parser rejects (a rating Google does not write), between two good files.
    bad = write_google_file(folder, "reviews-2.json", first=200, count=3)
    document = json.loads(bad.read_text(encoding="utf-8"))
    document["reviews"][1]["starRating"] = "ELEVEN"
    bad.write_text(json.dumps(document), encoding="utf-8")
    write_google_file(folder, "reviews-3.json", first=300, count=25)

    results = collect_paths(con, settings)

    assert [(r.origin.rsplit("/", 1)[-1], r.status) for r in results] == [
        ("reviews-1.json", "ok"), ("reviews-2.json", "failed"), ("reviews-3.json", "ok")]
    error = results[1].error
    assert error.startswith("reviews-2.json") and "ELEVEN" in error and "\n" not in error
    assert [e[1:] for e in watched if e[0] == "save"] == [
        ("reviews-1.json", True), ("reviews-2.json", True), ("reviews-3.json", True)]
    # Nothing of the bad file was written; the files around it are complete.
    assert con.execute("SELECT count(*) FROM reviews").fetchone() == (50,)
    assert con.execute("SELECT count(*) FROM reviews WHERE source_review_id LIKE 'r2__'").fetchone() == (0,)
    assert temp_tables(con) == []


def test_the_same_databases_with_and_without_staging_ahead(settings, practice_dir, tmp_path, monkeypatch):
    folder = practice_dir / "exports" / "google" / "account-42" / "location-1001"
    for k in range(3):
        # Overlapping files, each a later edit of the reviews they share: they must be merged in order.
        write_google_file(folder, f"reviews-{k}.json", first=k * 30 + 10, count=40, edit=k)

    def stored(data_dir):
        with connect(data_dir / "reviewpulse.duckdb") as c:
            collect_paths(c, settings.model_copy(update={"data_dir": data_dir}))
            return (c.execute("SELECT review_id, text, updated_at, first_import_id, last_import_id FROM reviews"
                              " ORDER BY 1").fetchall(),
                    c.execute("SELECT review_id, text, import_id FROM review_versions ORDER BY ALL").fetchall())

    ahead = stored(tmp_path / "ahead")
    # One file after the other: nothing is staged ahead, each file is staged on the collect's connection.
    monkeypatch.setattr(ingest.collect, "_stage_ahead", lambda *args: None)
    one_by_one = stored(tmp_path / "one_by_one")
    assert ahead == one_by_one
    reviews, versions = ahead
    assert len(reviews) == 100 and len(versions) == 120  # 40 + 30 + 30 new, and 10 + 10 edits
    assert dict((r[0], r[1]) for r in reviews)["google:r75"].endswith("waited 27 minutes.")  # the last file's edit
