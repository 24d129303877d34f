"""The fast path for CSV exports read through a column mapping: DuckDB's `read_csv` reads the rows,
SQL normalises the regular ones, `csvfile.parse_row` the others; line numbers come from the line
breaks of each row, checked against the file's own count."""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

import duckdb
import pyarrow as pa

from config import Columns, Source
from ingest import csvfile
from ingest.model import Review
from ingest.staging import (CHUNK_BYTES, MACROS, Unavailable, declining_on_error, drop_irregular, iter_irregular, read_head,
                            register_table, resolve_refs, sql_string)
from ingest.store import ImportTarget, append_rows, build_row

# Characters Python's str.strip() removes (str.isspace()), for values the parser strips.
_WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"


# The local date forms `datetime.fromisoformat` reads exactly as DuckDB's cast to TIMESTAMP does.
_LOCAL_TIME = r"^\d{4}-[01]\d-[0-3]\d([ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?)?$"


# A quote with a blank before or after it: where the two readers may part (checked by `_diverges`).
_QUOTE_BY_BLANK = re.compile(rb'"(?<=[ \t]")|"[ \t]')


def _diverges(data: bytes) -> bool:
    """Whether `data` holds a quote placement DuckDB's CSV reader and Python's csv module read
    differently: a quote after blanks at the start of a field (DuckDB drops the blanks, Python keeps the
    field as written) or blanks after a closing quote (Python refuses the row). Inside a quoted text
    the same bytes are harmless, but telling them apart needs a parser; the Python one reads those files.
    Only the quotes next to a blank (found by one regex scan) are looked at more closely.
    """
    for match in _QUOTE_BY_BLANK.finditer(data):
        quote = match.start()
        start = quote
        while start > 0 and data[start - 1] in b" \t":
            start -= 1
        if start < quote and (start == 0 or data[start - 1] in b",\r\n"):
            return True
        end = quote + 1
        while end < len(data) and data[end] in b" \t":
            end += 1
        if end > quote + 1 and (end == len(data) or data[end] in b",\r\n"):
            return True
    return False


def _local_time(column: str) -> str:
    """SQL: a regular local date string as a TIMESTAMP, NULL when it is not one."""
    return (f"CASE WHEN regexp_matches({column}, '{_LOCAL_TIME}') AND CAST(left({column}, 4) AS INTEGER) BETWEEN 1990 AND 2100 "
            f"THEN TRY_CAST({column} AS TIMESTAMP) END")


@functools.lru_cache(maxsize=8)
def zone_offsets(tz: tzinfo) -> pa.Table:
    """(day, UTC offset in minutes) for every day of 1990-2100 on which `tz` keeps one offset from the
    day before to the day after, as Python's zoneinfo says: the days whose naive local times map to UTC
    without ambiguity. Found two days at a time, each change of offset pinned to its day by bisection."""
    first, last = date(1989, 12, 31), date(2101, 1, 1)

    def offset(day: date) -> timedelta:
        return datetime.combine(day, time(12), tz).utcoffset() or timedelta(0)

    changes = []  # (first day of a new offset, the offset)
    day, current = first, offset(first)
    while day < last:
        ahead = min(day + timedelta(days=2), last)
        if offset(ahead) != current:
            low, high = day, ahead  # offset(low) == current != offset(high)
            while (high - low).days > 1:
                middle = low + (high - low) // 2
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            changes.append((high, offset(high)))
            day, current = high, offset(high)
        else:
            day = ahead
    epoch = date(1970, 1, 1)
    days, minutes = [], []
    bounds = [(first, offset(first))] + changes + [(last + timedelta(days=1), None)]
    for (start, value), (end, _) in zip(bounds, bounds[1:]):
        # Noon-to-noon steady: not the day before a change nor the day a change takes effect.
        lo = start + timedelta(days=1) if start != first else start
        hi = end - timedelta(days=1)
        if hi > lo:
            days.extend(range((lo - epoch).days, (hi - epoch).days))
            minutes.extend([int(value.total_seconds() // 60)] * ((hi - lo).days))
    return pa.table({"day": pa.array(days, pa.int32()).view(pa.date32()), "minutes": pa.array(minutes, pa.int32())})


def _steady_offset(tz: tzinfo, first: datetime, last: datetime) -> timedelta | None:
    """The one UTC offset Python gives every naive time from `first` to `last` whichever fold, or None
    when a change falls between them. Reading both ends with either fold is enough: changes of offset
    are months apart, so at most one falls between them, and then the ends or the folds disagree."""
    offsets = {tz.utcoffset(t.replace(fold=fold)) for t in (first, last) for fold in (0, 1)}
    return offsets.pop() if len(offsets) == 1 else None


@functools.lru_cache(maxsize=8)
def zone_hour_offsets(tz: tzinfo) -> pa.Table:
    """(local hour, UTC offset in minutes) for the hours of 1990-2100 that `zone_offsets` leaves out
    (the days around a change of offset) in which every naive local time has one offset, whichever
    fold: all but the hours a change falls in, with its repeated or missing times."""
    epoch = date(1970, 1, 1)
    days = zone_offsets(tz).column("day").cast(pa.int32()).to_pylist()  # days since the epoch
    steady = [(date(1989, 12, 31) - epoch).days, *days, (date(2101, 1, 1) - epoch).days]
    hours, minutes = [], []
    gaps = [(before, after) for before, after in zip(steady, steady[1:]) if after - before > 1]
    for before, after in gaps:
        for number in range(before + 1, after):  # the days between two steady ones
            midnight = datetime.combine(epoch + timedelta(days=number), time())
            whole_day = _steady_offset(tz, midnight, midnight + timedelta(days=1, microseconds=-1))
            for hour in range(24):
                start = midnight + timedelta(hours=hour)
                offset = whole_day if whole_day is not None else _steady_offset(tz, start, start + timedelta(hours=1, microseconds=-1))
                if offset is not None:
                    hours.append(start)
                    minutes.append(int(offset.total_seconds() // 60))
    return pa.table({"hour": pa.array(hours, pa.timestamp("us")), "minutes": pa.array(minutes, pa.int32())})


def scan_csv_lines(path: Path) -> tuple[int, bool]:
    """(physical lines as Python's csv module counts them, whether the bytes look safe for DuckDB).

    Safe: an even number of quotes, no lone CR (a line break to Python, not always to DuckDB), none of
    the quote placements the two readers treat differently. Reads the file in chunks: memory stays
    flat whatever its size.
    """
    newlines = crs = crlfs = quotes = 0
    diverges = False
    carry = last = b""
    with path.open("rb") as fp:
        while chunk := fp.read(CHUNK_BYTES):
            newlines += chunk.count(b"\n")
            quotes += chunk.count(b'"')
            crs += chunk.count(b"\r")
            crlfs += chunk.count(b"\r\n") + (1 if last == b"\r" and chunk.startswith(b"\n") else 0)
            data = carry + chunk
            diverges = diverges or _diverges(data)
            carry = data[max(len(data.rstrip(b" \t")) - 1, 0):]  # the last byte before trailing blanks, and them
            last = chunk[-1:]
    lines = newlines + (0 if last in (b"\n", b"") else 1)
    return lines, not diverges and crs == crlfs and quotes % 2 == 0


def _csv_header(path: Path, source: Source) -> list[str]:
    """The cleaned header of a CSV file the fast path can read, else Unavailable (with the reasons the
    reference parser would have for reading it differently or refusing it)."""
    if source.encoding is not None or source.columns is None or source.columns.id is None:
        # Without an id column every row needs a derived id, which the Python parser computes.
        raise Unavailable("a declared encoding, or no column mapping or id column")
    sample = read_head(path, csvfile.SNIFF_BYTES)
    if not sample.strip() or b"\x00" in sample:
        raise Unavailable("empty or binary")
    if csvfile.is_mixed_utf8(sample) or csvfile.detect_encoding(sample) not in ("utf-8", "utf-8-sig"):
        raise Unavailable("not UTF-8")
    first, newline, _ = sample.partition(b"\n")
    if not newline:
        raise Unavailable("no complete header line in the sample")
    try:
        fields = next(csv.reader([first.decode("utf-8-sig").rstrip("\r")], strict=True), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise Unavailable(f"header: {exc}") from None
    header = [h.strip().lstrip("\ufeff") for h in fields]
    mapped = [c for c in source.columns.model_dump().values() if c is not None]
    if not header or len(set(header)) != len(header) or any(c not in header for c in mapped):
        raise Unavailable("the header is empty, repeats a name or lacks a mapped column")
    return header


def _csv_location_sql(header: list[str], columns: Columns) -> str:
    """SQL listing the location references of `rp_csv`."""
    if columns.location is None:
        return "SELECT CAST(NULL AS VARCHAR)"
    return f"SELECT DISTINCT nullif(c{header.index(columns.location)}, '') FROM rp_csv"


def _csv_staging_sql(header: list[str], columns: Columns) -> str:
    """SQL creating `staging` from `rp_csv` (columns c0..cN in file order): a staging row per CSV row
    plus `rp_regular` (the fields are final), `rp_keep` (not blank, and said something),
    `rp_breaks` (line breaks inside the row) and `rp_row` (its row in rp_csv)."""
    col = {name: f"c{i}" for i, name in enumerate(header)}
    all_cols = [f"c{i}" for i in range(len(header))]

    def mapped(field: str) -> str:
        name = getattr(columns, field)
        return f"coalesce({col[name]}, '')" if name is not None else "''"

    def strip_ok(value: str) -> str:  # nothing for str.strip() to remove
        return f"NOT regexp_matches({value}, '^[{_WHITESPACE}]|[{_WHITESPACE}]$')"

    raw = ", ".join(f"{sql_string(name)}, coalesce({col[name]}, '')" for name in header)
    return f"""
CREATE OR REPLACE TEMP TABLE staging AS
WITH widths AS (
    -- In bytes (strlen), not characters: counting characters decodes every row. A row of more bytes
    -- than a field may hold goes to the Python parser, which checks each field.
    SELECT rowid AS k, strlen(whole) AS width, strlen(whole) - strlen(replace(whole, chr(10), '')) AS breaks
    FROM (SELECT rowid, concat_ws(',', {", ".join(all_cols)}) AS whole FROM rp_csv)
), lines AS (
    -- A window over the row numbers alone: a window holds the rows it reads, and over whole rows
    -- that would be the file's text at once.
    SELECT k, width, breaks,
           2 + coalesce(sum(1 + breaks) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS line
    FROM widths
), fields AS (
    SELECT n.k, n.line, n.breaks, n.width, {", ".join("c." + c for c in all_cols)},
        {mapped("text")} AS text_in, {mapped("rating")} AS rating_in, {mapped("date")} AS date_in,
        {mapped("reply_date")} AS reply_date_in, {mapped("reply")} AS reply_in, {mapped("author")} AS author_in,
        {mapped("question")} AS question_in, {mapped("id")} AS id_in, {mapped("location")} AS location_in
    FROM rp_csv c JOIN lines n ON n.k = c.rowid
), local AS (
    SELECT *, {_local_time("date_in")} AS date_local, {_local_time("reply_date_in")} AS reply_local FROM fields
), parsed AS (
    -- Naive times in the practice's zone: UTC by Python's own offset of that day (rp_offsets holds
    -- the days without a daylight-saving change near them) or, on the days around a change, of that
    -- hour (rp_hour_offsets: all but the hours the change falls in, which go to the Python parser).
    SELECT l.*, timezone('UTC', date_local - to_minutes(coalesce(o1.minutes, h1.minutes))) AS created,
           timezone('UTC', reply_local - to_minutes(coalesce(o2.minutes, h2.minutes))) AS replied
    FROM local l LEFT JOIN rp_offsets o1 ON o1.day = CAST(date_local AS DATE)
                 LEFT JOIN rp_hour_offsets h1 ON h1.hour = date_trunc('hour', date_local)
                 LEFT JOIN rp_offsets o2 ON o2.day = CAST(reply_local AS DATE)
                 LEFT JOIN rp_hour_offsets h2 ON h2.hour = date_trunc('hour', reply_local)
), records AS (
SELECT k, line, breaks, width,
    nullif(id_in, '') AS source_review_id, nullif(location_in, '') AS location_ref, nullif(author_in, '') AS author,
    CASE WHEN rating_in IN ('1', '2', '3', '4', '5') THEN CAST(rating_in AS TINYINT) END AS rating, nullif(text_in, '') AS text, nullif(question_in, '') AS question,
    created, nullif(reply_in, '') AS reply_text, CASE WHEN reply_in <> '' THEN replied END AS reply_at,
    json_object('line', line, {raw}) AS raw,
    coalesce(width <= {csvfile.MAX_FIELD_BYTES}
        AND rating_in IN ('', '1', '2', '3', '4', '5')
        AND (date_in = '' OR created IS NOT NULL)
        AND (reply_date_in = '' OR replied IS NOT NULL)
        AND id_in <> '' AND {strip_ok("id_in")} AND {strip_ok("location_in")}
        AND rp_clean_ok(text_in) AND rp_clean_ok(reply_in) AND rp_clean_ok(author_in) AND rp_clean_ok(question_in),
        false) AS regular
FROM parsed
)
SELECT CAST(line AS BIGINT) AS seq, $platform || ':' || source_review_id AS review_id, $platform AS source,
       source_review_id, l.location_id, author, rating, text, question,
       coalesce(created, $seen) AS created_at, coalesce(created, $seen) AS updated_at, reply_text, reply_at,
       rp_content_hash(author, rating, text, reply_text) AS content_hash, raw,
       regular AS rp_regular, width > 0 AND NOT (regular AND text IS NULL AND rating IS NULL) AS rp_keep,
       breaks AS rp_breaks, k AS rp_row
FROM records LEFT JOIN rp_locations l ON location_ref IS NOT DISTINCT FROM l.ref
"""


def stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    file: str,
    source: Source,
    tz: tzinfo,
    target: ImportTarget,
    resolve_location: Callable[[Review], str],
    seen_at: datetime,
) -> int:
    """Stage a CSV export mapped by `source.columns` into `staging`; return how many reviews.

    Regular rows are normalised in SQL, the others by `csvfile.parse_row`. Raises Unavailable when the
    reference path must read the file. Side effects: the temp table `staging` on `con`.
    """
    header = _csv_header(path, source)
    types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    # The file's lines are counted (in Python) while DuckDB reads it (without holding the GIL): on
    # 300,000 reviews the two take 0.7 and 0.5 s one after the other, 0.9 s side by side.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewpulse-csv-scan") as pool, declining_on_error(con):
        scanned = pool.submit(scan_csv_lines, path)
        con.execute(MACROS)
        # The reader's buffers default to 16 times the longest line allowed: 256MB each for a large
        # file, more than the jobs' memory limit, and a 600 MB export then fell back to the Python parser.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE rp_csv AS SELECT * FROM read_csv(?, columns = {{{types}}}, header = true,"
            " delim = ',', quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, null_padding = false,"
            " max_line_size = 16777216, buffer_size = 33554432)", [str(path)],
        )
        lines, safe = scanned.result()
        if not safe:
            raise Unavailable("quotes or line breaks the two CSV readers may read differently")
        register_table(con, "rp_offsets", zone_offsets(tz))
        register_table(con, "rp_hour_offsets", zone_hour_offsets(tz))
        resolve_refs(con, resolve_location, _csv_location_sql(header, source.columns))
        con.execute(_csv_staging_sql(header, source.columns), {"platform": target.platform, "seen": seen_at})
        rows, breaks = con.execute("SELECT count(*), coalesce(sum(rp_breaks), 0) FROM staging").fetchone()
        if 1 + rows + breaks != lines:
            raise Unavailable("blank lines or line breaks DuckDB counts differently")
        columns = [f"c.c{i}" for i in range(len(header))]

        def reviews() -> Iterator[tuple]:
            for record in iter_irregular(con, f"s.seq, {', '.join(columns)}", "NOT s.rp_regular AND s.rp_keep", "s.seq",
                                     table="staging s JOIN rp_csv c ON c.rowid = s.rp_row"):
                line, values = record[0], [v or "" for v in record[1:]]
                if not any(v.strip() for v in values):
                    continue
                if any(len(v) > csvfile.MAX_FIELD_BYTES for v in values):
                    raise Unavailable("a field over the size limit")
                review = csvfile.parse_row(line, dict(zip(header, values)), file=file, columns=source.columns, tz=tz,
                                           dayfirst=source.dayfirst)
                if review is not None:
                    yield build_row(line, review, target, resolve_location, seen_at)

        append_rows(con, reviews(), create=False)
        return drop_irregular(con, "NOT rp_regular OR NOT rp_keep", ["rp_keep", "rp_breaks", "rp_row"])
