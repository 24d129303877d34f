"""Jobs at the same time: two writers, readers during a write, and the scheduler beside a manual collect.

One writer at a time: a second writer started together waits for the lock (--wait) or refuses with
one clear line; a reader during a write gets the result or one clear LockedError line, never a hang;
and whatever the interleaving, every file is imported exactly once with no row lost or doubled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from config import load_settings
from db import connect
from errors import LockedError

REPO = Path(__file__).resolve().parents[1]
ROWS = 20_000

CONFIG = """\
practice = "Test Family Practice"
timezone = "America/Chicago"
data_dir = "state"
inbox_every_minutes = 0.02

[[locations]]
id = "main"
name = "Main Street"

[[sources]]
name = "platform"
type = "csv"
path = "exports/platform"
every_minutes = 0.05
[sources.columns]
id = "Review ID"
rating = "Stars"
date = "Date"
text = "Comment"

[reports]
dir = "site"
"""


def write_export(path: Path, prefix: str, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["Review ID,Stars,Date,Comment"]
    lines += [f"{prefix}{i},{1 + i % 5},2026-03-{1 + i % 28:02d},Nobody called back about visit {i}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def practice(tmp_path):
    (tmp_path / "reviewpulse.toml").write_text(CONFIG, encoding="utf-8")
    write_export(tmp_path / "exports" / "platform" / "big.csv", "b", ROWS)
    return load_settings(tmp_path / "reviewpulse.toml", environ={})


def start_cli(settings, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "cli", "-c", str(settings.config_path), *args], env=env,
                            cwd=settings.config_path.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def imports_of(settings) -> list[tuple]:
    con = connect(settings.database_path, read_only=True)
    try:
        return con.execute("SELECT status, rows_new FROM imports ORDER BY import_id").fetchall()
    finally:
        con.close()


def review_count(settings) -> int:
    con = connect(settings.database_path, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM reviews").fetchone()[0]
    finally:
        con.close()


LOCKED_LINE = "another ReviewPulse job is writing (collect, analyze, report or serve); try again when it has finished"


def test_two_collects_started_together_without_wait_one_imports_the_other_refuses(practice):
    first, second = start_cli(practice, "collect"), start_cli(practice, "collect")
    outcomes = sorted([finish(first), finish(second)], key=lambda o: o[0])
    (code_a, out_a, _), (code_b, _, err_b) = outcomes
    assert code_a == 0 and "20000 new" in out_a
    if code_b == 2:  # it met the lock: one clear line, no traceback
        lines = err_b.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and LOCKED_LINE in lines[0], err_b
    else:  # it ran after the first had finished: nothing new
        assert code_b == 0
    assert imports_of(practice) == [("ok", ROWS)]
    assert review_count(practice) == ROWS


def test_two_collects_started_together_with_wait_both_succeed_and_import_once(practice):
    write_export(practice.inbox_dir / "platform" / "inbox.csv", "i", 5_000)
    procs = [start_cli(practice, "collect", "--wait", "120") for _ in range(2)]
    outcomes = [finish(p) for p in procs]
    assert [o[0] for o in outcomes] == [0, 0], outcomes
    assert sorted(imports_of(practice)) == [("ok", 5_000), ("ok", ROWS)]
    assert review_count(practice) == ROWS + 5_000
    assert (practice.inbox_dir / "done" / "inbox.csv").exists()


def test_readers_during_a_write_get_data_or_one_clear_line_never_a_hang(practice):
    writer = start_cli(practice, "collect")
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while writer.poll() is None and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                con = connect(practice.database_path, read_only=True)
                try:
                    con.execute("SELECT count(*) FROM reviews").fetchone()
                finally:
                    con.close()
                seen.append("read")
            except LockedError as exc:
                assert "\n" not in str(exc) and "open for writing by another ReviewPulse process" in str(exc)
                seen.append("locked")
            except Exception as exc:  # before the writer created the file: a clear "no database yet"
                assert "no database yet" in str(exc), exc
                seen.append("absent")
            assert time.monotonic() - started < 5, "a reader must never wait for the writer"
            # The command-line reader too: one line on stderr and exit 2, or the answer.
            result = subprocess.run([sys.executable, "-m", "cli", "-c", str(practice.config_path), "sql",
                                     "SELECT count(*) FROM reviews"], capture_output=True, text=True, timeout=30,
                                    env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=practice.config_path.parent)
            assert result.returncode in (0, 2), result.stderr
            if result.returncode == 2:
                assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
        code, _, err = finish(writer)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert code == 0, err
    assert "locked" in seen or "absent" in seen or "read" in seen
    assert review_count(practice) == ROWS


def test_the_scheduler_and_manual_collects_at_once_import_every_file_exactly_once(practice):
    # Small files only: `serve` analyses what it imports, and that should not dominate the test.
    (practice.config_path.parent / "exports" / "platform" / "big.csv").unlink()
    serve = start_cli(practice, "serve")
    stop = threading.Event()
    manual: list[int] = []

    def collect_by_hand() -> None:
        while not stop.is_set():
            manual.append(finish(start_cli(practice, "collect", "--wait", "60"))[0])

    hand = threading.Thread(target=collect_by_hand)
    hand.start()
    try:
        for n in range(6):  # files keep arriving while both collect
            write_export(practice.inbox_dir / "platform" / f"drop-{n}.csv", f"d{n}-", 200)
            time.sleep(0.7)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(list((practice.inbox_dir / "done").glob("drop-*.csv"))) < 6:
            time.sleep(0.3)
    finally:
        stop.set()
        hand.join(150)
        serve.send_signal(signal.SIGTERM)
        code, _, err = finish(serve, timeout=120)
    assert code == 0, err
    assert manual and set(manual) <= {0, 1}, manual  # 1 only if some import failed, which the next line rules out
    imports = imports_of(practice)
    assert [i for i in imports if i[0] == "failed"] == []
    assert sorted(i for i in imports if i[0] == "ok") == [("ok", 200)] * 6
    assert review_count(practice) == 6 * 200
    assert sorted(p.name for p in (practice.inbox_dir / "done").iterdir()) == [f"drop-{n}.csv" for n in range(6)]
