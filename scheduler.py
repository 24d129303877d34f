"""The service behind `reviewpulse serve`: collect, analyze, report and e-mail on a schedule.

`build_scheduler(settings)` returns an APScheduler 3.x `BlockingScheduler` (not started) in the
practice's time zone. Its jobs are the library functions the CLI calls, each wrapped so that it holds
the write lock and a database connection only while it runs, then records one `job_runs` row and logs
one line. `main()` runs it until SIGTERM or Ctrl-C and lets the running job finish first.

Jobs (ids as shown by `reviewpulse status`):
  collect:<source>  each configured source on its `every_minutes` or `cron` (default every 60 minutes)
  collect:inbox     the inbox every `inbox_every_minutes`; opens the database only when files wait
  analyze           chained after every collection that imported something, and before each report
  report            on `reports.cron` in the practice's time zone: every finished week, idempotently
  catch-up          once at start: every finished week whose report page is missing
  email             chained after report and catch-up when [reports.email] is configured: the last
                    finished week's report, once (recorded in `report_emails`)
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import duckdb
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config import Settings, Source, load_settings
from db import hold_lock, now_utc, open_job
from errors import ConfigError, LockedError, ReviewPulseError
from reports.paths import week_page
from reports.weeks import label_week, shift_week, start_of_week

log = logging.getLogger("reviewpulse.serve")

DEFAULT_EVERY_MINUTES = 60
# A scheduled job waits this long for the write lock (a manual `collect`, or an analyst's read-only
# connection, which DuckDB does not allow alongside a writer) before it gives up until its next run.
LOCK_WAIT_SECONDS = 600
# A file dropped in the inbox is imported once it has not changed for this long (it may still be
# being copied in while the job polls).
INBOX_SETTLE_SECONDS = 2.0
# Collections are coalesced; one that could not start within this time (the machine slept, a long
# analysis ran) is skipped and the next regular run collects everything anyway.
COLLECT_GRACE_SECONDS = 900
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": COLLECT_GRACE_SECONDS}
# Which job runs first at start when several are due: collections before the catch-up report.
CATCH_UP_DELAY = timedelta(seconds=1)

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class Stopping(Exception):
    """The service is stopping, so a job that had not started yet does not start."""


def _expand_weekdays(field: str) -> str:
    """Standard crontab day-of-week field -> APScheduler names (APScheduler 3 counts 0 as Monday)."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _DAY_NAMES.index(low[:3]) if low[:3] in _DAY_NAMES else int(low)
            last = first if not high else (_DAY_NAMES.index(high[:3]) if high[:3] in _DAY_NAMES else int(high))
            if not (0 <= first <= 7 and 0 <= last <= 7) or last < first or step < 1:
                raise ValueError(f"bad day of week {part!r}")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def parse_crontab(expr: str, zone: tzinfo) -> CronTrigger:
    """A standard five-field crontab line (0 or 7 = Sunday, or day names) as a trigger in `zone`."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 crontab fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=_expand_weekdays(weekday), timezone=zone)


def build_source_trigger(source: Source, zone: tzinfo) -> IntervalTrigger | CronTrigger:
    """The source's `cron`, else its `every_minutes`, else every DEFAULT_EVERY_MINUTES minutes."""
    if source.cron is not None:
        try:
            return parse_crontab(source.cron, zone)
        except ValueError as exc:
            raise ConfigError(f"sources[{source.name}].cron: {source.cron!r}: {exc}") from None
    return IntervalTrigger(minutes=source.every_minutes or DEFAULT_EVERY_MINUTES, timezone=zone)


def describe_trigger(trigger: Any) -> str:
    """A short human description: "every 60 min", "cron 0 6 * * mon", "once at start"."""
    if isinstance(trigger, IntervalTrigger):
        seconds = trigger.interval.total_seconds()
        return f"every {seconds / 60:g} min" if seconds >= 60 else f"every {seconds:g} s"
    if isinstance(trigger, CronTrigger):
        fields = {f.name: str(f) for f in trigger.fields}
        return "cron " + " ".join(fields[n] for n in ("minute", "hour", "day", "month", "day_of_week"))
    if isinstance(trigger, DateTrigger):
        return "once at start"
    return str(trigger)


def list_unreported_weeks(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime) -> list[date]:
    """The finished weeks (as the report writer counts them) whose whole-practice page is missing.

    A week counts as reported when its page exists in the site folder, so a deleted site is rebuilt
    and nothing else needs to be kept in step with the files.
    """
    from reports.site import list_report_weeks

    return [w for w in list_report_weeks(con, settings, now)
            if not (settings.site_dir / week_page(label_week(w), None)).exists()]


def record_run(con: duckdb.DuckDBPyConnection, job_id: str, started: datetime, status: str,
               duration: float | None, summary: str, next_run: datetime | None) -> int:
    """Insert one `job_runs` row; return its run_id."""
    return con.execute(
        "INSERT INTO job_runs (job_id, started_at, finished_at, status, duration_s, summary, next_run_at, pid)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING run_id",
        [job_id, started, None if status == "running" else now_utc(), status, duration, summary, next_run, os.getpid()],
    ).fetchone()[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text and not isinstance(exc, ReviewPulseError) else (
        text[0] if text else type(exc).__name__)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    # A library function normally closes its own transactions; this only covers one left open.
    try:
        con.rollback()
    except duckdb.Error:
        pass


def _summarize_imports(results: list) -> str:
    count = {s: sum(1 for r in results if r.status == s) for s in ("ok", "failed", "skipped_duplicate", "not_modified")}
    new = sum(r.rows_new for r in results)
    updated = sum(r.rows_updated for r in results)
    removed = sum(r.rows_removed for r in results)
    text = f"{count['ok']} imported ({new} new, {updated} updated, {removed} removed reviews)"
    if count["failed"]:
        text += f", {count['failed']} FAILED (see `reviewpulse status`)"
    unchanged = count["skipped_duplicate"] + count["not_modified"]
    if unchanged:
        text += f", {unchanged} unchanged"
    return text


def collect_one_source(con: duckdb.DuckDBPyConnection, settings: Settings, source: Source) -> list:
    """Import what is new from one source (its files, its URL or its API locations); failures are
    recorded, not raised."""
    from ingest.collect import collect_all

    return collect_all(con, settings, sources=[source])


class Service:
    """The jobs of one `serve` process: what they run, the stop flag, and the single worker thread."""

    def __init__(self, settings: Settings, lock_wait: float = LOCK_WAIT_SECONDS):
        self.settings = settings
        self.lock_wait = lock_wait
        self.stopping = threading.Event()
        # One worker: every job writes, and only one writer may hold the database at a time anyway.
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.scheduler: BlockingScheduler | None = None
        self._serve_run: int | None = None
        self._started = time.monotonic()

    # -- the database, held only for the duration of one step ------------------------------------

    @contextmanager
    def open_database(self, wait: float, honour_stop: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """Lock and open for writing, retrying for up to `wait` seconds; raise Stopping when stopping."""
        deadline = time.monotonic() + wait
        while True:
            if honour_stop and self.stopping.is_set():
                raise Stopping
            stack = ExitStack()
            try:
                con = stack.enter_context(open_job(self.settings, min(1.0, max(0.0, deadline - time.monotonic()))))
                break
            except LockedError:
                if time.monotonic() >= deadline:
                    raise
                # The file lock already waited up to a second; a read-only reader fails at once.
                self.stopping.wait(0.5)
        with stack:
            yield con

    def next_run_time(self, job_id: str) -> datetime | None:
        job = self.scheduler.get_job(job_id) if self.scheduler is not None else None
        return getattr(job, "next_run_time", None) if job is not None else None

    def run_step(self, job_id: str, work: Callable[[duckdb.DuckDBPyConnection], tuple[Any, str]]) -> Any:
        """Run `work(con)` under the write lock; record and log it; return its value (None if it failed)."""
        started, clock = now_utc(), time.monotonic()
        try:
            with self.open_database(self.lock_wait) as con:
                log.debug("%s started", job_id)
                try:
                    value, summary = work(con)
                    status = "ok"
                except Exception as exc:  # a failing job must not stop the service; it is recorded
                    _rollback(con)
                    value, status, summary = None, "failed", _first_line(exc)
                    log.debug("%s failed", job_id, exc_info=True)
                duration = time.monotonic() - clock
                next_run = self.next_run_time(job_id)
                try:
                    record_run(con, job_id, started, status, duration, summary, next_run)
                except duckdb.Error as exc:
                    log.error("%s: could not record the run: %s", job_id, _first_line(exc))
        except Stopping:
            log.info("%s not started: the service is stopping", job_id)
            return None
        except ReviewPulseError as exc:
            log.error("%s failed in %.1fs: %s", job_id, time.monotonic() - clock, exc)
            return None
        line = "%s %s in %.1fs: %s" + ("; next run %s" if next_run else "")
        args = [job_id, status, duration, summary] + ([f"{next_run.astimezone(self.settings.zone):%Y-%m-%d %H:%M:%S %Z}"] if next_run else [])
        (log.info if status == "ok" else log.error)(line, *args)
        return value

    # -- the jobs --------------------------------------------------------------------------------

    def collect_source(self, name: str) -> None:
        """Job collect:<name>: import what is new from one configured source, then analyze."""
        source = self.settings.source(name)

        def work(con):
            results = collect_one_source(con, self.settings, source)
            return results, _summarize_imports(results)

        self._analyze_if_imported(self.run_step(f"collect:{name}", work))

    def collect_inbox(self) -> None:
        """Job collect:inbox: import the files waiting in the inbox (if any), then analyze."""
        from ingest.collect import checkpointing_in_bulk, collect_inbox, list_inbox

        if not list_inbox(self.settings.inbox_dir, INBOX_SETTLE_SECONDS):
            return  # nothing waiting: not even the lock is taken, so this can run every minute

        def work(con):
            with checkpointing_in_bulk(con):
                results = collect_inbox(con, self.settings, INBOX_SETTLE_SECONDS)
            return results, _summarize_imports(results)

        self._analyze_if_imported(self.run_step("collect:inbox", work))

    def _analyze_if_imported(self, results: list | None) -> None:
        if results and any(r.status == "ok" and (r.rows_new or r.rows_updated or r.rows_removed) for r in results):
            self.analyze()

    def analyze(self) -> None:
        """Step analyze: score every new or changed review (skipped when the service is stopping)."""
        if self.stopping.is_set():
            return

        def work(con):
            from analysis.pipeline import analyze_pending

            summary = analyze_pending(con, self.settings)
            return summary, str(summary)

        self.run_step("analyze", work)

    def report(self) -> None:
        """Job report: analyze what is pending, write every finished week's report, then e-mail."""
        self.analyze()
        self._write_reports("report", lambda con: None)

    def catch_up(self) -> None:
        """Job catch-up: report the finished weeks whose page is missing (the machine was off)."""
        self.analyze()
        self._write_reports("catch-up", self._missing_weeks)

    def _missing_weeks(self, con) -> list[date]:
        return list_unreported_weeks(con, self.settings, datetime.now(self.settings.zone))

    def _write_reports(self, job_id: str, choose_weeks: Callable[[Any], list[date] | None]) -> None:
        if self.stopping.is_set():
            return

        def work(con):
            from reports.site import write_reports

            weeks = choose_weeks(con)
            if weeks == []:
                return None, "every finished week is reported"
            run = write_reports(con, self.settings, weeks=weeks)
            scope = "every finished week" if weeks is None else (
                f"{len(weeks)} missed week{'s' if len(weeks) != 1 else ''} ({label_week(weeks[0])}"
                + (f" to {label_week(weeks[-1])})" if len(weeks) > 1 else ")"))
            return run, (f"{scope}: {len(run.pages)} pages written, {len(run.unchanged)} unchanged; "
                         f"newest {run.newest or 'none'}")

        self.run_step(job_id, work)
        if self.settings.reports.email is not None:
            self.email()

    def email(self) -> None:
        """Step email: send last week's report once; a failure is retried at the next report tick."""
        if self.stopping.is_set():
            return
        email = self.settings.reports.email
        week = shift_week(start_of_week(datetime.now(self.settings.zone).date()), -1)
        iso_week = label_week(week)

        def work(con):
            sent = con.execute("SELECT sent_at FROM report_emails WHERE week_start = ?", [week]).fetchone()
            if sent is not None:
                return None, f"{iso_week} was already sent"
            page = self.settings.site_dir / week_page(iso_week, None)
            if not page.exists():
                return None, f"no report page for {iso_week} yet"
            from reports.email import send_report

            password = self.settings.smtp_password.get_secret_value() if self.settings.smtp_password else None
            send_report(self.settings, page, password=password)
            con.execute("INSERT INTO report_emails VALUES (?, ?, ?, ?, ?)",
                        [week, iso_week, str(page), ", ".join(email.recipients), now_utc()])
            return page, f"{iso_week} sent to {len(email.recipients)} recipient(s)"

        self.run_step("email", work)

    def run_exclusively(self, job: Callable[..., None], *args: Any) -> None:
        """What the scheduler calls: the job, unless the service is stopping (queued jobs are dropped)."""
        if self.stopping.is_set():
            return
        job(*args)

    # -- the service's own row -------------------------------------------------------------------

    def record_start(self) -> None:
        try:
            with self.open_database(self.lock_wait) as con:
                self._serve_run = record_run(con, "serve", now_utc(), "running", None,
                                             f"started, {len(self.scheduler.get_jobs()) if self.scheduler else 0} jobs", None)
        except (Stopping, ReviewPulseError) as exc:
            log.warning("serve: could not record the start: %s", exc or "stopping")

    def record_stop(self) -> None:
        if self._serve_run is None:
            return
        try:
            with self.open_database(30, honour_stop=False) as con:
                con.execute("UPDATE job_runs SET status = 'stopped', finished_at = ?, duration_s = ?, summary = 'stopped'"
                            " WHERE run_id = ?", [now_utc(), time.monotonic() - self._started, self._serve_run])
        except ReviewPulseError as exc:
            log.warning("serve: could not record the stop: %s", exc)


@dataclass(frozen=True)
class PlannedJob:
    """A job as configured: its id, trigger, the Service method it runs and its scheduling options."""

    id: str
    name: str
    trigger: Any
    method: str
    args: tuple = ()
    options: dict = field(default_factory=dict)


def plan_jobs(settings: Settings, now: datetime) -> list[PlannedJob]:
    """Every scheduled job of `settings`, in the practice's time zone. Raises ConfigError for a bad cron.

    Interval collections and the inbox run once at start, then on their interval; the catch-up runs
    right after them.
    """
    zone = settings.zone
    jobs = []
    for source in settings.sources:
        trigger = build_source_trigger(source, zone)
        first = {"next_run_time": now} if isinstance(trigger, IntervalTrigger) else {}
        jobs.append(PlannedJob(f"collect:{source.name}", f"collect {source.name}", trigger,
                               "collect_source", (source.name,), first))
    jobs.append(PlannedJob("collect:inbox", "collect the inbox",
                           IntervalTrigger(minutes=settings.inbox_every_minutes, timezone=zone),
                           "collect_inbox", (), {"next_run_time": now}))
    try:
        report_trigger = parse_crontab(settings.reports.cron, zone)
    except ValueError as exc:
        raise ConfigError(f"reports.cron: {settings.reports.cron!r}: {exc}") from None
    # Reports are idempotent and catch up, so a late report tick is always worth running.
    jobs.append(PlannedJob("report", "weekly report", report_trigger, "report", (), {"misfire_grace_time": None}))
    jobs.append(PlannedJob("catch-up", "report missed weeks", DateTrigger(now + CATCH_UP_DELAY, timezone=zone),
                           "catch_up", (), {"misfire_grace_time": None}))
    return jobs


def build_scheduler(settings: Settings, service: Service | None = None, now: datetime | None = None) -> BlockingScheduler:
    """The scheduler with every job of `settings` (see `plan_jobs`), in the practice's time zone; not started.

    Every job runs on one worker thread through `service` (a new Service when None).
    """
    service = service or Service(settings)
    now = now or datetime.now(settings.zone)
    scheduler = BlockingScheduler(timezone=settings.zone, executors={"default": service.executor},
                                  job_defaults=JOB_DEFAULTS)
    service.scheduler = scheduler
    for job in plan_jobs(settings, now):
        # The defaults are passed per job too, so they are visible before the scheduler starts.
        scheduler.add_job(service.run_exclusively, job.trigger, args=[getattr(service, job.method), *job.args],
                          id=job.id, name=job.name, **{**JOB_DEFAULTS, **job.options})
    return scheduler


@dataclass(frozen=True)
class JobStatus:
    """One line of `reviewpulse status`: a configured job, its last recorded run and its next run."""

    job_id: str
    schedule: str
    last_run: datetime | None = None
    result: str | None = None
    duration_s: float | None = None
    summary: str | None = None
    next_run: datetime | None = None


@dataclass(frozen=True)
class ServiceStatus:
    state: str  # running, stopped, gone (the process died without recording its stop), never
    since: datetime | None = None
    pid: int | None = None


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, run by another user (the service account)
        return True
    return True


def _project_next_run(trigger: Any, recorded: datetime | None, now: datetime) -> datetime | None:
    """The next run of a job of the running service, from the time it recorded after its last run.

    A recorded time already past (the inbox is recorded only when files came) is carried forward:
    an interval job keeps its phase; a cron job's next time comes from its schedule.
    """
    if isinstance(trigger, CronTrigger):
        return recorded if recorded is not None and recorded > now else trigger.get_next_fire_time(None, now)
    if recorded is None or recorded > now or not isinstance(trigger, IntervalTrigger):
        return recorded
    step = trigger.interval
    return recorded + step * (int((now - recorded) / step) + 1)


def read_job_status(settings: Settings, con: duckdb.DuckDBPyConnection | None,
                    now: datetime | None = None) -> tuple[ServiceStatus, list[JobStatus]]:
    """The service's state and every configured job's last run and next run, from `job_runs`.

    `con` may be None (no database yet) or a database without the `job_runs` table (never served);
    next run times are known only while the service runs (as it recorded them), except for cron jobs
    that have not run yet, whose next time is computed from the schedule.
    """
    now = now or datetime.now(settings.zone)
    jobs = [(job.id, describe_trigger(job.trigger), job.trigger) for job in plan_jobs(settings, now)]
    jobs.append(("analyze", "after imports; before reports", None))
    if settings.reports.email is not None:
        jobs.append(("email", "after reports (once a week)", None))
    latest: dict[str, tuple] = {}
    if con is not None and con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'job_runs'"
    ).fetchone()[0]:
        for row in con.execute(
            "SELECT job_id, started_at, status, duration_s, summary, next_run_at, pid FROM job_runs"
            " QUALIFY row_number() OVER (PARTITION BY job_id ORDER BY run_id DESC) = 1"
        ).fetchall():
            latest[row[0]] = row
    serve = latest.get("serve")
    if serve is None:
        service = ServiceStatus("never")
    elif serve[2] == "running":
        service = ServiceStatus("running" if serve[6] and _is_alive(serve[6]) else "gone", serve[1], serve[6])
    else:
        service = ServiceStatus("stopped", serve[1], serve[6])
    found = []
    for job_id, schedule, trigger in jobs:
        row = latest.get(job_id)
        next_run = None
        if service.state == "running":
            next_run = _project_next_run(trigger, row[5] if row is not None else None, now)
        found.append(JobStatus(job_id, schedule, *(row[1:5] if row else ()), next_run=next_run))
    return service, found


@contextmanager
def hold_service_lock(settings: Settings, wait: float) -> Iterator[None]:
    """Only one `serve` per data folder: a second one waits up to `wait` seconds, then LockedError."""
    with hold_lock(
        settings.data_dir / "reviewpulse.serve.lock",
        wait,
        f"`reviewpulse serve` is already running for {settings.data_dir}; "
        "stop it first (e.g. `systemctl stop reviewpulse`) or pass --wait SECONDS",
    ):
        yield


def _hide_busy_skips(record: logging.LogRecord) -> bool:
    # A job whose previous run is still running or queued behind another job is skipped by
    # APScheduler with a warning; with one worker that is routine (the next run collects it all).
    return "maximum number of running instances reached" not in record.getMessage() or log.isEnabledFor(logging.DEBUG)


def main(settings: Settings | None = None, *, service_wait: float = 0, lock_wait: float = LOCK_WAIT_SECONDS) -> int:
    """Run the service until SIGTERM or Ctrl-C; the running job finishes first. Returns the exit status.

    Side effects: holds the service lock, installs signal handlers for its lifetime, records the
    service and every job run in `job_runs`.
    """
    settings = settings if settings is not None else load_settings()
    with hold_service_lock(settings, service_wait):
        service = Service(settings, lock_wait)
        scheduler = build_scheduler(settings, service)

        done = threading.Event()

        def stop_scheduler() -> None:
            # The scheduler may be just starting; shut it down once it runs (or give up when main is done).
            while not done.is_set():
                if scheduler.running:
                    try:
                        scheduler.shutdown(wait=False)
                    except SchedulerNotRunningError:
                        pass
                    return
                done.wait(0.05)

        def request_stop(signum: int, _frame: Any) -> None:
            if service.stopping.is_set():
                log.info("still stopping: waiting for the running job to finish")
                return
            log.info("%s received: stopping after the running job", signal.Signals(signum).name)
            service.stopping.set()
            # Not from inside the handler: shutdown takes the scheduler's locks, which the
            # interrupted main loop may be holding.
            threading.Thread(target=stop_scheduler, name="stop", daemon=True).start()

        logging.getLogger("apscheduler.scheduler").addFilter(_hide_busy_skips)
        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            service.record_start()
            log.info("serve: %s, %d jobs in %s; data in %s", settings.practice, len(scheduler.get_jobs()),
                     settings.timezone, settings.data_dir)
            for job in scheduler.get_jobs():
                log.debug("job %s: %s", job.id, describe_trigger(job.trigger))
            if not service.stopping.is_set():
                scheduler.start()
            service.executor.shutdown(wait=True)  # the running job finishes its transaction
        finally:
            done.set()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            logging.getLogger("apscheduler.scheduler").removeFilter(_hide_busy_skips)
        service.record_stop()
        log.info("serve: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
