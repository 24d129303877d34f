"""DuckDB's readers (ingest.bulk) import exactly what the Python parsers (the reference) import.

Every case imports the same files twice into fresh databases: once as `collect` does it (the fast path
for Google JSON files and CSV exports, the Python parser for what it cannot read exactly) and once with
the fast path switched off. The rows of `reviews`, `review_versions` and `imports` must be equal (all
columns but the wall-clock times of the run), and every failed import must carry the same one-line error.
"""

from __future__ import annotations

import json
import sys
import tracemalloc
import unicodedata
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config import load_settings
from db import connect
from errors import ParseError
from ingest import bulk, bulk_csv, collect, gbp
from ingest.store import FastPathUnavailable

from conftest import FIXTURES, REPO, write_config

sys.path.insert(0, str(REPO / "benchmarks"))
import generate  # noqa: E402

CSV_SOURCE = """
[[sources]]
name = "carecompass"
type = "csv"
platform = "carecompass"
path = "exports/carecompass"
[sources.columns]
id = "Review ID"
location = "Location"
author = "Patient Name"
rating = "Rating"
date = "Review Date"
text = "Review"
reply = "Practice Response"
reply_date = "Response Date"
"""


class FastPathSpy:
    """Wraps bulk.build_fast_stage to record, per file, whether the fast path staged it."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}
        self._build = bulk.build_fast_stage

    def __call__(self, path, **kwargs):
        stage = self._build(path, **kwargs)
        if stage is None:
            return None

        def spied(con, seen_at):
            try:
                count = stage(con, seen_at)
            except FastPathUnavailable as exc:
                self.outcomes[path.name] = f"python: {exc}"
                raise
            self.outcomes[path.name] = "fast"
            return count

        return spied


def read_tables(con) -> dict[str, list[tuple]]:
    return {
        "reviews": con.execute(
            "SELECT * EXCLUDE (first_seen_at, last_seen_at) FROM reviews ORDER BY review_id").fetchall(),
        "review_versions": con.execute(
            "SELECT * EXCLUDE (seen_at) FROM review_versions ORDER BY review_id, content_hash").fetchall(),
        "imports": con.execute(
            "SELECT source, source_type, regexp_extract(origin, '[^/]*$') AS file, sha256, status, rows_seen, rows_new,"
            " rows_updated, rows_removed, error FROM imports ORDER BY import_id").fetchall(),
    }


def collect_both(monkeypatch, settings_for, deliveries: int = 1) -> tuple[dict, dict, FastPathSpy]:
    """Run collect_paths `deliveries` times with the fast path and without it; return both databases'
    rows and what the fast path did. `settings_for(run, delivery)` prepares the files of a delivery and
    returns the settings; run is 'fast' or 'reference'."""
    results = {}
    spy = FastPathSpy()
    for run in ("fast", "reference"):
        with monkeypatch.context() as patch:
            patch.setattr(bulk, "build_fast_stage", spy if run == "fast" else (lambda path, **kwargs: None))
            con = None
            try:
                for delivery in range(deliveries):
                    settings = settings_for(run, delivery)
                    con = con or connect(settings.database_path, timezone=settings.timezone)
                    collect.collect_paths(con, settings)
                results[run] = read_tables(con)
            finally:
                if con is not None:
                    con.close()
    return results["fast"], results["reference"], spy


def assert_same(fast: dict, reference: dict) -> None:
    for table in ("reviews", "review_versions", "imports"):
        assert len(fast[table]) == len(reference[table]), table
        for mine, theirs in zip(fast[table], reference[table]):
            assert mine == theirs, table


def practice(tmp_path: Path, run: str, extra: str = "") -> Path:
    folder = tmp_path / run
    write_config(folder, extra)
    return folder


# -- the sample exports --------------------------------------------------------------------------------

def test_fixture_exports_import_identically(tmp_path, monkeypatch):
    def settings_for(run, delivery):
        folder = practice(tmp_path, run)
        (folder / "exports").mkdir(exist_ok=True)
        if not (folder / "exports" / "google").exists():
            (folder / "exports" / "google").symlink_to(FIXTURES / "google")
            (folder / "exports" / "platform").symlink_to(FIXTURES / "csv")
        return load_settings(folder / "reviewpulse.toml", environ={})

    fast, reference, spy = collect_both(monkeypatch, settings_for)
    assert_same(fast, reference)
    assert len(fast["reviews"]) >= 7
    assert spy.outcomes["reviews.json"] == "fast"
    assert spy.outcomes["platform_utf8_bom.csv"] == "fast"
    assert spy.outcomes["platform_cp1252.csv"].startswith("python")  # Excel's code page: the Python reader


def test_demo_exports_import_identically(tmp_path, monkeypatch):
    demo = REPO / "examples" / "demo" / "reviewpulse.toml"

    def settings_for(run, delivery):
        settings = load_settings(demo, environ={})
        return settings.model_copy(update={"data_dir": tmp_path / run})

    fast, reference, spy = collect_both(monkeypatch, settings_for)
    assert_same(fast, reference)
    assert len(fast["reviews"]) > 100
    assert spy.outcomes["api-2026-09-01.json"] == "fast"
    assert spy.outcomes["reviews-platform.csv"] == "fast"


# -- a generated corpus with irregular records mixed in ------------------------------------------------

# Changes that make a Google record irregular (the Python parser normalises or rejects what they add).
def _irregular_google(record: dict, k: int) -> dict:
    record = dict(record)
    text = record.get("comment") or "Fine visit."
    variants = [
        lambda r: r.update(comment=text.replace(" and ", " &amp; ", 1) + " A&amp;E was quicker."),
        lambda r: r.update(comment=f"(Translated by Google) {text}\n\n(Original)\n{text}"),
        lambda r: r.update(comment=text.replace(" ", "  ", 3)),
        lambda r: r.update(comment=text.replace("\n\n", "\r\n\r\n") + "\r\n"),
        lambda r: r.update(comment="\u202eevil\u202c " + text),
        lambda r: r.update(comment=unicodedata.normalize("NFD", "Café très agréable. ") + text),
        lambda r: r.update(comment=text + "\u200b"),
        lambda r: r.update(comment="  " + text + "\n"),
        lambda r: r.update(createTime=1_700_000_000 + k),
        lambda r: r.update(createTime=r["createTime"].replace(".000Z", "+00:00")),
        lambda r: r.update(updateTime=""),
        lambda r: r.update(starRating="five"),
        lambda r: r.update(starRating=4),
        lambda r: r.update(starRating="STAR_RATING_UNSPECIFIED"),
        lambda r: r.pop("reviewId"),
        lambda r: r.update(extra={"nested": [1, 2, {"deep": None}]}),
        lambda r: r.update(reviewer={**(r.get("reviewer") or {}), "profileUrl": "https://example.org/u/1"}),
        lambda r: r.update(reviewReply={"comment": "Thanks.", "updateTime": r["createTime"], "author": "Office"}),
        lambda r: r.update(reviewer={"displayName": "Jo\u00a0Smith", "isAnonymous": False}),
        lambda r: r.update(reviewer={"displayName": "Hidden", "isAnonymous": True}),
        lambda r: r.update(reviewer=None),
        lambda r: r.update(reviewReply={"comment": "Thank you &mdash; see you soon", "updateTime": r["createTime"]}),
        lambda r: r.update(reviewReply={"comment": "", "updateTime": r["createTime"]}),
        lambda r: r.update(comment=""),
        lambda r: r.pop("comment", None),
        lambda r: r.update(createTime=r["createTime"][:19] + ".123456789Z"),
    ]
    variants[k % len(variants)](record)
    return record


def write_google_corpus(folder: Path, n: int, *, edited: bool = False) -> Path:
    """A Takeout reviews file of n generated reviews, every 7th made irregular; `edited` changes some
    texts and ratings as a later export would."""
    records = []
    for i, review in enumerate(generate.iter_corpus(n, seed=8, locations=1)):
        record = generate.google_record(review)
        if edited and i % 5 == 0:
            record["comment"] = (record.get("comment") or "") + " Update: they called me back."
            record["starRating"] = "FOUR"
            record["updateTime"] = "2026-11-20T10:00:00Z"
        records.append(_irregular_google(record, i // 7) if i % 7 == 3 else record)
    records.append(dict(records[0]))  # the same review twice in one file
    path = folder / "location-9" / "reviews.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"reviews": records, "averageRating": 4.1}, ensure_ascii=False, indent=1),
                    encoding="utf-8")
    return path


def _irregular_csv(row: list[str], k: int) -> list[str]:
    row = list(row)
    variants = [
        lambda r: r.__setitem__(5, r[5] + " Fish &amp; chips nearby."),
        lambda r: r.__setitem__(5, " " + r[5]),
        lambda r: r.__setitem__(3, "5 stars"),
        lambda r: r.__setitem__(3, ""),
        lambda r: r.__setitem__(4, "03/04/2026 14:05"),
        lambda r: r.__setitem__(4, "2025-11-02 01:30:00"),  # repeated hour when New York's DST ends
        lambda r: r.__setitem__(4, "2025-03-09 02:30:00"),  # the hour that does not exist
        lambda r: r.__setitem__(4, "1700000000"),
        lambda r: r.__setitem__(0, ""),  # no id: a stable id is derived
        lambda r: r.__setitem__(0, " " + r[0] + " "),
        lambda r: r.__setitem__(1, r[1] + " "),
        lambda r: r.__setitem__(2, "Ana\u00a0B."),
        lambda r: r.__setitem__(5, r[5].replace("\n\n", "\r\n\r\n")),
        lambda r: r.__setitem__(6, "Thanks  for the feedback"),
        lambda r: r.__setitem__(7, "" if r[6] else "2026-01-01 09:00:00"),
        lambda r: (r.__setitem__(5, ""), r.__setitem__(3, "")),  # nothing said: skipped
        lambda r: r.__setitem__(5, "Very good.\u2028Really."),
    ]
    variants[k % len(variants)](row)
    return row


def write_csv_corpus(folder: Path, n: int, *, edited: bool = False) -> Path:
    """A platform CSV of n generated reviews, every 6th made irregular, plus empty rows and a row of
    empty fields (skipped, but counted in the line numbers)."""
    import csv

    path = folder / "reviews.csv"
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow(generate.CSV_COLUMNS)
        for i, r in enumerate(generate.iter_corpus(n, seed=8, locations=1)):
            text = (r.text or "") + (" Update: sorted out." if edited and i % 4 == 0 else "")
            row = [r.review_id, r.location.name, r.author or "", str(r.rating),
                   r.created_at.strftime("%Y-%m-%d %H:%M:%S"), text, r.reply or "",
                   r.reply_at.strftime("%Y-%m-%d %H:%M:%S") if r.reply_at else ""]
            writer.writerow(_irregular_csv(row, i // 6) if i % 6 == 2 else row)
            if i == n // 2:
                writer.writerow([""] * len(generate.CSV_COLUMNS))
    return path


GENERATED_CONFIG = """\
practice = "Harborview"
timezone = "America/New_York"
data_dir = "state"

[[locations]]
id = "loc01"
name = "{name}"
google_location_ids = ["{google_id}"]

[[sources]]
name = "google"
type = "google"
path = "exports/google"

[[sources]]
name = "csv"
type = "csv"
platform = "carecompass"
path = "exports/csv"
[sources.columns]
id = "Review ID"
location = "Location"
author = "Patient Name"
rating = "Rating"
date = "Review Date"
text = "Review"
reply = "Practice Response"
reply_date = "Response Date"
"""


def test_generated_corpus_with_irregular_records_imports_identically(tmp_path, monkeypatch):
    location = generate.build_locations(1)[0]

    def settings_for(run, delivery):
        folder = tmp_path / run
        folder.mkdir(exist_ok=True)
        (folder / "reviewpulse.toml").write_text(
            GENERATED_CONFIG.format(name=location.name, google_id=location.google_id), encoding="utf-8")
        exports = folder / "exports"
        write_google_corpus(exports / "google" / f"d{delivery}", 400, edited=delivery == 1)
        write_csv_corpus(exports / "csv" / f"d{delivery}", 400, edited=delivery == 1)
        return load_settings(folder / "reviewpulse.toml", environ={})

    fast, reference, spy = collect_both(monkeypatch, settings_for, deliveries=2)
    assert_same(fast, reference)
    assert [row[4] for row in fast["imports"]] == ["ok"] * 4
    assert set(spy.outcomes.values()) == {"fast"}
    updated = [row for row in fast["imports"] if row[7]]
    assert len(updated) == 2  # the second delivery's edits are updates, with new versions
    assert len(fast["review_versions"]) > len(fast["reviews"])
    # A review twice in one file, and again in the next delivery, is still one row (reviews has no
    # index to refuse a second one: schema/0010_reviews_without_index.sql).
    for rows in (fast["reviews"], reference["reviews"]):
        assert len({row[0] for row in rows}) == len(rows)


def test_repeated_keys_in_a_record_import_as_the_json_module_reads_them(tmp_path, monkeypatch):
    """DuckDB's JSON functions take the first of two equal keys, Python's json the last: such records
    are read by the reference parser, the rest of the file still by the fast path."""
    location = generate.build_locations(1)[0]

    def settings_for(run, delivery):
        folder = tmp_path / run
        folder.mkdir(exist_ok=True)
        (folder / "reviewpulse.toml").write_text(
            GENERATED_CONFIG.format(name=location.name, google_id=location.google_id), encoding="utf-8")
        google = write_google_corpus(folder / "exports" / "google", 40)
        text = google.read_text(encoding="utf-8")
        for written, repeated in (('"starRating": ', '"starRating": "ONE", "starRating": '),
                                  ('"reviewer": {', '"reviewer": {"displayName": "Shadow Name", '),
                                  ('"reviewReply": {', '"reviewReply": {"comment": "Shadow reply", ')):
            assert written in text
            text = text.replace(written, repeated, 1)
        google.write_text(text, encoding="utf-8")
        return load_settings(folder / "reviewpulse.toml", environ={})

    fast, reference, spy = collect_both(monkeypatch, settings_for)
    assert_same(fast, reference)
    assert spy.outcomes["reviews.json"] == "fast"
    assert [row[4] for row in fast["imports"]] == ["ok"]
    authors_and_replies = {value for row in fast["reviews"] for value in (row[4], row[10])}
    assert not authors_and_replies & {"Shadow Name", "Shadow reply"}  # the last of two equal keys counts


def test_a_malformed_record_makes_the_same_error_as_the_reference(tmp_path, monkeypatch):
    location = generate.build_locations(1)[0]

    def settings_for(run, delivery):
        folder = tmp_path / run
        folder.mkdir(exist_ok=True)
        (folder / "reviewpulse.toml").write_text(
            GENERATED_CONFIG.format(name=location.name, google_id=location.google_id), encoding="utf-8")
        google = write_google_corpus(folder / "exports" / "google", 60)
        document = json.loads(google.read_text(encoding="utf-8"))
        document["reviews"][41]["starRating"] = "SIX"
        google.write_text(json.dumps(document), encoding="utf-8")
        table = write_csv_corpus(folder / "exports" / "csv", 60)
        lines = table.read_bytes().decode("utf-8").split("\r\n")
        lines[-8] += ",one field too many"
        table.write_bytes("\r\n".join(lines).encode("utf-8"))
        return load_settings(folder / "reviewpulse.toml", environ={})

    fast, reference, spy = collect_both(monkeypatch, settings_for)
    assert_same(fast, reference)
    errors = [row[-1] for row in fast["imports"]]
    assert errors[0] == "reviews.json: reviews[41]: starRating: rating 'SIX' is not a number of stars"
    assert errors[1].startswith("reviews.csv: line ") and errors[1].endswith(": 9 fields where the header has 8")
    assert all(outcome.startswith("python") for outcome in spy.outcomes.values())


# -- hostile and broken exports -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["google", "platform"])
def test_bad_inputs_fail_or_import_identically(tmp_path, monkeypatch, kind):
    corpus = REPO / "tests" / "badinput" / kind

    def settings_for(run, delivery):
        folder = practice(tmp_path, run)
        exports = folder / "exports"
        exports.mkdir(exist_ok=True)
        if not (exports / kind).exists():
            (exports / kind).symlink_to(corpus)
        return load_settings(folder / "reviewpulse.toml", environ={})

    fast, reference, spy = collect_both(monkeypatch, settings_for)
    assert_same(fast, reference)
    failed = [row for row in fast["imports"] if row[4] == "failed"]
    assert len(failed) > 10
    assert all("\n" not in row[-1] for row in failed)


# -- the pieces the fast path relies on -------------------------------------------------------------------

@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_zone_offsets_are_pythons_own_offsets_on_every_steady_day(zone):
    tz = ZoneInfo(zone)
    table = bulk_csv.zone_offsets(tz)
    steady = dict(zip(table.column("day").to_pylist(), table.column("minutes").to_pylist()))
    day = date(1990, 1, 1)
    while day <= date(2100, 12, 31):
        offsets = {datetime.combine(day + timedelta(days=d), time(12), tz).utcoffset() for d in (-1, 0, 1)}
        if day in steady:
            assert offsets == {timedelta(minutes=steady[day])}, day
            local = datetime.combine(day, time(1, 30))
            assert local.replace(tzinfo=tz).utcoffset() == timedelta(minutes=steady[day]), day
        else:
            assert len(offsets) > 1, day
        day += timedelta(days=1)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_zone_hour_offsets_cover_every_hour_around_a_change_but_the_one_it_falls_in(zone):
    tz = ZoneInfo(zone)
    steady_days = set(bulk_csv.zone_offsets(tz).column("day").to_pylist())
    table = bulk_csv.zone_hour_offsets(tz)
    hours = dict(zip(table.column("hour").to_pylist(), table.column("minutes").to_pylist()))

    def offsets(hour: datetime, minutes: range) -> set[timedelta]:
        return {(hour + timedelta(minutes=m, seconds=s)).replace(tzinfo=tz, fold=fold).utcoffset()
                for m in minutes for s in (0, 59) for fold in (0, 1)}

    assert not {hour.date() for hour in hours} & steady_days
    for hour, minutes in hours.items():
        assert offsets(hour, range(0, 60, 7)) | offsets(hour, range(59, 60)) == {timedelta(minutes=minutes)}, hour
    left_out = [datetime.combine(day, time(h)) for day in {hour.date() for hour in hours} for h in range(24)
                if datetime.combine(day, time(h)) not in hours]
    for hour in left_out:  # a change falls in it: some of its times are repeated or missing
        assert len(offsets(hour, range(60))) > 1, hour
    changes_a_year = {"Asia/Kolkata": 0}.get(zone, 2)
    assert len(left_out) >= changes_a_year * 100  # one hour or more a change, 1990-2100
    assert len(hours) >= changes_a_year * 111 * 2 * 23


def test_csv_dates_on_the_days_of_a_change_import_in_sql_and_identically(tmp_path, monkeypatch):
    location = generate.build_locations(1)[0]
    dates = ["2025-03-08 22:15:00", "2025-03-09 01:59:59", "2025-03-09 02:30:00", "2025-03-09 03:00:00",
             "2025-03-09 23:59:00", "2025-11-01 23:00:00", "2025-11-02 00:59:59", "2025-11-02 01:00:00",
             "2025-11-02 01:59:59", "2025-11-02 02:00:00", "2025-11-02 18:45:00", "2025-11-03 08:00:00"]
    lines = [",".join(generate.CSV_COLUMNS)]
    lines += [f"id{i},{location.name},Ana B.,4,{day},Seen on time.,Thanks.,{dates[-1 - i]}" for i, day in enumerate(dates)]
    python_rows = []
    original = bulk_csv.append_rows

    def append_python_rows(con, rows, **kwargs):
        python_rows.append(original(con, rows, **kwargs))
        return python_rows[-1]

    monkeypatch.setattr(bulk_csv, "append_rows", append_python_rows)

    def settings_for(run, delivery):
        folder = tmp_path / run
        (folder / "exports" / "csv").mkdir(parents=True)
        (folder / "exports" / "csv" / "reviews.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "reviewpulse.toml").write_text(
            GENERATED_CONFIG.format(name=location.name, google_id=location.google_id), encoding="utf-8")
        return load_settings(folder / "reviewpulse.toml", environ={})

    fast, reference, spy = collect_both(monkeypatch, settings_for)
    assert_same(fast, reference)
    assert spy.outcomes["reviews.csv"] == "fast"
    # Only the rows with a repeated (01:00-01:59 on 2 November) or missing (02:00-02:59 on 9 March) time,
    # as a review or a reply date, are read by the Python parser.
    assert python_rows == [6]


@pytest.mark.parametrize(("content", "safe"), [
    (b'a,b\r\n1,"x\r\ny"\r\n', True),
    (b'a,b\n1,"he said ""hi"" to me"\n', True),
    (b'a,b\n1, "x"\n', False),  # DuckDB drops the blank, Python keeps it
    (b'a,b\n1,"x" \n', False),  # Python refuses it
    (b'a,b\r1,2\r', False),  # lone CR
    (b'a,b\n1,"x\n', False),  # unbalanced quote
])
def test_csv_scan_flags_what_the_two_readers_read_differently(tmp_path, content, safe):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    lines, ok = bulk_csv.scan_csv_lines(path)
    assert ok is safe
    if safe:  # the count the line numbers are checked against
        assert lines == content.count(b"\n")


# -- streaming a large Google file (the Python path) ------------------------------------------------------

def _parse_all(path: Path, monkeypatch, stream_bytes: int):
    """Every Review of a Google file, or the one-line error, with files over `stream_bytes` streamed."""
    monkeypatch.setattr(gbp, "STREAM_BYTES", stream_bytes)
    try:
        with path.open("rb") as fp:
            return list(gbp.iter_reviews(fp, file=path.name))
    except ParseError as exc:
        return str(exc)


STREAM_CASES = {
    "top_level_list.json": b'[{"reviewId": "a", "createTime": "2026-01-01T00:00:00Z", "comment": "ok"}]',
    "lone_surrogate.json": b'{"reviews": [{"reviewId": "a", "createTime": "2026-01-01T00:00:00Z", "comment": "x\\ud800"}]}',
    "pair.json": b'{"reviews": [{"reviewId": "a", "createTime": "2026-01-01T00:00:00Z", "comment": "\\ud83d\\ude00"}]}',
    "nan.json": b'{"reviews": [{"reviewId": "a", "createTime": "2026-01-01T00:00:00Z", "x": NaN}]}',
    "big_int.json": b'{"reviews": [{"reviewId": "a", "createTime": 1700000000, "x": 123456789012345678901234567890}]}',
    "twice.json": b'{"reviews": [{"reviewId": "a", "createTime": "2026-01-01T00:00:00Z"}], "reviews": []}',
    "deep.json": b'{"reviews": [{"reviewId": "a", "createTime": "2026-01-01T00:00:00Z", "x": '
                 + b"[" * 5000 + b"]" * 5000 + b"}]}",
    "bad_after.json": b'{"reviews": [{"reviewId": "a", "starRating": "SIX", "createTime": "2026-01-01T00:00:00Z"}],'
                      b' "next": tru}',
    "bom.json": b'\xef\xbb\xbf{"reviews": [{"reviewId": "a", "createTime": "2026-01-01T00:00:00Z"}]}',
}


def test_streamed_google_files_give_what_the_json_module_gives(tmp_path, monkeypatch):
    paths = sorted((REPO / "tests" / "badinput" / "google").glob("*.json"))
    paths += sorted((FIXTURES / "google").rglob("*.json"))
    paths.append(write_google_corpus(tmp_path / "corpus", 300))
    for name, content in STREAM_CASES.items():
        (tmp_path / name).write_bytes(content)
        paths.append(tmp_path / name)
    for path in paths:
        whole = _parse_all(path, monkeypatch, stream_bytes=2**62)
        streamed = _parse_all(path, monkeypatch, stream_bytes=0)
        assert streamed == whole, path.name
    assert len(_parse_all(paths[-10], monkeypatch, 0)) == 301


def test_a_large_google_file_is_parsed_one_review_at_a_time(tmp_path, monkeypatch):
    record = generate.google_record(next(generate.iter_corpus(1, seed=8, locations=1)))
    path = tmp_path / "reviews.json"
    with path.open("w", encoding="utf-8") as fp:
        fp.write('{"reviews": [')
        fp.write(",".join(json.dumps({**record, "reviewId": f"r{i}"}) for i in range(20_000)))
        fp.write("]}")
    monkeypatch.setattr(gbp, "STREAM_BYTES", 1024**2)
    tracemalloc.start()
    try:
        with path.open("rb") as fp:
            count = sum(1 for _ in gbp.iter_reviews(fp, file="reviews.json"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert path.stat().st_size > 10 * 1024**2
    assert peak < 4 * 1024**2  # a few reviews at a time, not the file's parsed objects
