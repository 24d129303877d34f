"""Removed reviews: a complete delivery marks what disappeared `removed_at`, keeps it, and restores it
when it comes back; partial deliveries never remove anything."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from db import connect
from ingest.collect import collect_paths


def review(n: int, location: str = "1001", text: str | None = None) -> dict:
    return {
        "name": f"accounts/42/locations/{location}/reviews/r{n}",
        "reviewId": f"r{n}",
        "reviewer": {"displayName": f"Patient {n}"},
        "starRating": "FOUR",
        "comment": text or f"Visit {n} went fine.",
        "createTime": f"2024-03-{n:02d}T12:00:00Z",
        "updateTime": f"2024-03-{n:02d}T12:00:00Z",
    }


def deliver_takeout(folder: Path, name: str, by_location: dict[str, list[dict]]) -> Path:
    """Write a Takeout archive as Google delivers it: one reviews.json per location folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for location, reviews in by_location.items():
            member = f"Takeout/Google Business Profile/account-42/location-{location}/reviews.json"
            archive.writestr(member, json.dumps({"reviews": reviews}))
    return path


@pytest.fixture
def con(settings):
    connection = connect(settings.database_path)
    yield connection
    connection.close()


def states(con) -> list[tuple]:
    return con.execute(
        "SELECT review_id, location_id, removed_at IS NOT NULL FROM reviews ORDER BY review_id"
    ).fetchall()


def test_takeout_delivered_twice_marks_the_missing_review_removed_and_keeps_it(settings, practice_dir, con):
    exports = practice_dir / "exports" / "google"
    deliver_takeout(exports, "takeout-1.zip", {"1001": [review(1), review(2), review(3)], "2002": [review(4, "2002")]})
    (first,) = collect_paths(con, settings)
    assert (first.status, first.rows_new, first.rows_removed) == ("ok", 4, 0)

    # The second export lacks review 2 (the patient deleted it) and has no folder for location 2002.
    deliver_takeout(exports, "takeout-2.zip", {"1001": [review(1), review(3)]})
    (second,) = collect_paths(con, settings)
    assert (second.status, second.rows_seen, second.rows_new, second.rows_removed) == ("ok", 2, 0, 1)
    assert states(con) == [
        ("google:r1", "main", False),
        ("google:r2", "main", True),  # kept, with its history
        ("google:r3", "main", False),
        ("google:r4", "east", False),  # another location's reviews are not judged by this export
    ]
    removed_at, last_import = con.execute(
        "SELECT removed_at, last_import_id FROM reviews WHERE review_id = 'google:r2'"
    ).fetchone()
    assert removed_at is not None and last_import == first.import_id
    assert con.execute("SELECT count(*) FROM review_versions WHERE review_id = 'google:r2'").fetchone() == (1,)

    # It reappears (restored by Google after an appeal): removed_at is cleared.
    deliver_takeout(exports, "takeout-3.zip", {"1001": [review(1), review(2), review(3)]})
    (third,) = collect_paths(con, settings)
    assert (third.rows_new, third.rows_updated, third.rows_removed) == (0, 1, 0)
    assert states(con) == [
        ("google:r1", "main", False), ("google:r2", "main", False), ("google:r3", "main", False), ("google:r4", "east", False)
    ]


def test_a_single_json_file_is_not_a_snapshot_and_removes_nothing(settings, practice_dir, con):
    exports = practice_dir / "exports" / "google"
    deliver_takeout(exports, "takeout-1.zip", {"1001": [review(1), review(2)]})
    collect_paths(con, settings)
    page = exports / "location-1001" / "reviews.json"
    page.parent.mkdir()
    page.write_text(json.dumps({"reviews": [review(1, text="Visit 1 went fine, edited.")]}), encoding="utf-8")
    (result,) = collect_paths(con, settings)
    assert (result.rows_updated, result.rows_removed) == (1, 0)
    assert states(con) == [("google:r1", "main", False), ("google:r2", "main", False)]


def test_an_empty_snapshot_removes_nothing(settings, practice_dir, con):
    """An export with no reviews at all is more likely a broken export than every review deleted."""
    exports = practice_dir / "exports" / "google"
    deliver_takeout(exports, "takeout-1.zip", {"1001": [review(1)]})
    collect_paths(con, settings)
    deliver_takeout(exports, "takeout-2.zip", {"1001": []})
    (result,) = collect_paths(con, settings)
    assert (result.status, result.rows_removed) == ("ok", 0)
    assert states(con) == [("google:r1", "main", False)]


def test_a_snapshot_does_not_remove_what_another_source_of_the_platform_delivered(practice_dir, con):
    from config import load_settings
    from conftest import write_config

    write_config(practice_dir, """
        [[sources]]
        name = "maps-export"
        type = "google"
        path = "exports/maps"
        """)
    settings = load_settings(practice_dir / "reviewpulse.toml", environ={})
    (practice_dir / "exports" / "maps").mkdir(parents=True)
    (practice_dir / "exports" / "maps" / "page.json").write_text(json.dumps({"reviews": [review(9)]}))
    deliver_takeout(practice_dir / "exports" / "google", "takeout-1.zip", {"1001": [review(1)]})
    results = collect_paths(con, settings)
    assert sorted((r.rows_new, r.rows_removed) for r in results) == [(1, 0), (1, 0)]
    assert states(con) == [("google:r1", "main", False), ("google:r9", "main", False)]
    deliver_takeout(practice_dir / "exports" / "google", "takeout-2.zip", {"1001": [review(2)]})
    (result,) = collect_paths(con, settings)
    assert result.rows_removed == 1  # r1, delivered by the Takeout source; r9 belongs to the other source
    assert states(con) == [("google:r1", "main", True), ("google:r2", "main", False), ("google:r9", "main", False)]
