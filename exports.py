"""Exports for analysts: the views written as Parquet or CSV files, and query results as text.

`export_views()` writes every analyst view (see SCHEMA.md) under an output folder: Parquet as a
Hive-partitioned dataset per view (`v_reviews/location_id=main/week_start=2026-11-09/data_0.parquet`),
or one CSV file per view. `render_rows()` formats a query result as an aligned table, CSV, JSON or
Markdown for `reviewpulse sql`.

Review text is untrusted. CSV cells that a spreadsheet would run as a formula (starting with
= + - @, a tab or a carriage return) are prefixed with a single quote, and text shown in a terminal
has its control characters made visible so a review cannot send escape sequences.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import duckdb

from errors import ReviewPulseError

ExportFormat = Literal["parquet", "csv"]
RenderFormat = Literal["table", "csv", "json", "markdown"]

# Each exported view and the condition that keeps its rows dated on or after `since` (a DATE in the
# practice's time zone). A week is kept when any of its days is.
EXPORTED_VIEWS: dict[str, str] = {
    "v_reviews": "created_date >= ?",
    "v_mentions": "created_date >= ?",
    "v_staff_mentions": "created_date >= ?",
    "v_needs_reply": "created_date >= ?",
    "v_weekly_themes": "week_start + 6 >= ?",
    "v_imports": "started_date >= ?",
}
PARTITION_COLUMNS = ["location_id", "week_start"]

# Leading characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = "=+-@\t\r"
# The same set as an RE2 character class, for guarding inside DuckDB (SQL literals keep backslashes).
_FORMULA_REGEX = r"^[=+\-@\t\r]"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
TABLE_CELL_WIDTH = 60


def guard_cell(value: str) -> str:
    """Return `value` prefixed with a single quote when a spreadsheet would run it as a formula."""
    return "'" + value if value[:1] and value[0] in FORMULA_PREFIXES else value


def export_views(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    fmt: ExportFormat,
    since: date | None = None,
) -> list[Path]:
    """Write every analyst view under `out_dir`; return the written folder (Parquet) or file (CSV) per view.

    Side effects: creates `out_dir`; replaces `out_dir/<view>/` (Parquet) or `out_dir/<view>.csv`
    of an earlier export as a whole. A view without rows leaves an empty folder or a header-only CSV.
    """
    if fmt not in ("parquet", "csv"):
        raise ReviewPulseError(f"unknown export format {fmt!r}; use parquet or csv")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReviewPulseError(f"{out_dir}: cannot create the export folder: {exc.strerror}") from None
    # A cursor of its own: the caller's connection may hold an unfinished result, which DuckDB
    # would refuse to interleave with the export's queries.
    cur = con.cursor()
    written = []
    try:
        for view, since_condition in EXPORTED_VIEWS.items():
            query = f"SELECT * FROM {view}"
            params: list = []
            if since is not None:
                query += f" WHERE {since_condition}"
                params = [since]
            target = out_dir / (view if fmt == "parquet" else f"{view}.csv")
            try:
                if fmt == "parquet":
                    write_dataset(cur.sql(query, params=params), target)
                else:
                    guarded = build_guarded_select(cur, view)
                    cur.sql(f"SELECT {guarded} FROM ({query})", params=params).write_csv(str(target), header=True)
            except duckdb.Error as exc:
                raise ReviewPulseError(f"{target}: export of {view} failed: {summarize_error(exc)}") from None
            except OSError as exc:
                raise ReviewPulseError(f"{target}: export of {view} failed: {exc.strerror or exc}") from None
            written.append(target)
    finally:
        cur.close()
    return written


def write_dataset(relation: duckdb.DuckDBPyRelation, target: Path) -> None:
    """Write `relation` as a Parquet dataset partitioned by location and week, replacing `target`.

    DuckDB's own overwrite keeps partitions the new data does not touch, so the dataset is written
    beside the old one and swapped in: no stale partition survives, and a failed write leaves the
    previous export whole.
    """
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        relation.write_parquet(str(staging), partition_by=PARTITION_COLUMNS)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    staging.rename(target)


def build_guarded_select(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Return a SELECT list of `relation` with text (and text list) columns guarded for spreadsheets."""
    columns = con.execute(f"DESCRIBE {relation}").fetchall()
    items = []
    for name, data_type, *_ in columns:
        ident = '"' + name.replace('"', '""') + '"'
        if data_type == "VARCHAR[]":
            value = f"array_to_string({ident}, '; ')"
        elif data_type in ("VARCHAR", "JSON"):
            value = f"CAST({ident} AS VARCHAR)"
        else:
            items.append(ident)
            continue
        items.append(
            f"CASE WHEN regexp_matches({value}, '{_FORMULA_REGEX}') THEN '''' || {value} ELSE {value} END AS {ident}"
        )
    return ", ".join(items)


def fetch_query(
    con: duckdb.DuckDBPyConnection, query: str, max_rows: int | None = None
) -> tuple[list[str], list[tuple]]:
    """Run `query` and return its column names and rows ([] and [] for a statement without result).

    With `max_rows`, at most max_rows + 1 rows are fetched, so a caller can tell that more exist
    without reading a whole table into memory.

    A DuckDB error becomes a ReviewPulseError of one line (the message and its hint, without the
    echoed query text), so the CLI can print it as it prints every other error.
    """
    try:
        result = con.execute(query)
        columns = [d[0] for d in result.description or []]
        if not columns:
            return columns, []
        return columns, result.fetchall() if max_rows is None else result.fetchmany(max_rows + 1)
    except duckdb.Error as exc:
        raise ReviewPulseError(f"query failed: {summarize_error(exc)}") from None


def summarize_error(exc: Exception) -> str:
    """The lines of a DuckDB error message up to its echoed query (`LINE 1: ...`), joined into one."""
    lines = []
    for line in str(exc).splitlines():
        if not line.strip() or line.startswith("LINE "):
            if lines:
                break
            continue
        lines.append(line.strip())
    return " ".join(lines) or type(exc).__name__


def render_rows(columns: Sequence[str], rows: Iterable[Sequence], fmt: RenderFormat) -> str:
    """Format a query result as text: an aligned table, CSV (formula-guarded), JSON or Markdown."""
    rows = list(rows)
    if fmt == "json":
        return json.dumps([dict(zip(columns, row)) for row in rows], default=_json_value, ensure_ascii=False, indent=2)
    if fmt == "csv":
        lines = [",".join(_csv_quote(c) for c in columns)]
        lines += [",".join(_csv_quote(_csv_value(v)) for v in row) for row in rows]
        return "\n".join(lines)
    cells = [[_display(v) for v in row] for row in rows]
    if fmt == "markdown":
        escape = lambda s: s.replace("\\", "\\\\").replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(escape(c) for c in columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in cells]
        return "\n".join(lines)
    if fmt == "table":
        cells = [[_truncate(c) for c in row] for row in cells]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
        numeric = [bool(rows) and all(isinstance(r[i], (int, float, Decimal)) or r[i] is None for r in rows)
                   for i in range(len(columns))]
        fmt_row = lambda row: "  ".join(  # noqa: E731
            (c.rjust(w) if num else c.ljust(w)) for c, w, num in zip(row, widths, numeric)
        ).rstrip()
        lines = [fmt_row(list(columns)), "  ".join("-" * w for w in widths)]
        lines += [fmt_row(row) for row in cells]
        return "\n".join(lines)
    raise ReviewPulseError(f"unknown output format {fmt!r}; use table, csv, json or markdown")


def _json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join("" if v is None else str(v) for v in value)
    if isinstance(value, str):
        return guard_cell(value)
    return str(value)


def _csv_quote(cell: str) -> str:
    # RFC 4180 quoting; unlike the csv module with "\n" line ends, a lone "\r" is quoted too.
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


def _display(value) -> str:
    """One line of terminal-safe text for a cell: newlines and control characters made visible."""
    if value is None:
        return "NULL"
    if isinstance(value, list):
        text = "[" + ", ".join(_display(v) for v in value) + "]"
    elif isinstance(value, float):
        text = repr(round(value, 4))
    else:
        text = str(value)
    text = text.replace("\r\n", "\n").replace("\n", "⏎ ").replace("\t", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _truncate(text: str) -> str:
    return text if len(text) <= TABLE_CELL_WIDTH else text[: TABLE_CELL_WIDTH - 1] + "…"
