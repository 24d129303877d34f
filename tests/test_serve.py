"""`reviewpulse serve` as a process: it collects, analyzes and reports on its own, lets analysts read
between jobs, and stops cleanly on SIGTERM or Ctrl-C after the running job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import db
from config import load_settings
from errors import LockedError

REPO = Path(__file__).resolve().parents[1]
CHICAGO = ZoneInfo("America/Chicago")

# Short intervals: `every_minutes` accepts fractions (0.05 minutes = 3 seconds).
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
author = "Patient"
rating = "Stars"
date = "Date"
text = "Comment"

[reports]
dir = "site"
"""


def build_reviews_csv(moments: list[datetime], prefix: str) -> str:
    lines = ["Review ID,Patient,Stars,Date,Comment"]
    for n, moment in enumerate(moments, 1):
        lines.append(f"{prefix}-{n},Patient {n},{1 + n % 5},{moment:%Y-%m-%d %H:%M},"
                     f"\"Visit {n}: nobody answered the phone for an hour, but the nurse was kind\"")
    return "\n".join(lines) + "\n"


def write_reviews_csv(path: Path, moments: list[datetime], prefix: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_reviews_csv(moments, prefix), encoding="utf-8")
    return path


def last_weeks(count: int) -> list[datetime]:
    """Two moments in each of the last `count` finished weeks (practice time)."""
    now = datetime.now(CHICAGO)
    monday = (now - timedelta(days=now.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)
    return [monday - timedelta(weeks=w, days=d) for w in range(1, count + 1) for d in (-1, -3)]


WEB_SOURCE = """
[[sources]]
name = "web"
type = "csv"
url = "{url}"
every_minutes = 0.05
[sources.columns]
id = "Review ID"
author = "Patient"
rating = "Stars"
date = "Date"
text = "Comment"
"""


def write_config(folder: Path, extra: str = "") -> Path:
    config = folder / "reviewpulse.toml"
    config.write_text(CONFIG + extra, encoding="utf-8")
    (folder / "exports" / "platform").mkdir(parents=True, exist_ok=True)
    return config


@pytest.fixture
def practice(tmp_path):
    return load_settings(write_config(tmp_path), environ={})


class Serve:
    """`reviewpulse -c <config> [-v] serve` as a child process, with its stderr collected line by line."""

    def __init__(self, settings, *args: str, verbose: bool = False):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "cli", "-c", str(settings.config_path), *(["-v"] if verbose else []), "serve", *args]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
                                        cwd=settings.config_path.parent)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, *fragments: str, timeout: float = 90) -> None:
        """Wait until, for every fragment, some log line contains it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(any(f in line for line in self.lines) for f in fragments):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        missing = [f for f in fragments if not any(f in line for line in self.lines)]
        raise AssertionError(f"no log line with {missing}; log so far:\n" + "\n".join(self.lines))

    def wait_for_line(self, *parts: str, timeout: float = 90) -> None:
        """Wait for one log line that contains every part."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if any(all(p in line for p in parts) for line in self.lines):
                return
            time.sleep(0.1)
        raise AssertionError(f"no log line with all of {parts}; log so far:\n" + "\n".join(self.lines))

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def open_read_only(settings, timeout: float = 30):
    """An analyst's read-only connection; it succeeds whenever no job is writing at that moment."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return db.connect(settings.database_path, read_only=True)
        except LockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_collects_analyzes_and_reports_by_itself_and_stops_cleanly_on_sigterm(tmp_path, httpserver):
    url = httpserver.url_for("/reviews.csv")
    httpserver.expect_request("/reviews.csv").respond_with_data(
        build_reviews_csv(last_weeks(2), "w"), content_type="text/csv; charset=utf-8")
    practice = load_settings(write_config(tmp_path, WEB_SOURCE.format(url=url)), environ={})
    write_reviews_csv(practice.sources[0].path / "export.csv", last_weeks(3), "p")
    log_file = practice.data_dir.parent / "logs" / "serve.log"
    serve = Serve(practice, "--log-file", str(log_file))
    try:
        # at start: the file and the URL source are collected and analysed, the three missed weeks reported
        serve.wait_for("collect:platform ok", "1 imported (6 new", "collect:web ok", "1 imported (4 new",
                       "analyze ok", "catch-up ok", "3 missed weeks")
        # a file dropped into the inbox while the service runs is picked up within seconds
        write_reviews_csv(practice.inbox_dir / "platform" / "late.csv", last_weeks(1), "late")
        serve.wait_for("collect:inbox ok", "1 imported (2 new")
        deadline = time.monotonic() + 60  # and the URL keeps being polled
        while len(httpserver.log) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        serve.wait_for_line("collect:web ok in", "0 imported", "1 unchanged")

        # between jobs, an analyst opens the database read-only while the service runs
        con = open_read_only(practice)
        try:
            reviews, scored = con.execute(
                "SELECT count(*), count(s.review_id) FROM reviews r LEFT JOIN review_sentiment s USING (review_id)"
            ).fetchone()
            jobs = dict(con.execute("SELECT job_id, count(*) FROM job_runs WHERE status = 'ok' GROUP BY 1").fetchall())
            serve_state = con.execute("SELECT status, pid FROM job_runs WHERE job_id = 'serve'").fetchall()
            web = con.execute("SELECT origin, status, rows_new FROM imports WHERE source = 'web' AND status = 'ok'").fetchall()
        finally:
            con.close()
        assert serve.process.poll() is None
    except BaseException:
        serve.kill()
        raise

    assert (reviews, scored) == (12, 12)
    assert web == [(url, "ok", 4)]  # fetched once; later polls find the same content and skip it
    assert len(httpserver.log) >= 2
    assert jobs.keys() >= {"collect:platform", "collect:web", "collect:inbox", "analyze", "catch-up"}
    assert serve_state == [("running", serve.process.pid)]
    assert (practice.inbox_dir / "done" / "late.csv").exists()
    weeks = sorted(p.parent.name for p in practice.site_dir.glob("*-W*/index.html"))
    assert len(weeks) == 3 and (practice.site_dir / "index.html").exists()

    assert serve.stop(signal.SIGTERM) == 0
    assert any("SIGTERM received: stopping after the running job" in line for line in serve.lines)
    assert serve.lines[-1].endswith("serve: stopped")
    con = db.connect(practice.database_path, read_only=True)
    try:
        assert con.execute("SELECT status FROM job_runs WHERE job_id = 'serve'").fetchall() == [("stopped",)]
    finally:
        con.close()
    logged = log_file.read_text(encoding="utf-8")
    assert "collect:inbox ok in" in logged and "serve: stopped" in logged  # the optional log file


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_stop_during_a_job_lets_the_import_commit_then_exits_0(practice, signum):
    now = datetime.now(CHICAGO)
    moments = [now - timedelta(days=2 + n % 20, minutes=n) for n in range(60_000)]
    write_reviews_csv(practice.sources[0].path / "big.csv", moments, "big")
    serve = Serve(practice, verbose=True)
    try:
        serve.wait_for("collect:platform started")
        code = serve.stop(signum)
    except BaseException:
        serve.kill()
        raise
    assert code == 0, "\n".join(serve.lines)
    assert any("collect:platform ok in" in line and "60000 new" in line for line in serve.lines)
    # nothing else starts after the stop: no analysis of the import, no catch-up
    stop_at = next(i for i, line in enumerate(serve.lines) if "received: stopping" in line)
    assert not any(f"{job} started" in line for line in serve.lines[stop_at:] for job in ("analyze", "catch-up"))
    con = db.connect(practice.database_path, read_only=True)
    try:
        assert con.execute("SELECT status, rows_new FROM imports").fetchall() == [("ok", 60_000)]
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 60_000
        assert con.execute("SELECT job_id, status FROM job_runs ORDER BY run_id").fetchall() == [
            ("serve", "stopped"), ("collect:platform", "ok")]
    finally:
        con.close()
