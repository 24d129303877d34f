"""The `reviewpulse` command: thin click commands over the library functions.

Settings are loaded here (the edge) and passed down. Any ReviewPulseError becomes one line on stderr
and exit status 2; a collect in which some file failed exits 1 after importing the others.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path

import click

from config import Settings, load_settings
from errors import ReviewPulseError

log = logging.getLogger("reviewpulse")

STARTER_CONFIG = """\
# ReviewPulse settings. Relative paths are relative to this file.
practice = {practice}
timezone = {timezone}        # IANA name; weeks and report times use it
data_dir = "data"              # database, inbox, lock file and archive live here

[[locations]]
id = "main"
name = {practice}
google_location_ids = []       # the numbers of the Takeout `location-*` folders
aliases = []                   # other names of this location in CSV exports

# Google Business Profile Takeout exports (zip or the reviews*.json files):
[[sources]]
name = "google"
type = "google"
path = "exports/google"

[reports]
dir = "site"
cron = "0 6 * * mon"           # Monday 06:00 in the practice's time zone
"""


class Context:
    def __init__(self, config: Path | None, verbose: bool):
        self.config_path = config
        self.verbose = verbose
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings


pass_ctx = click.make_pass_decorator(Context)


class Group(click.Group):
    """Turns ReviewPulseError into one clear line and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ReviewPulseError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "-c", type=click.Path(path_type=Path, dir_okay=False),
              help="Settings file (default: $REVIEWPULSE_CONFIG, ./reviewpulse.toml, else the demo practice).")
@click.option("--verbose", "-v", is_flag=True, help="Log details to stderr.")
@click.pass_context
def main(ctx: click.Context, config: Path | None, verbose: bool) -> None:
    """ReviewPulse: patient review analytics for medical practices.

    \b
    Example:
      reviewpulse run                 # collect, analyze and report the demo practice
      reviewpulse -c reviewpulse.toml status
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = Context(config, verbose)


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--practice", default="My Practice", show_default=True, help="The practice's name.")
@click.option("--timezone", default="America/New_York", show_default=True, help="IANA time zone.")
def init(folder: Path, practice: str, timezone: str) -> None:
    """Write a starter reviewpulse.toml and the inbox folder in FOLDER.

    \b
    Example:
      reviewpulse init ~/reviewpulse --practice "Riverbend Family Medicine" --timezone America/Chicago
    """
    target = folder / "reviewpulse.toml"
    if target.exists():
        raise ReviewPulseError(f"{target}: already exists; edit it or remove it first")
    folder.mkdir(parents=True, exist_ok=True)
    # JSON string literals are valid TOML basic strings: quotes and backslashes stay intact.
    text = STARTER_CONFIG.format(practice=json.dumps(practice, ensure_ascii=False),
                                 timezone=json.dumps(timezone, ensure_ascii=False))
    draft = target.with_name(".reviewpulse.toml.new")
    draft.write_text(text, encoding="utf-8")
    try:
        settings = load_settings(draft, environ={})  # a bad --timezone leaves nothing behind
    except ReviewPulseError:
        draft.unlink()
        raise
    draft.replace(target)
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    (folder / "exports" / "google").mkdir(parents=True, exist_ok=True)
    click.echo(f"wrote {target}; drop exports into {settings.inbox_dir}")


def run_collect(settings: Settings, wait: float) -> list:
    """Collect every source under the write lock; print one line per import; return the results."""
    from db import open_job
    from ingest.collect import collect_all

    with open_job(settings, wait) as con:
        results = collect_all(con, settings)
    for r in results:
        if r.status == "ok":
            click.echo(f"imported {r.origin}: {r.rows_seen} reviews, {r.rows_new} new, "
                       f"{r.rows_updated} updated, {r.rows_removed} removed")
        elif r.status == "failed":
            click.echo(f"FAILED {r.error}", err=True)
        else:
            click.echo(f"{r.status.replace('_', ' ')}: {r.origin}")
    if not any(r.status == "ok" and (r.rows_new or r.rows_updated or r.rows_removed) for r in results):
        click.echo("nothing new to import")
    return results


def run_analyze(settings: Settings, wait: float, rescore: bool = False, workers: int | None = None):
    from analysis.pipeline import analyze_pending
    from db import open_job

    with open_job(settings, wait) as con:
        summary = analyze_pending(con, settings, rescore=rescore, workers=workers)
    click.echo(str(summary))
    return summary


def run_report(settings: Settings, wait: float, weeks: list[date] | None = None):
    from db import open_job
    from reports.site import write_reports

    with open_job(settings, wait) as con:
        report = write_reports(con, settings, weeks=weeks)
    click.echo(str(report))
    return report


def parse_week(value: str | None) -> list[date] | None:
    """`2026-W46` -> [Monday of that ISO week]."""
    if value is None:
        return None
    try:
        year, week = value.upper().split("-W")
        return [date.fromisocalendar(int(year), int(week), 1)]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO week such as 2026-W46") from None


wait_option = click.option("--wait", type=float, default=0, show_default=True,
                           help="Seconds to wait while another job (e.g. one of `serve`) holds the write lock; "
                                "0 exits at once with a message.")


@main.command()
@wait_option
@pass_ctx
def collect(ctx: Context, wait: float) -> None:
    """Import new exports from the inbox and every configured source.

    \b
    Example:
      reviewpulse collect --wait 60
    """
    results = run_collect(ctx.settings, wait)
    if any(r.status == "failed" for r in results):
        sys.exit(1)


@main.command()
@click.option("--rescore", is_flag=True, help="Re-analyse all history (after a taxonomy or rule change).")
@click.option("--workers", type=click.IntRange(1), help="Processes to use (default: all cores).")
@wait_option
@pass_ctx
def analyze(ctx: Context, rescore: bool, workers: int | None, wait: float) -> None:
    """Score sentiment and themes of new or changed reviews, then update the weekly flags.

    \b
    Example:
      reviewpulse analyze --rescore
    """
    run_analyze(ctx.settings, wait, rescore, workers)


@main.command()
@click.option("--week", help="Only this ISO week, e.g. 2026-W46 (default: every finished week).")
@wait_option
@pass_ctx
def report(ctx: Context, week: str | None, wait: float) -> None:
    """Write the weekly HTML reports and the site index.

    \b
    Example:
      reviewpulse report --week 2026-W46
    """
    run_report(ctx.settings, wait, parse_week(week))


@main.command()
@wait_option
@pass_ctx
def run(ctx: Context, wait: float) -> None:
    """Collect, analyze and report; print the path of the newest weekly report last.

    \b
    Example:
      reviewpulse run
    """
    settings = ctx.settings
    results = run_collect(settings, wait)
    run_analyze(settings, wait)
    report = run_report(settings, wait)
    if report.newest is not None:
        click.echo(str(report.newest))
    if any(r.status == "failed" for r in results):
        sys.exit(1)


@main.command()
@click.option("--limit", default=10, show_default=True, help="How many recent imports to show.")
@pass_ctx
def status(ctx: Context, limit: int) -> None:
    """Show the service and its jobs, recent imports, failures with their error files, and reports.

    \b
    Example:
      reviewpulse status --limit 20
    """
    from db import connect
    from errors import LockedError
    from scheduler import read_job_status

    settings = ctx.settings
    click.echo(f"{settings.practice} — database {settings.database_path}")
    con = None
    try:
        con = connect(settings.database_path, read_only=True)
    except LockedError:
        click.echo("  the database is being written by a job right now; run status again in a moment")
    except ReviewPulseError as exc:
        click.echo(f"  {exc}")
    try:
        service, jobs = read_job_status(settings, con)
        _echo_jobs(settings, service, jobs)
        if con is not None:
            _echo_imports(settings, con, limit)
    finally:
        if con is not None:
            con.close()
    weeks = sorted(settings.site_dir.glob("[0-9][0-9][0-9][0-9]-W[0-9][0-9]/index.html"))
    site = settings.site_dir / "index.html"
    click.echo(f"reports: {site if site.exists() else 'none yet'}"
               + (f"; newest week {weeks[-1].parent.name}: {weeks[-1]}" if weeks else ""))


def _echo_jobs(settings: Settings, service, jobs) -> None:
    zone = settings.zone

    def at(moment) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}" if moment is not None else "-"

    state = {
        "never": "never started (`reviewpulse serve`)",
        "running": f"running since {at(service.since)} (pid {service.pid})",
        "stopped": f"stopped; last started {at(service.since)}",
        "gone": f"not running: pid {service.pid}, started {at(service.since)}, ended without stopping",
    }[service.state]
    click.echo(f"service: {state}")
    width = max([22, *(len(job.job_id) for job in jobs)])
    click.echo(f"  {'job':<{width}} {'schedule':<30} {'last run':<16} {'result':<7} {'took':>7}  {'next run':<16}")
    for job in jobs:
        took = f"{job.duration_s:.1f}s" if job.duration_s is not None else "-"
        next_run = at(job.next_run) if job.next_run is not None else ("-" if service.state != "running" else "when due")
        click.echo(f"  {job.job_id:<{width}} {job.schedule:<30} {at(job.last_run):<16} {job.result or '-':<7} "
                   f"{took:>7}  {next_run:<16}" + (f"  {job.summary}" if job.summary else ""))


def _echo_imports(settings: Settings, con, limit: int) -> None:
    click.echo("reviews:")
    for loc, n, last in con.execute(
        "SELECT location_id, count(*), max(created_at) FROM reviews WHERE removed_at IS NULL GROUP BY 1 ORDER BY 1"
    ).fetchall():
        click.echo(f"  {loc}: {n} reviews, newest {last:%Y-%m-%d}")
    click.echo("recent imports:")
    rows = con.execute(
        "SELECT import_id, finished_at, status, source, origin, rows_new, rows_updated, error"
        " FROM imports ORDER BY import_id DESC LIMIT ?", [limit]
    ).fetchall()
    for import_id, finished, state, source, origin, new, updated, error in rows:
        line = f"  #{import_id} {finished:%Y-%m-%d %H:%M} {state:<17} {source}: {origin}"
        line += f" ({error})" if error else f" ({new} new, {updated} updated)"
        click.echo(line)
    failed_dir = settings.inbox_dir / "failed"
    errors = sorted(failed_dir.glob("*.error.txt")) if failed_dir.is_dir() else []
    if errors:
        click.echo(f"failed files in {failed_dir}:")
        for path in errors:
            click.echo(f"  {path.name}: {path.read_text(encoding='utf-8').strip()}")


@main.command()
@click.option("--log-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also log to this file, rotated at 5 MB with 5 old files kept.")
@click.option("--wait", type=float, default=0, show_default=True,
              help="Seconds to wait for another `serve` of the same data folder to stop; 0 exits at once.")
@pass_ctx
def serve(ctx: Context, log_file: Path | None, wait: float) -> None:
    """Run collect, analyze, report and e-mail on their schedules until stopped (SIGTERM or Ctrl-C).

    Each source is collected on its `every_minutes` or `cron` (default hourly), the inbox every
    `inbox_every_minutes`, the weekly report on `[reports] cron` in the practice's time zone; missed
    weeks are reported at start. The database is opened only while a job writes. One log line per job.

    \b
    Example:
      reviewpulse -c /srv/reviewpulse/reviewpulse.toml serve --log-file /srv/reviewpulse/logs/serve.log
    """
    import scheduler

    if log_file is not None:
        from logging.handlers import RotatingFileHandler

        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
    if not ctx.verbose:
        # APScheduler logs every run at INFO; the service writes its own line per job.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    sys.exit(scheduler.main(ctx.settings, service_wait=wait))


@main.command()
@click.argument("query", required=False)
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table",
              show_default=True, help="How to print the result.")
@click.option("--max-rows", type=click.IntRange(0), default=None,
              help="Print at most this many rows (default: 1000 for table and markdown, all for csv and json; 0: all).")
@pass_ctx
def sql(ctx: Context, query: str | None, fmt: str, max_rows: int | None) -> None:
    """Run a read-only SQL query against the database and print the result.

    With no QUERY, read queries from a prompt (each ends with `;`; `.quit` or Ctrl-D leaves).
    Tables and views are described in SCHEMA.md; example queries are in docs/queries.md.

    \b
    Example:
      reviewpulse sql "SELECT location_id, count(*) FROM v_reviews GROUP BY 1"
      reviewpulse sql --format csv "SELECT * FROM v_needs_reply" > needs_reply.csv
    """
    from db import connect
    from exports import fetch_query, render_rows

    if max_rows is None:
        max_rows = 1000 if fmt in ("table", "markdown") else 0
    limit = max_rows or None

    def show(statement: str) -> None:
        columns, rows = fetch_query(con, statement, limit)
        if not columns:
            return
        click.echo(render_rows(columns, rows[:limit], fmt))
        if limit is not None and len(rows) > limit:
            click.echo(f"(only the first {limit} rows are shown; add LIMIT to the query or pass --max-rows 0)", err=True)

    con = connect(ctx.settings.database_path, read_only=True)
    try:
        if query is not None:
            show(query)
            return
        stdin = sys.stdin
        interactive = stdin.isatty()
        pending: list[str] = []
        while True:
            if interactive:
                click.echo("...> " if pending else "sql> ", nl=False)
            line = stdin.readline()
            if line.strip() == ".quit" and not pending:
                break
            if line:
                pending.append(line)
            if pending and (not line or line.rstrip().endswith(";")):
                statement, pending = "".join(pending).strip(), []
                try:
                    show(statement)
                except ReviewPulseError as exc:
                    click.echo(f"error: {exc}", err=True)
            if not line:
                break
    finally:
        con.close()


@main.command()
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="Parquet (partitioned by location and week) or CSV (one file per view).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Only rows dated on or after this day (YYYY-MM-DD, practice time zone).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Output folder (default: the data folder's exports/).")
@pass_ctx
def export(ctx: Context, fmt: str, since, out: Path | None) -> None:
    """Write every analyst view (v_reviews, v_mentions, ...) as Parquet or CSV files, read-only.

    \b
    Example:
      reviewpulse export --format parquet --since 2026-01-01 --out exports/
    """
    from db import connect
    from exports import export_views

    settings = ctx.settings
    con = connect(settings.database_path, read_only=True)
    try:
        paths = export_views(con, out or settings.data_dir / "exports", fmt=fmt,
                             since=since.date() if since else None)
    finally:
        con.close()
    for path in paths:
        click.echo(str(path))


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--out", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the JSON lines to this file (default: standard output).")
@pass_ctx
def classify(ctx: Context, file: Path, out: Path | None) -> None:
    """Analyse a CSV or JSON-lines file of texts (id, text, optional rating) without importing it.

    Writes one JSON object per text: vader_compound, score, label and the theme mentions (theme,
    polarity, sentence, span), using the practice's themes file and staff roster.

    \b
    Example:
      reviewpulse classify survey.csv -o survey-themes.jsonl
    """
    from analysis.classify import classify_file

    if out is None:
        classify_file(file, sys.stdout, ctx.settings)
        return
    with out.open("w", encoding="utf-8") as fp:
        count = classify_file(file, fp, ctx.settings)
    click.echo(f"classified {count} texts into {out}", err=True)


if __name__ == "__main__":
    main()
