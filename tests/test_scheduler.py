"""The scheduler: jobs, triggers and time zone as configured; job runs recorded; catch-up of missed weeks."""

from __future__ import annotations

import logging
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner

import db
import scheduler
from cli import main as cli_main
from config import load_settings
from errors import ConfigError

CHICAGO = ZoneInfo("America/Chicago")

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
every_minutes = 15
[sources.columns]
id = "Review ID"
author = "Patient"
rating = "Stars"
date = "Date"
text = "Comment"

[[sources]]
name = "survey"
type = "csv"
path = "exports/survey"
cron = "30 7 * * 1-5"
[sources.columns]
text = "Comment"

[[sources]]
name = "widget"
type = "csv"
path = "exports/widget"
[sources.columns]
text = "Comment"
"""


def make_settings(folder: Path, extra: str = "", base: str = CONFIG):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reviewpulse.toml"
    path.write_text(base + textwrap.dedent(extra), encoding="utf-8")
    for name in ("platform", "survey", "widget"):
        (folder / "exports" / name).mkdir(parents=True, exist_ok=True)
    return load_settings(path, environ={})


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def write_reviews_csv(path: Path, moments: list[datetime]) -> Path:
    """A platform CSV with one review at each moment (local practice time)."""
    lines = ["Review ID,Patient,Stars,Date,Comment"]
    for n, moment in enumerate(moments, 1):
        lines.append(f"r-{n},Patient {n},{1 + n % 5},{moment:%Y-%m-%d %H:%M},"
                     f"\"Visit {n}: nobody answered the phone for an hour, the nurse was kind\"")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- jobs, triggers and time zone, without starting the scheduler ---------------------------------


def test_build_scheduler_plans_one_job_per_source_plus_inbox_report_and_catch_up(settings):
    now = datetime(2026, 11, 21, 9, 0, tzinfo=CHICAGO)  # a Saturday
    sched = scheduler.build_scheduler(settings, now=now)
    jobs = {job.id: job for job in sched.get_jobs()}

    assert not sched.running
    assert sched.timezone == CHICAGO
    assert sorted(jobs) == ["catch-up", "collect:inbox", "collect:platform", "collect:survey", "collect:widget", "report"]
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert jobs["collect:platform"].misfire_grace_time == scheduler.COLLECT_GRACE_SECONDS
    assert jobs["report"].misfire_grace_time is None and jobs["catch-up"].misfire_grace_time is None

    platform = jobs["collect:platform"].trigger
    assert isinstance(platform, IntervalTrigger) and platform.interval == timedelta(minutes=15)
    assert jobs["collect:platform"].next_run_time == now  # interval sources collect at start
    widget = jobs["collect:widget"].trigger
    assert isinstance(widget, IntervalTrigger) and widget.interval == timedelta(minutes=60)
    inbox = jobs["collect:inbox"].trigger
    assert isinstance(inbox, IntervalTrigger) and inbox.interval == timedelta(minutes=1)

    survey = jobs["collect:survey"].trigger
    assert isinstance(survey, CronTrigger) and survey.timezone == CHICAGO
    # crontab 1-5 is Monday to Friday (APScheduler's own numbering would make it Tuesday to Saturday)
    assert survey.get_next_fire_time(None, now) == datetime(2026, 11, 23, 7, 30, tzinfo=CHICAGO)

    report = jobs["report"].trigger
    assert isinstance(report, CronTrigger) and report.timezone == CHICAGO
    assert report.get_next_fire_time(None, now) == datetime(2026, 11, 23, 6, 0, tzinfo=CHICAGO)

    catch_up = jobs["catch-up"].trigger
    assert isinstance(catch_up, DateTrigger)
    assert catch_up.run_date == now + scheduler.CATCH_UP_DELAY


def test_the_weekly_report_stays_at_six_local_across_the_dst_change(tmp_path):
    settings = make_settings(tmp_path)
    trigger = scheduler.build_scheduler(settings).get_job("report").trigger
    before = trigger.get_next_fire_time(None, datetime(2026, 10, 31, tzinfo=CHICAGO))
    after = trigger.get_next_fire_time(None, before + timedelta(minutes=1))
    assert before.astimezone(timezone.utc) == datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)  # 06:00 CST
    assert after.astimezone(timezone.utc) == datetime(2026, 11, 9, 12, 0, tzinfo=timezone.utc)
    summer = trigger.get_next_fire_time(None, datetime(2026, 7, 1, tzinfo=CHICAGO))
    assert summer.astimezone(timezone.utc) == datetime(2026, 7, 6, 11, 0, tzinfo=timezone.utc)  # 06:00 CDT


@pytest.mark.parametrize(
    ("line", "first_days"),
    [
        ("0 6 * * mon", ["mon"]),
        ("0 6 * * 1", ["mon"]),
        ("0 6 * * 0", ["sun"]),
        ("0 6 * * 7", ["sun"]),
        ("0 6 * * 1-5", ["mon", "tue", "wed", "thu", "fri"]),
        ("0 6 * * 1-5/2", ["mon", "wed", "fri"]),
        ("0 6 * * sat,sun", ["sat", "sun"]),
        ("0 6 * * *", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    ],
)
def test_crontab_weekdays_mean_what_cron_means(line, first_days):
    trigger = scheduler.parse_crontab(line, CHICAGO)
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=CHICAGO)  # a Sunday noon
    days = set()
    for _ in range(7):
        moment = trigger.get_next_fire_time(None, moment + timedelta(minutes=1))
        assert (moment.hour, moment.minute) == (6, 0)
        days.add(f"{moment:%a}".lower())
    assert days == set(first_days)


def test_a_bad_crontab_line_is_a_config_error_naming_the_source(tmp_path):
    settings = make_settings(tmp_path, base=CONFIG.replace('cron = "30 7 * * 1-5"', 'cron = "30 7 * *"'))
    with pytest.raises(ConfigError, match=r"sources\[survey\]\.cron: '30 7 \* \*': expected 5 crontab fields"):
        scheduler.build_scheduler(settings)
    settings = make_settings(tmp_path / "r", extra='[reports]\ncron = "0 6 * * funday"\n')
    with pytest.raises(ConfigError, match=r"reports\.cron: '0 6 \* \* funday'"):
        scheduler.build_scheduler(settings)


def test_fractional_minutes_give_second_intervals(tmp_path):
    settings = make_settings(tmp_path, base=CONFIG.replace("every_minutes = 15", "every_minutes = 0.05"))
    job = scheduler.build_scheduler(settings).get_job("collect:platform")
    assert job.trigger.interval == timedelta(seconds=3)
    assert scheduler.describe_trigger(job.trigger) == "every 3 s"


# -- job runs: recorded, logged, under the lock --------------------------------------------------


def read_runs(settings):
    con = db.connect(settings.database_path, read_only=True)
    try:
        return con.execute("SELECT job_id, status, summary, duration_s >= 0, finished_at >= started_at, pid IS NOT NULL"
                           " FROM job_runs ORDER BY run_id").fetchall()
    finally:
        con.close()


def test_each_step_records_one_job_run_and_logs_one_line(settings, caplog):
    service = scheduler.Service(settings)
    caplog.set_level(logging.INFO, logger="reviewpulse.serve")

    value = service.run_step("collect:platform", lambda con: (42, "1 imported (3 new)"))

    def broken(con):
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO job_runs (job_id, started_at, status) VALUES ('half', now(), 'ok')")
        raise ValueError("the parser tripped\nsecond line")

    assert value == 42
    assert service.run_step("analyze", broken) is None
    assert read_runs(settings) == [
        ("collect:platform", "ok", "1 imported (3 new)", True, True, True),
        ("analyze", "failed", "ValueError: the parser tripped", True, True, True),  # the half-done insert rolled back
    ]
    lines = [r.getMessage() for r in caplog.records if r.name == "reviewpulse.serve"]
    assert len(lines) == 2
    assert lines[0].startswith("collect:platform ok in ") and lines[0].endswith("s: 1 imported (3 new)")
    assert lines[1].startswith("analyze failed in ") and lines[1].endswith("s: ValueError: the parser tripped")


def test_a_step_waits_for_the_write_lock_and_gives_up_with_a_clear_line(settings, caplog):
    service = scheduler.Service(settings, lock_wait=5)
    released = threading.Event()

    def hold_for_a_second():
        with db.hold_write_lock(settings.lock_path):
            time.sleep(1)
        released.set()

    holder = threading.Thread(target=hold_for_a_second)
    holder.start()
    time.sleep(0.2)
    assert service.run_step("collect:platform", lambda con: (None, "done")) is None and released.is_set()
    holder.join()

    impatient = scheduler.Service(settings, lock_wait=0.3)
    with db.hold_write_lock(settings.lock_path):
        assert impatient.run_step("report", lambda con: ("never", "never")) is None
    assert [r[:3] for r in read_runs(settings)] == [("collect:platform", "ok", "done")]
    assert any("report failed in" in r.getMessage() and "another ReviewPulse job is writing" in r.getMessage()
               for r in caplog.records)


def test_a_stopping_service_starts_no_job_and_stops_waiting_for_the_lock(settings):
    service = scheduler.Service(settings, lock_wait=60)
    ran = []
    with db.hold_write_lock(settings.lock_path):
        threading.Timer(0.3, service.stopping.set).start()
        started = time.monotonic()
        assert service.run_step("collect:platform", lambda con: ran.append(1) or (None, "")) is None
        assert time.monotonic() - started < 3
    service.run_exclusively(lambda: ran.append(2))
    service.analyze()
    assert ran == []
    assert not settings.database_path.exists() or read_runs(settings) == []


# -- status: every job's last run, result, duration and next run ---------------------------------


def test_status_works_without_a_database_and_without_a_job_table(settings):
    service, jobs = scheduler.read_job_status(settings, None)
    assert service == scheduler.ServiceStatus("never")
    assert [(j.job_id, j.schedule, j.last_run, j.next_run) for j in jobs] == [
        ("collect:platform", "every 15 min", None, None),
        ("collect:survey", "cron 30 7 * * mon,tue,wed,thu,fri", None, None),
        ("collect:widget", "every 60 min", None, None),
        ("collect:inbox", "every 1 min", None, None),
        ("report", "cron 0 6 * * mon", None, None),
        ("catch-up", "once at start", None, None),
        ("analyze", "after imports; before reports", None, None),
    ]
    result = CliRunner().invoke(cli_main, ["-c", str(settings.config_path), "status"])
    assert result.exit_code == 0, result.output
    assert "no database yet" in result.output and "service: never started" in result.output
    assert "collect:survey" in result.output and "reports: none yet" in result.output

    settings.database_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.database_path))  # a database from before job runs existed
    con.execute("CREATE TABLE reviews (x INTEGER)")
    _, jobs = scheduler.read_job_status(settings, con)
    con.close()
    assert all(j.last_run is None for j in jobs)


def test_status_shows_each_jobs_last_run_and_the_recorded_next_run(settings):
    service = scheduler.Service(settings)
    sched = scheduler.build_scheduler(settings, service)
    service.record_start()
    next_run = datetime(2026, 11, 23, 6, 0, tzinfo=CHICAGO)
    con = db.connect(settings.database_path)
    scheduler.record_run(con, "collect:platform", datetime.now(timezone.utc), "ok", 0.25, "2 imported", next_run)
    scheduler.record_run(con, "report", datetime.now(timezone.utc), "failed", 1.5, "OSError: disk full", None)
    # the inbox is recorded only when files came: its recorded next run is long past
    scheduler.record_run(con, "collect:inbox", datetime.now(timezone.utc), "ok", 0.1, "1 imported",
                         datetime(2026, 11, 21, 8, 58, 30, tzinfo=CHICAGO))
    con.close()

    con = db.connect(settings.database_path, read_only=True)
    state, jobs = scheduler.read_job_status(settings, con, now=datetime(2026, 11, 21, 9, 0, tzinfo=CHICAGO))
    con.close()
    by_id = {j.job_id: j for j in jobs}
    assert state.state == "running" and state.pid is not None
    assert (by_id["collect:platform"].result, by_id["collect:platform"].duration_s,
            by_id["collect:platform"].summary, by_id["collect:platform"].next_run) == ("ok", 0.25, "2 imported", next_run)
    assert by_id["report"].result == "failed" and by_id["report"].summary == "OSError: disk full"
    assert by_id["collect:inbox"].next_run == datetime(2026, 11, 21, 9, 0, 30, tzinfo=CHICAGO)  # every minute, same phase
    # a cron job that has not run yet: its next time comes from its schedule
    assert by_id["collect:survey"].next_run == datetime(2026, 11, 23, 7, 30, tzinfo=CHICAGO)

    output = CliRunner().invoke(cli_main, ["-c", str(settings.config_path), "status"]).output
    assert "service: running since" in output
    assert any(line.split()[:1] == ["report"] and "failed" in line and "1.5s" in line and "OSError: disk full" in line
               for line in output.splitlines())

    service.record_stop()
    con = db.connect(settings.database_path, read_only=True)
    state, jobs = scheduler.read_job_status(settings, con)
    con.close()
    assert state.state == "stopped" and all(j.next_run is None for j in jobs)
    assert sched.get_job("report") is not None


# -- catch-up: every finished week without a report ----------------------------------------------


def test_catch_up_reports_every_missed_week_and_only_those(settings):
    pytest.importorskip("reports.email")
    today = datetime.now(CHICAGO)
    this_monday = (today - timedelta(days=today.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)
    moments = [this_monday - timedelta(weeks=w, days=d) for w in range(1, 4) for d in (-1, -3)]  # 3 finished weeks
    moments.append(this_monday + timedelta(hours=1))  # the current week: not finished, never reported
    write_reviews_csv(settings.sources[0].path / "export.csv", moments)
    service = scheduler.Service(settings)
    service.collect_source("platform")

    from reports.weeks import label_week

    weeks = [(this_monday - timedelta(weeks=w)).date() for w in (3, 2, 1)]
    pages = [settings.site_dir / label_week(w) / "index.html" for w in weeks]
    con = db.connect(settings.database_path, read_only=True)
    assert scheduler.list_unreported_weeks(con, settings, today) == weeks
    con.close()

    service.catch_up()  # the service was off on all three Mondays
    assert all(p.exists() for p in pages)
    assert not (settings.site_dir / label_week(this_monday.date())).exists()

    pages[1].unlink()  # the middle week's report is missing again
    before = {p: p.stat().st_mtime_ns for p in (pages[0], pages[2])}
    service.catch_up()
    assert pages[1].exists()
    assert {p: p.stat().st_mtime_ns for p in (pages[0], pages[2])} == before  # the others were not rewritten

    service.catch_up()  # nothing missing: nothing written
    runs = [r for r in read_runs(settings) if r[0] == "catch-up"]
    assert [r[1] for r in runs] == ["ok", "ok", "ok"]
    assert runs[0][2].startswith(f"3 missed weeks ({label_week(weeks[0])} to {label_week(weeks[2])}): ")
    assert runs[1][2].startswith(f"1 missed week ({label_week(weeks[1])}): ")
    assert runs[2][2] == "every finished week is reported"


# -- e-mail after the report: last week's, once, retried after a failure -------------------------


class Mailbox:
    """aiosmtpd handler keeping every delivered message."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def test_last_weeks_report_is_emailed_once_and_a_failed_send_is_retried(tmp_path):
    import socket

    from aiosmtpd.controller import Controller

    from reports.weeks import label_week

    with socket.socket() as probe:  # a free loopback port, with no server on it yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(tmp_path, extra=f"""
        [reports.email]
        recipients = ["manager@example.org", "owner@example.org"]
        sender = "reviewpulse@example.org"
        smtp_host = "127.0.0.1"
        smtp_port = {port}
        starttls = false
        """)
    today = datetime.now(CHICAGO)
    monday = (today - timedelta(days=today.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)
    write_reviews_csv(settings.sources[0].path / "export.csv", [monday - timedelta(days=d) for d in (3, 10)])
    last_week = label_week((monday - timedelta(weeks=1)).date())
    service = scheduler.Service(settings)
    service.collect_source("platform")

    service.catch_up()  # the mail server is down: the report is written, the e-mail fails
    assert (settings.site_dir / last_week / "index.html").exists()
    emails = [r for r in read_runs(settings) if r[0] == "email"]
    assert emails[-1][1] == "failed" and emails[-1][2].startswith(f"SMTP 127.0.0.1:{port}: sending failed")

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        service.report()  # the next tick sends it
        service.report()  # and the one after does not send it again
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1
    recipients, content = mailbox.messages[0]
    assert recipients == ["manager@example.org", "owner@example.org"] and last_week in content
    assert [r[1:3] for r in read_runs(settings) if r[0] == "email"][1:] == [
        ("ok", f"{last_week} sent to 2 recipient(s)"), ("ok", f"{last_week} was already sent")]
    con = db.connect(settings.database_path, read_only=True)
    assert con.execute("SELECT iso_week, recipients FROM report_emails").fetchall() == [
        (last_week, "manager@example.org, owner@example.org")]
    con.close()
