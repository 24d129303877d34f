"""The performance benchmark: one command builds fresh databases and measures every stage in one run.

    python benchmarks/pipeline.py                    # quick run (20,000 reviews)
    python benchmarks/pipeline.py --reviews 1000000  # the full run

Measured on the same machine in the same run, each next to its reference:

- ingest: reviews/s of importing the Google Takeout export and the CSV export, next to DuckDB's own
  `read_json` / `read_csv` loading the same files into a table; both are timed until a CHECKPOINT
  has written the rows into the database file (DuckDB otherwise writes a large new table only when
  the connection closes, outside the reference's time, while an import's commit often writes at once);
- analysis: reviews/s of `analyze_pending` (sentences, both sentiments, themes, staff, flags) with
  every core, next to a bare single-process loop of vaderSentiment's `polarity_scores` over the same
  texts; the stored `vader_compound` of every review is compared with that loop's result;
- no-op cycle: collect + analyze + report again when nothing changed, against the full run;
- weekly report: building and writing the newest week's whole-practice page (the page that is
  e-mailed, with its summary) at N/100 and N reviews: the median of WEEK_PAGE_REPEATS builds after
  the whole runs, each the first page of a fresh process (as a scheduled report job builds it), the
  two sizes taking turns;
- memory: peak resident memory (the process and its workers) of a whole run at N/10 and N reviews.

Each whole run (collect, analyze, report, then the no-op cycle) runs in its own subprocess so its peak
memory is its own. The Markdown table replaces what stands between the `<!-- performance:begin -->` and `<!-- performance:end -->`
markers of benchmarks/README.md, so the notes written around it stay; `--no-readme` only prints it. The
table names the commit measured (with `-dirty` when the work tree had changes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import generate  # noqa: E402
from reports.context import NEEDS_REPLY_SHOWN, QUOTES_PER_THEME, WEEK_REVIEWS_SHOWN  # noqa: E402

DEFAULT_REVIEWS = 20_000
# Fixed "now": the Monday after the corpus' last day, so the finished weeks never depend on the clock.
NOW = datetime.combine(generate.END_DAY + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=12)
NEWEST_WEEK = generate.END_DAY - timedelta(days=6)  # the Monday of the newest finished week
# A page takes a fraction of a second, so one build is at the mercy of the machine's other load: the
# weekly report's figure is the median of this many builds, each by a process of its own.
WEEK_PAGE_REPEATS = 5
README = HERE / "README.md"
BEGIN, END = "<!-- performance:begin -->", "<!-- performance:end -->"


# -- memory ------------------------------------------------------------------------------------------

def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fp:
            for line in fp:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fp:
                for child in fp.read().split():
                    pids += _tree(int(child))
    except OSError:
        pass
    return pids


class TreePeak:
    """Samples the resident memory of this process and all its descendants; `peak_mib` is the highest sum."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in _tree(os.getpid())))
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreePeak":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


class DeclinedFiles(logging.Handler):
    """Records the export files an import read with the Python parser instead of DuckDB's readers
    (ingest.store logs each at DEBUG): a fallback is correct but slow, and should show in the table."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "read by the Python parser" in message:
            self.reasons.append(message)

    def __enter__(self) -> "DeclinedFiles":
        logger = logging.getLogger("reviewpulse.store")
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logger = logging.getLogger("reviewpulse.store")
        logger.removeHandler(self)
        logger.setLevel(self._level)


# -- one whole run (in a subprocess) -----------------------------------------------------------------

def _settings(workdir: Path, n: int, sources: dict[str, Path], site: Path):
    from config import load_settings

    config = workdir / "reviewpulse.toml"
    config.write_text(generate.settings_toml(workdir / "data", sources, generate.default_locations(n), site),
                      encoding="utf-8")
    return load_settings(config, environ={})


def _whole_settings(workdir: Path, n: int):
    return _settings(workdir, n, {"google": workdir / "exports" / "google"}, workdir / "site")


def time_newest_week_page(con, settings, workdir: Path) -> float:
    """Seconds to build and write the newest week's whole-practice page (into workdir/weekly)."""
    from reports.site import build_nav, write_week_page

    weekly = settings.model_copy(update={"reports": settings.reports.model_copy(update={"dir": workdir / "weekly"})})
    locations = [(loc.id, loc.name) for loc in settings.locations]
    nav = build_nav(NEWEST_WEEK, {NEWEST_WEEK - timedelta(weeks=1)}, locations)
    t = time.perf_counter()
    write_week_page(con, weekly, NEWEST_WEEK, None, nav)
    return time.perf_counter() - t


def run_week(n: int, workdir: Path) -> float:
    """The newest week's page built once, by a process that has built none before (as a report job)."""
    from db import connect

    settings = _whole_settings(workdir, n)
    con = connect(settings.database_path, timezone=settings.timezone, memory_limit=settings.memory_limit)
    try:
        return time_newest_week_page(con, settings, workdir)
    finally:
        con.close()


def run_whole(n: int, workdir: Path, seed: int) -> dict:
    """Generate a Google export of n reviews, then time collect, analyze, report and a no-op cycle."""
    from analysis.pipeline import analyze_pending
    from db import connect
    from ingest.collect import collect_all
    from reports.site import write_reports

    exports = workdir / "exports"
    if not (exports / "google").is_dir():
        generate.write_export("google", exports, n, seed)
    settings = _whole_settings(workdir, n)
    out: dict = {"reviews": n}
    with TreePeak() as peak:
        # As `reviewpulse run` and `serve` open it: with the jobs' DuckDB memory limit.
        con = connect(settings.database_path, timezone=settings.timezone, memory_limit=settings.memory_limit)
        try:
            t = time.perf_counter()
            with DeclinedFiles() as declined:
                results = collect_all(con, settings)
            con.execute("CHECKPOINT")  # like the reference: timed until the rows are in the database file
            out["collect_s"] = time.perf_counter() - t
            out["collect_declined"] = declined.reasons
            out["collect_files"] = sum(1 for r in results if r.status == "ok")
            out["imported"] = sum(r.rows_seen for r in results if r.status == "ok")
            failed = [r.error for r in results if r.status == "failed"]
            if failed:
                raise SystemExit(f"import failed: {failed[0]}")
            t = time.perf_counter()
            summary = analyze_pending(con, settings)
            con.execute("CHECKPOINT")  # as the collect: timed until what it wrote is in the database file
            out["analyze_s"] = time.perf_counter() - t
            out["analyzed"] = summary.reviews_analyzed
            out["workers"] = summary.workers
            out["weekly_report_s"] = time_newest_week_page(con, settings, workdir)
            t = time.perf_counter()
            write_reports(con, settings, now=NOW)
            con.execute("CHECKPOINT")
            out["site_s"] = time.perf_counter() - t
            out["full_s"] = out["collect_s"] + out["analyze_s"] + out["site_s"]
            t = time.perf_counter()
            noop = collect_all(con, settings)
            t_collect = time.perf_counter()
            again = analyze_pending(con, settings)
            t_analyze = time.perf_counter()
            rewritten = write_reports(con, settings, now=NOW)
            out["noop_s"] = time.perf_counter() - t
            out["noop_parts_s"] = [t_collect - t, t_analyze - t_collect, time.perf_counter() - t_analyze]
            out["noop_changed"] = sum(r.rows_new + r.rows_updated for r in noop) + again.reviews_analyzed
            out["noop_pages"] = len(rewritten.pages)
            out["pages"] = len(rewritten.pages) + len(rewritten.unchanged)
        finally:
            con.close()
    out["peak_tree_mib"] = peak.peak_mib
    out["peak_main_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["peak_worker_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["database_mb"] = settings.database_path.stat().st_size / 1e6
    return out


def run_whole_in_subprocess(n: int, workdir: Path, seed: int) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    result = workdir / "result.json"
    subprocess.run([sys.executable, __file__, "--stage", "whole", "--reviews", str(n), "--seed", str(seed),
                    "--workdir", str(workdir)], check=True)
    return json.loads(result.read_text(encoding="utf-8"))


def measure_week_pages(workdirs: dict[int, Path], repeats: int = WEEK_PAGE_REPEATS) -> dict[str, list[float]]:
    """The newest week's page built `repeats` times per corpus size after the whole runs, each in a
    fresh process. The sizes take turns, so that a change of the shared machine's speed while they
    are built falls on both sides of the ratio (one size after the other, the ratio once moved from
    1.63x to 2.06x)."""
    seconds: dict[str, list[float]] = {str(n): [] for n in workdirs}
    for _ in range(repeats):
        for n, workdir in workdirs.items():
            subprocess.run([sys.executable, __file__, "--stage", "week", "--reviews", str(n), "--workdir", str(workdir)],
                           check=True)
            seconds[str(n)].append(json.loads((workdir / "week.json").read_text(encoding="utf-8")))
    return seconds


# -- references (in the orchestrating process) -------------------------------------------------------

def measure_ingest_csv(n: int, workdir: Path, seed: int) -> dict:
    """Import the CSV export of the same corpus into a fresh database; time it next to DuckDB's read_csv."""
    import duckdb

    from db import connect
    from ingest.collect import collect_all

    exports = workdir / "exports"
    path = exports / "reviews.csv"
    if not path.exists():
        generate.write_export("csv", exports, n, seed)
    settings = _settings(workdir, n, {"csv": path}, workdir / "site")
    settings.database_path.unlink(missing_ok=True)  # a fresh database, also when resuming
    con = connect(settings.database_path, timezone=settings.timezone, memory_limit=settings.memory_limit)
    try:
        t = time.perf_counter()
        with DeclinedFiles() as declined:
            results = collect_all(con, settings)
        con.execute("CHECKPOINT")  # like the reference: timed until the rows are in the database file
        ours = time.perf_counter() - t
    finally:
        con.close()
    rows = sum(r.rows_seen for r in results if r.status == "ok")
    if rows != n:
        raise SystemExit(f"CSV import read {rows} of {n} reviews: {[r.error for r in results]}")
    reference = workdir / "duckdb_csv.duckdb"
    reference.unlink(missing_ok=True)
    with duckdb.connect(str(reference)) as ref:
        t = time.perf_counter()
        ref.execute("CREATE TABLE reviews AS SELECT * FROM read_csv(?)", [str(path)])
        ref.execute("CHECKPOINT")
        theirs = time.perf_counter() - t
        loaded = ref.execute("SELECT count(*) FROM reviews").fetchone()[0]
    return {"reviews": n, "ours_s": ours, "duckdb_s": theirs, "duckdb_rows": loaded,
            "mb": path.stat().st_size / 1e6, "declined": declined.reasons,
            "files": sum(1 for r in results if r.status == "ok")}


def measure_duckdb_json(workdir: Path) -> dict:
    """DuckDB's read_json loading the same Takeout files (one row per review) into a table.

    One file at a time: each file is one JSON object, and reading several large ones at once runs
    DuckDB out of memory on a machine this size (at 300,000 reviews).
    """
    import duckdb

    files = sorted(str(p) for p in (workdir / "exports" / "google").rglob("reviews.json"))
    reference = workdir / "duckdb_json.duckdb"
    reference.unlink(missing_ok=True)
    with duckdb.connect(str(reference)) as ref:
        t = time.perf_counter()
        for i, path in enumerate(files):
            # By name: a file's records may list their keys in another order than the first file's.
            verb = "CREATE TABLE reviews AS" if i == 0 else "INSERT INTO reviews BY NAME"
            ref.execute(f"{verb} SELECT unnest(reviews, max_depth := 2) FROM read_json(?, maximum_object_size = 2147483647)",
                        [path])
        ref.execute("CHECKPOINT")
        seconds = time.perf_counter() - t
        loaded = ref.execute("SELECT count(*) FROM reviews").fetchone()[0]
    return {"duckdb_s": seconds, "duckdb_rows": loaded, "mb": sum(Path(f).stat().st_size for f in files) / 1e6}


def measure_vader_loop(workdir: Path) -> dict:
    """A bare single-process loop of vaderSentiment over the stored texts; compare stored compounds."""
    import duckdb
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    with duckdb.connect(str(workdir / "data" / "reviewpulse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT r.text, s.vader_compound FROM reviews r JOIN review_sentiment s USING (review_id)"
            " WHERE r.text IS NOT NULL ORDER BY r.review_id").fetchall()
    texts = [text for text, _ in rows]
    analyzer = SentimentIntensityAnalyzer()
    t = time.perf_counter()
    compounds = [analyzer.polarity_scores(text)["compound"] for text in texts]
    seconds = time.perf_counter() - t
    mismatches = sum(1 for (_, stored), ref in zip(rows, compounds) if stored != ref)
    return {"texts": len(texts), "seconds": seconds, "mismatches": mismatches}


# -- the report ----------------------------------------------------------------------------------------

def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "-"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _spread(seconds: list[float]) -> str:
    return f"{min(seconds):.2f}–{max(seconds):.2f} s"


def _fast_share(files: int | None, declined: list[str] | None) -> str:
    """", 20 of 20 files read by DuckDB's readers" (nothing when the run did not record it)."""
    if files is None or declined is None:
        return ""
    return f", {files - len(declined)} of {files} file{'s' if files != 1 else ''} read by DuckDB's readers"


def build_table(n: int, results: dict) -> str:
    main, small, tiny = results["whole"][str(n)], results["whole"][str(results["memory_small"])], results["whole"][str(results["report_small"])]
    js, csv_, vader = results["json"], results["csv"], results["vader"]
    ingest_json_ratio = (js["duckdb_s"] / main["collect_s"])
    ingest_csv_ratio = (csv_["duckdb_s"] / csv_["ours_s"])
    analysis_ratio = vader["seconds"] / main["analyze_s"]
    noop_share = main["noop_s"] / main["full_s"]
    # Runs recorded before the fresh-process builds have only the whole run's build.
    pages = results.get("week_pages") or {str(n): [main["weekly_report_s"]], str(tiny["reviews"]): [tiny["weekly_report_s"]]}
    page_big, page_small = statistics.median(pages[str(n)]), statistics.median(pages[str(tiny["reviews"])])
    report_ratio = page_big / page_small
    in_run_ratio = main["weekly_report_s"] / tiny["weekly_report_s"]
    memory_ratio = main["peak_tree_mib"] / small["peak_tree_mib"]
    lines = [
        f"`python benchmarks/pipeline.py --reviews {n}` on {results['machine']}; "
        f"{results['date']}, commit {results.get('commit', 'not recorded')}. Synthetic corpus from `benchmarks/generate.py` (seed {results['seed']}, "
        f"{generate.default_locations(n)} location(s), median review ~440 characters). Timings are wall-clock "
        "on a shared machine; the targets are ratios measured in the same run.",
        "",
        "| measure | ReviewPulse | reference | ratio | target |",
        "|---|---|---|---|---|",
        f"| ingest Google Takeout JSON ({n:,} reviews, {js['mb']:.0f} MB{_fast_share(main.get('collect_files'), main.get('collect_declined'))}) "
        f"| {main['collect_s']:.1f} s, "
        f"{_rate(n, main['collect_s'])} | DuckDB read_json: {js['duckdb_s']:.1f} s, {_rate(js['duckdb_rows'], js['duckdb_s'])} "
        f"| {ingest_json_ratio:.2f}x | >= 0.5x: {_verdict(ingest_json_ratio >= 0.5)} |",
        f"| ingest CSV ({n:,} reviews, {csv_['mb']:.0f} MB{_fast_share(csv_.get('files'), csv_.get('declined'))}) "
        f"| {csv_['ours_s']:.1f} s, {_rate(n, csv_['ours_s'])} "
        f"| DuckDB read_csv: {csv_['duckdb_s']:.2f} s, {_rate(csv_['duckdb_rows'], csv_['duckdb_s'])} "
        f"| {ingest_csv_ratio:.2f}x | >= 0.5x: {_verdict(ingest_csv_ratio >= 0.5)} |",
        f"| full analysis, {main['workers']} process(es) ({main['analyzed']:,} reviews) | {main['analyze_s']:.1f} s, "
        f"{_rate(main['analyzed'], main['analyze_s'])} | vaderSentiment loop, 1 process ({vader['texts']:,} texts): "
        f"{vader['seconds']:.1f} s, {_rate(vader['texts'], vader['seconds'])} | {analysis_ratio:.2f}x "
        f"| >= 2x: {_verdict(analysis_ratio >= 2)} |",
        f"| vader_compound identical to vaderSentiment | {vader['texts'] - vader['mismatches']:,} of {vader['texts']:,} "
        f"| | | all: {_verdict(vader['mismatches'] == 0)} |",
        f"| no-op cycle (collect + analyze + report, nothing changed; {main['noop_changed']:,} reviews re-imported or "
        f"re-analysed, {main['noop_pages']:,} of {main['pages']:,} pages rewritten) | {main['noop_s']:.2f} s "
        f"({' + '.join(f'{s:.2f}' for s in main['noop_parts_s'])}) "
        f"| full run (collect + analyze + all report pages): {main['full_s']:.1f} s | {noop_share:.2%} "
        f"| < 1%: {_verdict(noop_share < 0.01)} |",
        f"| weekly report, newest week's whole-practice page (median of {len(pages[str(n)])} build(s) per size, the sizes "
        f"taking turns, each the first of a fresh process) | {page_big:.2f} s at {n:,} ({_spread(pages[str(n)])}) | {page_small:.2f} s at {tiny['reviews']:,} "
        f"({_spread(pages[str(tiny['reviews'])])}) | {report_ratio:.2f}x | <= 2x: {_verdict(report_ratio <= 2)} |",
        f"| all report pages ({main['reviews']:,} reviews) | {main['site_s']:.1f} s | | | |",
        f"| peak memory, whole run incl. workers | {main['peak_tree_mib']:,.0f} MiB at {n:,} "
        f"| {small['peak_tree_mib']:,.0f} MiB at {small['reviews']:,} | {memory_ratio:.2f}x "
        f"| <= 1.5x: {_verdict(memory_ratio <= 1.5)} |",
        f"| peak memory, main process / largest worker | {main['peak_main_mib']:,.0f} / {main['peak_worker_mib']:,.0f} MiB "
        f"| {small['peak_main_mib']:,.0f} / {small['peak_worker_mib']:,.0f} MiB | | |",
        f"| database file | {main['database_mb']:,.0f} MB | | | |",
        "",
        f"Versions: Python {platform.python_version()}, duckdb {_version('duckdb')}, pyarrow {_version('pyarrow')}, "
        f"vaderSentiment {_version('vaderSentiment')}.",
        "",
    ]
    notes = []
    if n < 1_000_000:
        hours = 1_000_000 / (main["analyzed"] / main["analyze_s"]) / 3600
        notes.append(f"- This run is smaller than the full `--reviews 1000000`: at the analysis throughput measured "
                     f"here, analysing a million reviews would take about {hours:.1f} h on this machine.")
    if analysis_ratio < 2:
        notes.append("- Analysis: scoring with VADER is no longer the cost floor. `analysis/vader_fast.py` gives "
                     "vaderSentiment's exact scores several times faster (checked on every review above); the rest "
                     "of the analysis (sentences, the theme taxonomy's patterns, staff, flags) costs more than "
                     "scoring.")
    if min(ingest_json_ratio, ingest_csv_ratio) < 0.5:
        notes.append("- Ingest: both sides are timed until their rows are in the database file. The reference "
                     "loads one table of the file's columns; an import also checks and normalises every record (text "
                     "cleaning, timestamps, locations, the SHA-256 content hash), merges it with what is stored "
                     "(a hash join on the natural key) and writes each review's text three times (`reviews.text`, "
                     "the `raw` record kept for re-parsing, and the first row of `review_versions`, compressed with "
                     "zstd), each file in a transaction of its own. The file is read once into a staging table and "
                     "everything else is set-based SQL, one insert per table; Python reads only the records SQL "
                     "cannot normalise. A collect stages the next file while it saves one, and checkpoints its files "
                     "together, once 1 GiB is in the write-ahead log and at its end.")
    declined = [*main.get("collect_declined", []), *csv_.get("declined", [])]
    if declined:
        notes.append(f"- Ingest: {len(declined)} export file(s) were read by the Python parser, the slow path, "
                     f"because DuckDB's readers could not read them exactly; the first: {declined[0]}")
    if memory_ratio > 1.5:
        notes.append(f"- Memory: the peak of the whole run grows with the corpus ({main['peak_main_mib']:,.0f} MiB in "
                     f"the main process and {main['peak_worker_mib']:,.0f} MiB in the largest worker at {n:,}, "
                     f"against {small['peak_main_mib']:,.0f} / {small['peak_worker_mib']:,.0f} MiB at "
                     f"{small['reviews']:,}); which stage holds it was not measured separately.")
    collect_s, analyze_s, report_s = main["noop_parts_s"]
    notes.append(
        f"- No-op cycle ({_verdict(noop_share < 0.01)}): collect {collect_s:.2f} s (one stat() per export file, "
        f"compared with `file_cache`: no file is read), analyze {analyze_s:.2f} s (loading the taxonomy and one "
        f"anti-join of `reviews` with `review_sentiment` to find nothing pending), report {report_s:.2f} s (a change "
        f"token from the newest import, the number and newest time of analyses and the flags, equal to the last "
        f"run's, and a stat() of each of the {main['pages']:,} pages that run wrote: no review digested, no page "
        f"read; {main['noop_pages']:,} rewritten). What still grows with the corpus is the pending check's anti-join "
        f"and the token's maximum over `review_sentiment.analyzed_at`, scans of one or two columns.")
    notes.append(
        f"- Weekly report ({_verdict(report_ratio <= 2)}): the page's content is bounded (the first "
        f"{WEEK_REVIEWS_SHOWN} of a busy week's reviews on the whole-practice page of several locations, "
        f"{QUOTES_PER_THEME} quotes per theme, the oldest {NEEDS_REPLY_SHOWN} reviews needing a reply, with their "
        f"counts). The page reads `reviews` once, into a temporary table of its 12 weeks' reviews joined with their "
        f"sentiment that its other queries share (`reviews` is stored in import order, so DuckDB cannot skip "
        f"its other weeks), and the text of only the reviews it shows; the analysis rows carry their review's "
        f"`created_at` and are stored in that order, so the queries read only the row groups of those weeks. "
        f"What still grows is the work over the weeks shown, which hold {n / tiny['reviews']:,.0f} times more "
        f"reviews at {n:,} than at {tiny['reviews']:,}: the theme counts and quotes join those weeks' mentions "
        f"with their reviews. The time measured is the first page a process builds (templates compiled, caches "
        f"cold), as in a scheduled report job: built by fresh processes after the whole run, and once inside the "
        f"whole run right after its analysis, where it took {main['weekly_report_s']:.2f} s at {n:,} and "
        f"{tiny['weekly_report_s']:.2f} s at {tiny['reviews']:,} ({in_run_ratio:.2f}x).")
    if notes:
        lines += ["Notes on the figures:", "", *notes, ""]
    return "\n".join(lines)


def write_section(table: str, readme: Path = README) -> None:
    """Replace the figures between the README's performance markers with `table`, leaving the rest of
    the file (the notes on the figures, the other sections) as it is. Exits when a marker is missing."""
    text = readme.read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SystemExit(f"{readme}: needs one {BEGIN} ... {END} pair around the figures")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{table.strip()}\n{END}{tail}", encoding="utf-8")


def describe_commit(root: Path = ROOT) -> str:
    """The commit the benchmark measures, `-dirty` when the work tree has changes; "not recorded"
    outside a git checkout."""
    try:
        found = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=root,
                               capture_output=True, text=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "not recorded"
    return found.stdout.strip() or "not recorded"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", "-n", type=int, default=DEFAULT_REVIEWS)
    parser.add_argument("--seed", type=int, default=generate.SEED)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/reviewpulse-bench"),
                        help="scratch folder for exports and databases (emptied per size)")
    parser.add_argument("--no-readme", action="store_true", help="print the table without writing the README")
    parser.add_argument("--resume", action="store_true",
                        help="keep the whole runs already finished in --workdir (after an interruption) and run the rest")
    parser.add_argument("--stage", choices=["whole", "week"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage == "whole":
        out = run_whole(args.reviews, args.workdir, args.seed)
        (args.workdir / "result.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
        return
    if args.stage == "week":
        (args.workdir / "week.json").write_text(json.dumps(run_week(args.reviews, args.workdir)), encoding="utf-8")
        return

    import shutil

    n = args.reviews
    report_small = max(1_000, n // 100)
    memory_small = max(1_000, n // 10)
    results: dict = {"seed": args.seed, "whole": {}, "report_small": report_small, "memory_small": memory_small,
                     "date": date.today().isoformat(), "commit": describe_commit(),
                     "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}"}
    if args.workdir.exists() and not args.resume:
        shutil.rmtree(args.workdir)
    for size in sorted({report_small, memory_small, n}):
        finished = args.workdir / f"n{size}" / "result.json"
        if args.resume and finished.exists():
            print(f"whole run at {size:,} reviews: kept from {finished}", flush=True)
            results["whole"][str(size)] = json.loads(finished.read_text(encoding="utf-8"))
            continue
        print(f"whole run at {size:,} reviews ...", flush=True)
        results["whole"][str(size)] = run_whole_in_subprocess(size, args.workdir / f"n{size}", args.seed)
        print(json.dumps(results["whole"][str(size)]), flush=True)
    print(f"weekly report: the newest week's page, {WEEK_PAGE_REPEATS} fresh processes at {report_small:,} and {n:,} reviews ...", flush=True)
    results["week_pages"] = measure_week_pages({size: args.workdir / f"n{size}" for size in (report_small, n)})
    main_dir = args.workdir / f"n{n}"
    print("references: DuckDB read_json, CSV import and read_csv, vaderSentiment loop ...", flush=True)
    results["json"] = measure_duckdb_json(main_dir)
    results["csv"] = measure_ingest_csv(n, args.workdir / f"csv{n}", args.seed)
    results["vader"] = measure_vader_loop(main_dir)
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    table = build_table(n, results)
    print(table)
    if not args.no_readme:
        write_section(table)
        print(f"wrote the figures between the performance markers of {README}")


if __name__ == "__main__":
    main()
