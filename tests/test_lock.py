"""One writer at a time: a second writer waits (--wait) or exits with one clear line; one serve per data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import db
import scheduler
from config import load_settings

REPO = Path(__file__).resolve().parents[1]

CONFIG = """\
practice = "Test Family Practice"
timezone = "America/Chicago"
data_dir = "state"

[[locations]]
id = "main"
name = "Main Street"

[[sources]]
name = "platform"
type = "csv"
path = "exports/platform"
[sources.columns]
text = "Comment"
date = "Date"
"""


@pytest.fixture
def practice(tmp_path):
    (tmp_path / "exports" / "platform").mkdir(parents=True)
    (tmp_path / "exports" / "platform" / "week.csv").write_text(
        "Date,Comment\n2026-11-10,Nobody called me back about my results\n", encoding="utf-8")
    config = tmp_path / "reviewpulse.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return load_settings(config, environ={})


def run_cli(settings, *args, timeout=60):
    """`reviewpulse -c <config> ARGS` in its own process, as a user would run it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "cli", "-c", str(settings.config_path), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=settings.config_path.parent)


def test_a_second_collect_exits_with_one_clear_line_while_a_job_writes(practice):
    with db.hold_write_lock(practice.lock_path):
        result = run_cli(practice, "collect")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {practice.lock_path}: another ReviewPulse job is writing (collect, analyze, report or serve); "
        "try again when it has finished, or pass --wait SECONDS"
    ]
    assert not practice.database_path.exists()  # nothing was opened, let alone written


def test_a_second_collect_with_wait_runs_once_the_lock_is_free(practice):
    holder_done = threading.Event()

    def hold_briefly():
        with db.hold_write_lock(practice.lock_path):
            holder_ready.set()
            time.sleep(1.5)
        holder_done.set()

    holder_ready = threading.Event()
    threading.Thread(target=hold_briefly).start()
    holder_ready.wait(5)
    started = time.monotonic()
    result = run_cli(practice, "collect", "--wait", "30")
    assert result.returncode == 0, result.stderr
    assert holder_done.is_set() and time.monotonic() - started >= 1.0
    assert "imported" in result.stdout and "1 new" in result.stdout


def test_a_writer_cannot_open_the_database_while_another_process_writes(practice):
    writer = db.connect(practice.database_path)  # held open, as a job would be mid-transaction
    try:
        result = run_cli(practice, "sql", "SELECT count(*) FROM reviews")
    finally:
        writer.close()
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {practice.database_path}: the database is open for writing by another ReviewPulse process "
        "(a collect, analyze, report or serve job); try again when it has finished"
    ]


def test_a_second_serve_of_the_same_data_folder_exits_with_a_clear_line(practice):
    with scheduler.hold_service_lock(practice, 0):
        result = run_cli(practice, "serve")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [(
        f"error: {practice.data_dir / 'reviewpulse.serve.lock'}: `reviewpulse serve` is already running for "
        f"{practice.data_dir}; stop it first (e.g. `systemctl stop reviewpulse`) or pass --wait SECONDS"
    )]
    assert not practice.database_path.exists()
