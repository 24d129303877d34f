"""`reviewpulse sql`: read-only queries printed as a table, CSV, JSON or Markdown, or a prompt."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import db
from cli import main
from demo_database import demo_settings, write_cli_config
from exports import render_rows

REPO = Path(__file__).resolve().parents[1]
QUERY = "SELECT location_id, count(*) AS reviews FROM v_reviews GROUP BY 1 ORDER BY 1"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    settings = demo_settings(tmp_path_factory)
    config = write_cli_config(settings, tmp_path_factory.mktemp("cfg"))
    con = db.connect(settings.database_path, read_only=True)
    expected = con.execute(QUERY).fetchall()
    con.close()
    return settings, config, expected


def sql(config, *args, input=None):
    return CliRunner().invoke(main, ["-c", str(config), "sql", *args], input=input)


def test_table_is_aligned_with_numbers_to_the_right(demo):
    _, config, expected = demo
    result = sql(config, QUERY)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["location_id", "reviews"]
    assert set(lines[1]) == {"-", " "}
    assert [line.split() for line in lines[2:]] == [[loc, str(n)] for loc, n in expected]
    assert len({len(line) for line in lines[1:]}) == 1  # right-aligned counts end in one column


def test_csv_json_and_markdown_carry_the_same_rows(demo):
    _, config, expected = demo
    as_csv = sql(config, "--format", "csv", QUERY)
    assert list(csv.reader(as_csv.output.splitlines())) == [["location_id", "reviews"]] + [
        [loc, str(n)] for loc, n in expected
    ]
    as_json = sql(config, "-f", "json", QUERY)
    assert json.loads(as_json.output) == [{"location_id": loc, "reviews": n} for loc, n in expected]
    as_md = sql(config, "--format", "markdown", QUERY)
    assert as_md.output.splitlines() == ["| location_id | reviews |", "|---|---|"] + [
        f"| {loc} | {n} |" for loc, n in expected
    ]


def test_json_renders_dates_lists_and_nulls(demo):
    _, config, _ = demo
    result = sql(config, "-f", "json",
                 "SELECT DATE '2026-11-16' AS d, ['phone_access', 'billing'] AS themes, NULL AS nothing, 0.5 AS x")
    assert json.loads(result.output) == [{"d": "2026-11-16", "themes": ["phone_access", "billing"], "nothing": None,
                                          "x": 0.5}]


def test_terminal_output_cannot_carry_escape_sequences_or_break_lines():
    hostile = "fine\x1b[2J\x1b]0;owned\x07\nsecond line | pipe"
    table = render_rows(["text"], [(hostile,)], "table")
    markdown = render_rows(["text"], [(hostile,)], "markdown")
    for out in (table, markdown):
        assert "\x1b" not in out and "\x07" not in out
        assert "\\x1b[2J" in out
    assert len(table.splitlines()) == 3 and len(markdown.splitlines()) == 3
    assert markdown.splitlines()[2].count(" | ") == 0  # the pipe in the text is escaped


def test_errors_are_one_line_and_writes_are_refused(demo):
    settings, config, _ = demo
    bad = sql(config, "SELECT * FROM no_such_table")
    assert bad.exit_code == 2
    assert bad.output.count("\n") == 1
    assert bad.output.startswith("error: query failed: Catalog Error: Table with name no_such_table does not exist")
    for statement in ("DELETE FROM reviews", "DROP VIEW v_reviews", "UPDATE settings SET value = 'UTC'"):
        refused = sql(config, statement)
        assert refused.exit_code == 2 and "read-only" in refused.output and refused.output.count("\n") == 1
    con = db.connect(settings.database_path, read_only=True)
    assert con.execute("SELECT practice_timezone(), count(*) > 0 FROM v_reviews").fetchone() == ("America/Chicago", True)
    con.close()


def test_prompt_reads_statements_until_semicolons_and_survives_errors(demo):
    _, config, _ = demo
    typed = "SELECT 1 AS one;\nSELECT\n  2 AS two,\n  3 AS three;\nSELEC oops;\nSELECT 'after the error' AS s;\n.quit\nSELECT 4;\n"
    result = sql(config, "--format", "csv", input=typed)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["one", "1", "two,three", "2,3", "s", "after the error"]
    assert result.stderr.splitlines() == ['error: query failed: Parser Error: syntax error at or near "SELEC"']


def test_prompt_ends_at_end_of_input_running_an_unterminated_last_statement(demo):
    _, config, _ = demo
    result = sql(config, "-f", "csv", input="SELECT 5 AS five")
    assert (result.exit_code, result.stdout) == (0, "five\n5\n")
    empty = sql(config, input="")
    assert (empty.exit_code, empty.output) == (0, "")


def test_a_missing_database_says_to_collect_first(tmp_path):
    config = tmp_path / "reviewpulse.toml"
    config.write_text('practice = "x"\ndata_dir = "nowhere"\n[[locations]]\nid = "main"\nname = "Main"\n')
    result = CliRunner().invoke(main, ["-c", str(config), "sql", "SELECT 1"])
    assert result.exit_code == 2
    assert result.output.strip().endswith("no database yet; run `reviewpulse collect` first")


HOLD_WRITER = """
import sys
import db
from pathlib import Path
with db.open_writer(Path(sys.argv[1]), Path(sys.argv[2]), timezone="America/Chicago") as con:
    con.execute("SELECT count(*) FROM reviews").fetchone()
    print("writing", flush=True)
    sys.stdin.readline()
"""


@pytest.mark.timeout(120)
def test_readers_get_a_clear_message_while_a_job_writes_and_read_again_after(demo):
    settings, config, expected = demo
    assert sql(config, QUERY).exit_code == 0  # no job running: analysts read freely
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(settings.database_path), str(settings.lock_path)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline() == "writing\n"
        started = time.monotonic()
        blocked = sql(config, QUERY)
        assert time.monotonic() - started < 10  # an answer at once, not a wait for the writer
        assert blocked.exit_code == 2
        assert blocked.output.count("\n") == 1
        assert "the database is open for writing by another ReviewPulse process" in blocked.output
        exported = CliRunner().invoke(main, ["-c", str(config), "export", "--out", str(settings.data_dir / "x")])
        assert exported.exit_code == 2 and "open for writing" in exported.output
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)
    assert writer.returncode == 0
    after = sql(config, "-f", "csv", QUERY)
    assert after.exit_code == 0
    assert list(csv.reader(after.output.splitlines()))[1:] == [[loc, str(n)] for loc, n in expected]


def test_jobs_record_the_practice_time_zone_for_the_views(practice_dir):
    config = practice_dir / "reviewpulse.toml"
    assert CliRunner().invoke(main, ["-c", str(config), "collect"]).exit_code == 0
    zone = CliRunner().invoke(main, ["-c", str(config), "sql", "-f", "csv", "SELECT practice_timezone() AS zone"])
    assert zone.output.splitlines() == ["zone", "America/Chicago"]
    # The practice moves: the next job records the new zone, and the views follow it.
    config.write_text(config.read_text().replace('"America/Chicago"', '"Europe/Berlin"'))
    assert CliRunner().invoke(main, ["-c", str(config), "collect"]).exit_code == 0
    query = "SELECT practice_timezone(), local_time(TIMESTAMPTZ '2026-01-04 23:30:00+00') AS t"
    moved = CliRunner().invoke(main, ["-c", str(config), "sql", "-f", "csv", query])
    assert moved.output.splitlines()[1] == "Europe/Berlin,2026-01-05 00:30:00"


def test_long_results_are_cut_in_table_form_with_a_note_but_not_in_csv(tmp_path):
    from click.testing import CliRunner

    from cli import main
    from conftest import write_config
    from db import connect

    config = write_config(tmp_path)
    connect(tmp_path / "state" / "reviewpulse.duckdb").close()
    runner = CliRunner()
    query = "SELECT range AS n FROM range(1500)"
    table = runner.invoke(main, ["-c", str(config), "sql", query])
    assert table.exit_code == 0
    assert "(only the first 1000 rows are shown" in table.output
    numbers = [line.strip() for line in table.output.splitlines() if line.strip().isdigit()]
    assert (len(numbers), numbers[-1]) == (1000, "999")
    few = runner.invoke(main, ["-c", str(config), "sql", "--max-rows", "3", query])
    assert [line.strip() for line in few.output.splitlines() if line.strip().isdigit()] == ["0", "1", "2"]
    csv_out = runner.invoke(main, ["-c", str(config), "sql", "--format", "csv", query])
    assert csv_out.output.splitlines()[-1] == "1499"
    assert len(csv_out.output.splitlines()) == 1501
