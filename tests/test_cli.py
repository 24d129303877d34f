"""The `reviewpulse` command end to end on a temporary practice folder."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from cli import main

from conftest import FIXTURES, copy_fixture


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, practice_dir, *args):
    return runner.invoke(main, ["-c", str(practice_dir / "reviewpulse.toml"), *args], catch_exceptions=False)


def test_init_writes_a_config_that_loads_and_refuses_to_overwrite(runner, tmp_path):
    result = runner.invoke(main, ["init", str(tmp_path / "clinic"), "--practice", 'Dr "Q" Clinic 😀',
                                  "--timezone", "Europe/London"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "clinic" / "data" / "inbox").is_dir()
    status = runner.invoke(main, ["-c", str(tmp_path / "clinic" / "reviewpulse.toml"), "collect"])
    assert status.exit_code == 0, status.output
    assert "nothing new to import" in status.output
    from config import load_settings

    assert load_settings(tmp_path / "clinic" / "reviewpulse.toml", environ={}).practice == 'Dr "Q" Clinic 😀'
    again = runner.invoke(main, ["init", str(tmp_path / "clinic")])
    assert again.exit_code == 2
    assert again.output.strip().endswith("reviewpulse.toml: already exists; edit it or remove it first")


def test_init_with_a_bad_time_zone_writes_nothing(runner, tmp_path):
    result = runner.invoke(main, ["init", str(tmp_path / "clinic"), "--timezone", "Mars/Olympus"])
    assert result.exit_code == 2
    assert "timezone: unknown time zone 'Mars/Olympus'" in result.output
    assert list((tmp_path / "clinic").iterdir()) == []


def test_collect_then_status_and_sql(runner, practice_dir):
    copy_fixture("google/account-42", practice_dir / "exports" / "google")
    first = invoke(runner, practice_dir, "collect")
    assert first.exit_code == 0, first.output
    assert "reviews.json: 3 reviews, 3 new, 0 updated, 0 removed" in first.output
    second = invoke(runner, practice_dir, "collect")
    assert second.output.strip() == "nothing new to import"

    status = invoke(runner, practice_dir, "status")
    assert status.exit_code == 0
    assert "main: 3 reviews, newest 2026-03-06" in status.output
    assert "ok" in status.output and "(3 new, 0 updated)" in status.output

    query = invoke(runner, practice_dir, "sql", "SELECT rating, count(*) AS n FROM reviews GROUP BY 1 ORDER BY 1")
    assert query.exit_code == 0
    assert "rating" in query.output and "n" in query.output
    for rating in ("2", "4", "5"):
        assert any(line.split()[:2] == [rating, "1"] for line in query.output.splitlines()), query.output


def test_collect_with_a_bad_file_imports_the_rest_and_exits_1(runner, practice_dir):
    inbox = practice_dir / "state" / "inbox" / "platform"
    inbox.mkdir(parents=True)
    shutil.copy(FIXTURES / "csv" / "bad_rating.csv", inbox)
    copy_fixture("google/api_page.json", practice_dir / "exports" / "google")
    result = runner.invoke(main, ["-c", str(practice_dir / "reviewpulse.toml"), "collect"])
    assert result.exit_code == 1
    assert "FAILED bad_rating.csv: line 3: column 'Stars'" in result.output
    assert "api_page.json: 2 reviews, 2 new" in result.output
    status = invoke(runner, practice_dir, "status")
    assert "bad_rating.csv.error.txt: bad_rating.csv: line 3" in status.output


def test_bad_settings_and_bad_sql_are_one_line_errors(runner, practice_dir):
    (practice_dir / "broken.toml").write_text('practice = "x"\ntimezone = "Nowhere/Land"\n')
    result = runner.invoke(main, ["-c", str(practice_dir / "broken.toml"), "collect"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    copy_fixture("google/api_page.json", practice_dir / "exports" / "google")
    invoke(runner, practice_dir, "collect")
    bad = runner.invoke(main, ["-c", str(practice_dir / "reviewpulse.toml"), "sql", "SELEC nonsense"])
    assert bad.exit_code == 2
    assert bad.output.startswith("error: ")
    assert bad.output.count("\n") == 1
    write = runner.invoke(main, ["-c", str(practice_dir / "reviewpulse.toml"), "sql", "DELETE FROM reviews"])
    assert write.exit_code == 2 and "read-only" in write.output


def test_run_collects_analyzes_reports_and_prints_the_newest_report(runner, practice_dir):
    copy_fixture("google/account-42", practice_dir / "exports" / "google")
    copy_fixture("google/api_page.json", practice_dir / "exports" / "google")
    copy_fixture("csv/platform_utf8_bom.csv", practice_dir / "exports" / "platform")
    result = invoke(runner, practice_dir, "run")
    assert result.exit_code == 0, result.output
    newest = result.output.strip().splitlines()[-1]
    assert newest.endswith(".html")
    from pathlib import Path

    page = Path(newest)
    assert page.is_file() and page.is_relative_to(practice_dir / "site")
    html = page.read_text()
    assert "Test Family Practice" in html
    assert (practice_dir / "site" / "index.html").is_file()
    counts = invoke(runner, practice_dir, "sql", "SELECT count(*) FROM review_sentiment WHERE vader_compound IS NOT NULL")
    assert counts.output.split()[-1] == "6"  # every review with text was scored (one is star-only)
    again = invoke(runner, practice_dir, "run")
    assert again.exit_code == 0
    assert "nothing new to import" in again.output
    assert again.output.strip().splitlines()[-1] == newest


def test_every_command_has_an_example_in_its_help(runner):
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output, f"{name} --help has no example"
