"""Importing into the DuckDB file: idempotence, edited reviews, locations, and the inbox's quarantine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from db import connect
from ingest.collect import collect_all, collect_inbox, collect_paths

from conftest import FIXTURES, copy_fixture


@pytest.fixture
def con(settings):
    connection = connect(settings.database_path)
    yield connection
    connection.close()


def reviews_table(con):
    return con.execute(
        "SELECT review_id, location_id, author, rating, text FROM reviews ORDER BY review_id"
    ).fetchall()


def test_takeout_and_csv_import_into_reviews_with_resolved_locations(settings, practice_dir, con):
    copy_fixture("google/account-42", practice_dir / "exports" / "google")
    copy_fixture("csv/platform_utf8_bom.csv", practice_dir / "exports" / "platform")
    results = collect_paths(con, settings)
    assert [(r.status, r.rows_seen, r.rows_new) for r in results] == [("ok", 3, 3), ("ok", 3, 3)]
    assert reviews_table(con) == [
        ("google:AbC-111", "main", "Dana Whitfield", 5,
         "Dr. Okafor explained everything & the front desk was lovely. No wait at all!"),
        ("google:AbC-222", "main", None, 2, "Nadie contesta el teléfono."),
        ("google:AbC-333", "main", "Lee 🙂", 4, None),
        ("ratemd:p-1", "main", "Renée Côté", 5, "Très bien — the nurse was kind, I’d return"),
        ("ratemd:p-2", "main", "Bob", 2, "Waited 2 hours.\nThen they said come back tomorrow."),
        ("ratemd:p-3", "main", None, 1, "Had to pay $600 upfront before seeing anyone"),
    ]
    imports = con.execute("SELECT source, status, rows_seen, rows_new, sha256 IS NOT NULL FROM imports ORDER BY 1").fetchall()
    assert imports == [("google", "ok", 3, 3, True), ("platform", "ok", 3, 3, True)]


def test_reimporting_the_same_content_adds_nothing(settings, practice_dir, con):
    google = practice_dir / "exports" / "google"
    copy_fixture("google/account-42", google)
    collect_paths(con, settings)
    assert collect_paths(con, settings) == []  # the same files are not read again
    # the same content under another name, delivered to the inbox, is recognised by its sha256
    inbox = settings.inbox_dir / "google"
    inbox.mkdir(parents=True)
    shutil.copy(google / "account-42" / "location-1001" / "reviews.json", inbox / "reviews-copy.json")
    (result,) = collect_inbox(con, settings)
    assert result.status == "skipped_duplicate"
    assert (settings.inbox_dir / "done" / "reviews-copy.json").exists()
    assert con.execute("SELECT count(*) FROM reviews").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM review_versions").fetchone() == (3,)


def test_overlapping_later_export_updates_edited_reviews_and_keeps_history(settings, practice_dir, con):
    copy_fixture("google/account-42", practice_dir / "exports" / "google")
    collect_paths(con, settings)
    copy_fixture("google/api_page.json", practice_dir / "exports" / "google")
    (result,) = collect_paths(con, settings)
    assert (result.rows_seen, result.rows_new, result.rows_updated) == (2, 1, 1)
    assert con.execute("SELECT rating, text FROM reviews WHERE review_id = 'google:AbC-111'").fetchone() == (
        4, "Dr. Okafor explained everything but I had to pay $150 upfront."
    )
    versions = con.execute(
        "SELECT rating FROM review_versions WHERE review_id = 'google:AbC-111' ORDER BY updated_at"
    ).fetchall()
    assert versions == [(5,), (4,)]
    assert con.execute("SELECT count(*) FROM reviews").fetchone() == (4,)


def test_an_older_export_imported_late_does_not_undo_an_edit(settings, practice_dir, con):
    copy_fixture("google/api_page.json", practice_dir / "exports" / "google")
    collect_paths(con, settings)
    copy_fixture("google/account-42", practice_dir / "exports" / "google")
    collect_paths(con, settings)
    assert con.execute("SELECT rating FROM reviews WHERE review_id = 'google:AbC-111'").fetchone() == (4,)
    assert con.execute("SELECT count(*) FROM review_versions WHERE review_id = 'google:AbC-111'").fetchone() == (2,)


def test_same_location_under_two_accounts_is_deduplicated(settings, practice_dir, con):
    google = practice_dir / "exports" / "google"
    copy_fixture("google/account-42", google)
    second = google / "account-77" / "location-1001"
    second.mkdir(parents=True)
    text = (FIXTURES / "google" / "account-42" / "location-1001" / "reviews.json").read_text()
    (second / "reviews.json").write_text(text.replace('"totalReviewCount": 3', '"totalReviewCount": 3 '))
    results = collect_paths(con, settings)
    assert [(r.rows_new, r.rows_updated) for r in results] == [(3, 0), (0, 0)]
    assert con.execute("SELECT count(*), count(DISTINCT review_id) FROM reviews").fetchone() == (3, 3)
    # The versions delivered twice are stored once (review_versions has no index to refuse them).
    assert con.execute("SELECT count(*), count(DISTINCT (review_id, content_hash)) FROM review_versions").fetchone() == (3, 3)


def test_inbox_quarantines_bad_files_with_a_precise_error_and_imports_the_rest(settings, con):
    inbox = settings.inbox_dir
    (inbox / "google").mkdir(parents=True)
    (inbox / "platform").mkdir(parents=True)
    shutil.copy(FIXTURES / "google" / "api_page.json", inbox / "google" / "good.json")
    (inbox / "google" / "broken.json").write_text('{"reviews": [{"reviewId": "z", "starRating": "FIVE",\n  "createTime": }]}')
    shutil.copy(FIXTURES / "csv" / "platform_cp1252.csv", inbox / "platform" / "good.csv")
    shutil.copy(FIXTURES / "csv" / "bad_rating.csv", inbox / "platform" / "bad_rating.csv")

    results = {Path(r.origin).name: r for r in collect_inbox(con, settings)}

    assert {name: r.status for name, r in results.items()} == {
        "good.json": "ok", "broken.json": "failed", "good.csv": "ok", "bad_rating.csv": "failed",
    }
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "bad_rating.csv", "bad_rating.csv.error.txt", "broken.json", "broken.json.error.txt",
    ]
    assert (failed / "broken.json.error.txt").read_text().startswith("broken.json: line 2 column 17: invalid JSON")
    assert (failed / "bad_rating.csv.error.txt").read_text() == (
        "bad_rating.csv: line 3: column 'Stars': rating 'seven' is not a number of stars\n"
    )
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["good.csv", "good.json"]
    # nothing of the bad CSV was written, although its first row was valid
    assert con.execute("SELECT count(*) FROM reviews WHERE source = 'ratemd'").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM reviews WHERE source = 'google'").fetchone() == (2,)
    assert con.execute("SELECT error FROM imports WHERE status = 'failed' ORDER BY error").fetchall() == [
        ("bad_rating.csv: line 3: column 'Stars': rating 'seven' is not a number of stars",),
        ("broken.json: line 2 column 17: invalid JSON: Expecting value",),
    ]


def test_unrecognised_inbox_file_is_quarantined_with_advice(settings, con):
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "notes.pdf").write_bytes(b"%PDF-1.4 binary")
    (result,) = collect_all(con, settings)
    assert result.status == "failed"
    assert result.error.startswith("notes.pdf: cannot tell which source this file belongs to; put it in inbox/<source name>/")


def test_unknown_location_is_an_error_naming_the_line(settings, practice_dir, con):
    (practice_dir / "exports" / "platform" / "x.csv").write_text(
        "Review ID,Clinic,Patient,Stars,Date,Comment,Response\nq-1,Mars Base,A,5,2026-01-01,Great,\n"
    )
    (result,) = collect_paths(con, settings)
    assert result.error == (
        "x.csv: line 2: location 'Mars Base' is not a configured location id, name, alias or google_location_id"
    )
    assert con.execute("SELECT count(*) FROM reviews").fetchone() == (0,)


def test_a_file_that_cannot_be_read_is_a_failed_import_not_a_crash(settings, practice_dir, con):
    from ingest.collect import import_file

    vanished = practice_dir / "exports" / "google" / "gone.json"  # listed, then deleted before reading
    result = import_file(con, settings, settings.source("google"), vanished)
    assert result.status == "failed"
    assert result.error.startswith("gone.json: FileNotFoundError:")
    assert con.execute("SELECT status, origin FROM imports").fetchall() == [("failed", str(vanished))]


def test_a_failed_file_is_tried_again_once_the_settings_change(practice_dir, con):
    import os

    from config import load_settings

    config = practice_dir / "reviewpulse.toml"
    settings = load_settings(config, environ={})
    (practice_dir / "exports" / "platform" / "x.csv").write_text(
        "Review ID,Clinic,Patient,Stars,Date,Comment,Response\nq-1,Riverside,A,5,2026-01-01,Great,\n"
    )
    (first,) = collect_paths(con, settings)
    assert first.status == "failed"
    assert collect_paths(con, settings) == []  # the same settings: not tried on every run
    config.write_text(config.read_text().replace('aliases = ["Main St"]', 'aliases = ["Main St", "Riverside"]'))
    later = con.execute("SELECT max(finished_at) FROM imports").fetchone()[0].timestamp() + 1
    os.utime(config, (later, later))
    (second,) = collect_paths(con, load_settings(config, environ={}))
    assert (second.status, second.rows_new) == ("ok", 1)


def test_a_source_path_that_does_not_exist_is_said_on_every_run(settings, practice_dir, con, caplog):
    (practice_dir / "exports" / "platform").rmdir()
    assert collect_paths(con, settings) == []
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        f"{practice_dir / 'exports' / 'platform'}: no such file or folder (source 'platform', path)"
    ]


def test_a_file_still_being_written_waits_in_the_inbox_until_it_settles(settings, con):
    import os
    import time

    inbox = settings.inbox_dir / "google"
    inbox.mkdir(parents=True)
    copying = inbox / "copying.json"
    shutil.copy(FIXTURES / "google" / "api_page.json", copying)
    assert collect_inbox(con, settings, settle_seconds=60) == []
    assert copying.exists()
    settled = time.time() - 120
    os.utime(copying, (settled, settled))
    (result,) = collect_inbox(con, settings, settle_seconds=60)
    assert (result.status, result.rows_new) == ("ok", 2)
