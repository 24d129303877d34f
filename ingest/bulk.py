"""Staging an export with DuckDB's own readers: the fast path of an import.

DuckDB parses a Google reviews file (`read_text` and its JSON functions) or a CSV export (`read_csv`)
in C++ and normalises every *regular* record with SQL expressions into the temp table `staging` that
`ingest.store` merges. A record is regular when the Python parser would take its fields as they are:
known fields of the expected JSON types, text already clean (no entities, control, bidi or invisible
characters, no runs of spaces, NFC), the usual date forms away from daylight-saving changes, a plain
star rating. Every other record is re-parsed by the Python parser of its format (the reference), so
the staged rows are the same whichever path a record takes (tests/test_ingest_fast.py).

The fast path never reports an error itself: whenever the file is not one it can read exactly as the
reference would (an unexpected shape, anything DuckDB refuses, a record Python rejects), it raises
`Unavailable` and the caller runs the reference path, whose error names the file and the record.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

import duckdb
import pyarrow as pa

from config import Columns, Source
from ingest import csvfile, gbp
from ingest.model import Review
from ingest.store import FastPathUnavailable, FastStage, ImportTarget, append_rows, build_row



Unavailable = FastPathUnavailable


# Characters and sequences that `clean_text` would change or remove: entities, CR, controls, bidi
# overrides, invisible characters, whitespace other than a single space or a paragraph break, spaces at
# a line's ends, more than one blank line, and Google's translation wrapper. RE2 syntax.
_UNCLEAN = (
    r"[&\r\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x{85}\x{a0}\x{ad}\x{1680}\x{2000}-\x{200b}\x{2028}-\x{202f}"
    r"\x{205f}-\x{2069}\x{3000}\x{feff}]|  | \n|\n |\n\n\n|^[ \n]|[ \n]$|\(Translated by Google\)"
)
# Text whose `clean_text` is itself ('' becomes NULL in SQL as in Python).
_MACROS = f"""
CREATE OR REPLACE TEMP MACRO rp_clean_ok(s) AS
    s IS NULL OR s = '' OR (NOT regexp_matches(s, '{_UNCLEAN}') AND nfc_normalize(s) = s);
CREATE OR REPLACE TEMP MACRO rp_content_hash(author, rating, txt, reply) AS
    left(sha256(concat(coalesce(author, ''), chr(31), coalesce(CAST(rating AS VARCHAR), ''), chr(31),
                       coalesce(txt, ''), chr(31), coalesce(reply, ''))), 32);
"""

# What a review object may hold to be read in SQL: these keys (each at most once), with these JSON types.
_GOOGLE_SHAPE = {
    "name": "VARCHAR", "reviewId": "VARCHAR", "reviewer": "OBJECT", "starRating": "VARCHAR", "comment": "VARCHAR",
    "createTime": "VARCHAR", "updateTime": "VARCHAR", "reviewReply": "OBJECT",
    "reviewer.displayName": "VARCHAR", "reviewer.profilePhotoUrl": "VARCHAR", "reviewer.isAnonymous": "BOOLEAN",
    "reviewReply.comment": "VARCHAR", "reviewReply.updateTime": "VARCHAR",
}
_GOOGLE_TRANSFORM = json.dumps({
    "name": "VARCHAR", "reviewId": "VARCHAR", "reviewer": {"displayName": "VARCHAR", "isAnonymous": "BOOLEAN"},
    "starRating": "VARCHAR", "comment": "VARCHAR", "createTime": "VARCHAR", "updateTime": "VARCHAR",
    "reviewReply": {"comment": "VARCHAR", "updateTime": "VARCHAR"},
})


def _keys_within(keys: str, allowed: list[str]) -> str:
    """SQL: the key list `keys` holds only `allowed` keys, none twice."""
    return f"list_has_all({allowed}, {keys}) AND len({keys}) = len(list_distinct({keys}))"


def _google_shape_ok() -> str:
    """SQL: the record is an object of known keys with the expected JSON types (NULL or absent allowed)."""
    top = [k for k in _GOOGLE_SHAPE if "." not in k]
    checks = [
        _keys_within("keys[1]", top),
        _keys_within("keys[2]", [k.split(".")[1] for k in _GOOGLE_SHAPE if k.startswith("reviewer.")]),
        _keys_within("keys[3]", [k.split(".")[1] for k in _GOOGLE_SHAPE if k.startswith("reviewReply.")]),
        *(f"coalesce(types[{i}], 'NULL') IN ('{kind}', 'NULL')" for i, kind in enumerate(_GOOGLE_SHAPE.values(), 1)),
    ]
    return "\n        AND ".join(checks)


# RFC 3339 in UTC as Google writes it; `datetime.fromisoformat` reads it exactly as DuckDB's cast does.
_GOOGLE_TIME = r"^\d{4}-[01]\d-[0-3]\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?Z$"


def _google_time(column: str) -> str:
    """SQL: the UTC time of a regular Google timestamp string, NULL when it is not one."""
    return (f"CASE WHEN regexp_matches({column}, '{_GOOGLE_TIME}') "
            f"AND CAST(left({column}, 4) AS INTEGER) BETWEEN 1990 AND 2100 "
            f"THEN TRY_CAST({column} AS TIMESTAMPTZ) END")


# One row per review object: its position, the record, its shape and its fields.
_GOOGLE_ELEMENTS = f"""
CREATE OR REPLACE TEMP TABLE rp_elements AS
SELECT seq, r, json_type(r, {["$." + k for k in _GOOGLE_SHAPE]}) AS types,
       json_transform(r, '{_GOOGLE_TRANSFORM}') AS f,
       list_transform(json_keys(r, ['$', '$.reviewer', '$.reviewReply']), lambda k: coalesce(k, [])) AS keys
FROM (SELECT unnest(range(len(records))) AS seq, unnest(records) AS r FROM rp_document)
"""

_GOOGLE_LOCATION = "coalesce(nullif(regexp_extract(f.name, 'locations/([^/]+)', 1), ''), $hint)"

# Every record as a staging row (STAGING_SCHEMA) plus `rp_regular`: whether those fields are final.
_GOOGLE_STAGING = f"""
CREATE OR REPLACE TEMP TABLE staging AS
WITH fields AS (
    SELECT seq, r, {_google_shape_ok()} AS shape_ok, {_GOOGLE_LOCATION} AS location_ref,
        f.name, f.reviewId AS review_id, f.reviewer.displayName AS display_name, f.reviewer.isAnonymous AS anonymous,
        f.starRating AS stars, f.comment, f.createTime AS create_time, f.updateTime AS update_time,
        f.reviewReply.comment AS reply_comment, f.reviewReply.updateTime AS reply_time
    FROM rp_elements
), parsed AS (
    SELECT *,
        CASE WHEN review_id <> '' THEN review_id
             WHEN review_id IS NULL AND contains(name, '/reviews/') THEN nullif(regexp_extract(name, '[^/]*$'), '')
        END AS source_review_id,
        CASE stars WHEN 'ONE' THEN 1 WHEN 'TWO' THEN 2 WHEN 'THREE' THEN 3 WHEN 'FOUR' THEN 4 WHEN 'FIVE' THEN 5
        END AS rating,
        {_google_time("create_time")} AS created,
        {_google_time("update_time")} AS updated,
        {_google_time("reply_time")} AS replied
    FROM fields
), records AS (
SELECT seq, r, source_review_id, location_ref,
    CASE WHEN anonymous THEN NULL ELSE nullif(display_name, '') END AS author,
    rating, nullif(comment, '') AS text, created, coalesce(updated, created) AS updated,
    nullif(reply_comment, '') AS reply_text,
    CASE WHEN nullif(reply_comment, '') IS NOT NULL THEN replied END AS reply_at,
    coalesce(shape_ok
        AND source_review_id IS NOT NULL
        AND (stars IS NULL OR rating IS NOT NULL OR stars = 'STAR_RATING_UNSPECIFIED')
        AND coalesce(length(comment), 0) <= {gbp.MAX_TEXT_CHARS}
        AND coalesce(length(reply_comment), 0) <= {gbp.MAX_TEXT_CHARS}
        AND created IS NOT NULL
        AND (update_time IS NULL OR update_time = '' OR updated IS NOT NULL)
        AND (reply_time IS NULL OR reply_time = '' OR replied IS NOT NULL)
        AND rp_clean_ok(display_name) AND rp_clean_ok(comment) AND rp_clean_ok(reply_comment), false) AS regular
FROM parsed
)
SELECT CAST(seq AS BIGINT) AS seq, $platform || ':' || source_review_id AS review_id, $platform AS source,
       source_review_id, l.location_id, author, CAST(rating AS TINYINT) AS rating, text,
       CAST(NULL AS VARCHAR) AS question, created AS created_at, updated AS updated_at, reply_text, reply_at,
       rp_content_hash(author, rating, text, reply_text) AS content_hash, r AS raw, regular AS rp_regular
FROM records LEFT JOIN rp_locations l ON location_ref IS NOT DISTINCT FROM l.ref
"""


_TRAILING_COMMA = re.compile(rb",[ \t\r\n]*[\]}]")
_CHUNK_BYTES = 8 * 1024 * 1024


def _read_head(path: Path, size: int = 64) -> bytes:
    with path.open("rb") as fp:
        return fp.read(size)


def scan_json(path: Path) -> tuple[bool, int]:
    """(whether a comma is followed by `]` or `}` anywhere in the file, how often `"reviews"` occurs).

    DuckDB's JSON functions accept trailing commas that Python's json module (the reference) rejects,
    and take the first of two equal keys where json takes the last. Either may also occur inside a
    review text; then the Python parser reads the file. Reads it in chunks: memory stays flat.
    """
    carry = b""
    trailing = False
    reviews = 0
    with path.open("rb") as fp:
        while chunk := fp.read(_CHUNK_BYTES):
            data = carry + chunk
            trailing = trailing or _TRAILING_COMMA.search(data) is not None
            reviews += data.count(b'"reviews"') - carry.count(b'"reviews"')
            comma = data.rfind(b",")
            tail = data[comma:] if comma >= 0 and not data[comma + 1:].strip(b" \t\r\n") else b""
            carry = tail if len(tail) >= 9 else data[-8:]  # also the start of a "reviews" cut by the chunk
    return trailing, reviews


def _resolve_refs(con: duckdb.DuckDBPyConnection, resolve_location: Callable[[Review], str], query: str,
                  params: dict | None = None) -> None:
    """The temp table `rp_locations`: each location reference `query` lists -> its location id. A
    reference the resolver refuses makes the reference path read the file (its error names the record)."""
    refs = [ref for (ref,) in con.execute(query, params).fetchall()]
    _register(con, "rp_locations", {
        "ref": pa.array(refs, pa.string()),
        "location_id": pa.array([resolve_location(Review(None, None, location_ref=ref)) for ref in refs], pa.string()),
    })


def _register(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, pa.Array] | pa.Table) -> None:
    """Create the temp table `name` from Arrow columns."""
    table = columns if isinstance(columns, pa.Table) else pa.table(columns)
    con.register("rp_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM rp_arrow")
    finally:
        con.unregister("rp_arrow")


def stage_google(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    file: str,
    target: ImportTarget,
    resolve_location: Callable[[Review], str],
    seen_at: datetime,
) -> int:
    """Stage a Google reviews JSON file (Takeout or API page) into `staging`; return how many reviews.

    Regular records are normalised in SQL, the others by `gbp.parse_review`. Raises Unavailable when
    the reference path must read the file. Side effects: the temp table `staging` on `con`.
    """
    head = _read_head(path).lstrip(b" \t\r\n")
    if not head.startswith(b"{"):
        raise Unavailable("not a JSON object")  # a list, a zip, a BOM, UTF-16, not JSON at all
    trailing, reviews_keys = scan_json(path)
    if trailing or reviews_keys != 1:
        raise Unavailable("a comma before a closing bracket, or not one \"reviews\" key")
    hint = gbp.location_from_path(file)
    try:
        con.execute(_MACROS)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rp_document AS SELECT json_type(content, '$.reviews') AS kind,"
            " json_extract(content, '$.reviews[*]') AS records FROM read_text(?)", [str(path)],
        )
        if con.execute("SELECT kind FROM rp_document").fetchone()[0] != "ARRAY":
            raise Unavailable("no 'reviews' list")
        con.execute(_GOOGLE_ELEMENTS)
        con.execute("DROP TABLE rp_document")
        _resolve_refs(con, resolve_location, f"SELECT DISTINCT {_GOOGLE_LOCATION} FROM rp_elements", {"hint": hint})
        con.execute(_GOOGLE_STAGING, {"hint": hint, "platform": target.platform})
        con.execute("DROP TABLE rp_elements")
        append_rows(
            con,
            (build_row(seq, gbp.parse_review(json.loads(record), where=f"reviews[{seq}]", location_hint=hint),
                       target, resolve_location, seen_at)
             for seq, record in _irregular(con, "seq, CAST(raw AS VARCHAR)", "NOT rp_regular", "seq")),
            create=False,
        )
        return _drop_irregular(con)
    except Unavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the reference path says it precisely
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        drop_temp_tables(con)


def build_fast_stage(path: Path, *, source: Source, file: str, target: ImportTarget,
                     resolve_location: Callable[[Review], str], tz: tzinfo) -> FastStage | None:
    """The fast path for an export file of `source`, or None when its type has none."""
    if source.type in ("google", "gbp_api"):
        return lambda con, seen_at: stage_google(con, path, file=file, target=target,
                                                 resolve_location=resolve_location, seen_at=seen_at)
    if source.type == "csv":
        return lambda con, seen_at: stage_csv(con, path, file=file, source=source, tz=tz, target=target,
                                              resolve_location=resolve_location, seen_at=seen_at)
    return None


def _irregular(con: duckdb.DuckDBPyConnection, select: str, where: str, order: str, batch: int = 1000,
               table: str = "staging") -> Iterator[tuple]:
    """Rows of `table` the SQL did not normalise, in file order, a batch at a time."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE rp_irregular AS SELECT row_number() OVER (ORDER BY {order}) AS rp_k, {select}"
        f" FROM {table} WHERE {where}"
    )
    start = 1
    while rows := con.execute("SELECT * EXCLUDE (rp_k) FROM rp_irregular WHERE rp_k >= ? AND rp_k < ? ORDER BY rp_k",
                              [start, start + batch]).fetchall():
        yield from rows
        start += batch


def _drop_irregular(con: duckdb.DuckDBPyConnection, where: str = "NOT rp_regular", extra: Iterable[str] = ()) -> int:
    """Remove the rows the SQL did not normalise (their Python-parsed rows, whose flags are NULL, are in
    `staging` by now) and the flag columns; return how many rows `staging` holds."""
    con.execute(f"DELETE FROM staging WHERE {where}")
    for column in ("rp_regular", *extra):
        con.execute(f"ALTER TABLE staging DROP COLUMN {column}")
    return con.execute("SELECT count(*) FROM staging").fetchone()[0]


def drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what a fast path left behind (after it gave up, or once the import is merged)."""
    con.execute("DROP TABLE IF EXISTS rp_document; DROP TABLE IF EXISTS rp_csv; DROP TABLE IF EXISTS rp_offsets; DROP TABLE IF EXISTS rp_elements; DROP TABLE IF EXISTS rp_shapes;"
                " DROP TABLE IF EXISTS rp_records; DROP TABLE IF EXISTS rp_locations;"
                " DROP TABLE IF EXISTS rp_irregular")


# -- CSV ---------------------------------------------------------------------------------------------

# Characters Python's str.strip() removes (str.isspace()), for values the parser strips.
_WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
# The local date forms `datetime.fromisoformat` reads exactly as DuckDB's cast to TIMESTAMP does.
_LOCAL_TIME = r"^\d{4}-[01]\d-[0-3]\d([ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?)?$"


def _diverges(data: bytes) -> bool:
    """Whether `data` holds a quote placement DuckDB's CSV reader and Python's csv module read
    differently: a quote after blanks at the start of a field (DuckDB drops the blanks, Python keeps the
    field as written) or blanks after a closing quote (Python refuses the row). Inside a quoted text
    the same bytes are harmless, but telling them apart needs a parser; the Python one reads those files.
    """
    for pair in (b' "', b'\t"'):
        i = data.find(pair)
        while i >= 0:
            j = i
            while j > 0 and data[j - 1] in b" \t":
                j -= 1
            if j == 0 or data[j - 1] in b",\r\n":
                return True
            i = data.find(pair, i + 1)
    for pair in (b'" ', b'"\t'):
        i = data.find(pair)
        while i >= 0:
            j = i + 1
            while j < len(data) and data[j] in b" \t":
                j += 1
            if j == len(data) or data[j] in b",\r\n":
                return True
            i = data.find(pair, i + 1)
    return False


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
        while chunk := fp.read(_CHUNK_BYTES):
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
    if source.encoding is not None or source.columns is None:
        raise Unavailable("a declared encoding or no column mapping")
    sample = _read_head(path, csvfile.SNIFF_BYTES)
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

    raw = ", ".join(f"{_sql_string(name)}, coalesce({col[name]}, '')" for name in header)
    return f"""
CREATE OR REPLACE TEMP TABLE staging AS
WITH numbered AS (
    SELECT *, 2 + coalesce(sum(1 + breaks) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS line
    FROM (SELECT *, length(whole) AS width, length(whole) - length(replace(whole, chr(10), '')) AS breaks
          FROM (SELECT rowid AS k, *, concat_ws(',', {", ".join(all_cols)}) AS whole FROM rp_csv))
), fields AS (
    SELECT k, line, breaks, width, {", ".join(all_cols)},
        {mapped("text")} AS text_in, {mapped("rating")} AS rating_in, {mapped("date")} AS date_in,
        {mapped("reply_date")} AS reply_date_in, {mapped("reply")} AS reply_in, {mapped("author")} AS author_in,
        {mapped("question")} AS question_in, {mapped("id")} AS id_in, {mapped("location")} AS location_in
    FROM numbered
), local AS (
    SELECT *, {_local_time("date_in")} AS date_local, {_local_time("reply_date_in")} AS reply_local FROM fields
), parsed AS (
    -- Naive times in the practice's zone: UTC by Python's own offset of that day (rp_offsets holds
    -- only the days without a daylight-saving change near them; the others go to the Python parser).
    SELECT l.*, timezone('UTC', date_local - to_minutes(o1.minutes)) AS created,
           timezone('UTC', reply_local - to_minutes(o2.minutes)) AS replied
    FROM local l LEFT JOIN rp_offsets o1 ON o1.day = CAST(date_local AS DATE)
                 LEFT JOIN rp_offsets o2 ON o2.day = CAST(reply_local AS DATE)
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
    lines, safe = scan_csv_lines(path)
    if not safe:
        raise Unavailable("quotes or line breaks the two CSV readers may read differently")
    types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    try:
        con.execute(_MACROS)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE rp_csv AS SELECT * FROM read_csv(?, columns = {{{types}}}, header = true,"
            " delim = ',', quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, null_padding = false,"
            " max_line_size = 16777216)", [str(path)],
        )
        _register(con, "rp_offsets", zone_offsets(tz))
        _resolve_refs(con, resolve_location, _csv_location_sql(header, source.columns))
        con.execute(_csv_staging_sql(header, source.columns), {"platform": target.platform, "seen": seen_at})
        rows, breaks = con.execute("SELECT count(*), coalesce(sum(rp_breaks), 0) FROM staging").fetchone()
        if 1 + rows + breaks != lines:
            raise Unavailable("blank lines or line breaks DuckDB counts differently")
        columns = [f"c.c{i}" for i in range(len(header))]

        def reviews() -> Iterator[tuple]:
            for record in _irregular(con, f"s.seq, {', '.join(columns)}", "NOT s.rp_regular AND s.rp_keep", "s.seq",
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
        return _drop_irregular(con, "NOT rp_regular OR NOT rp_keep", ["rp_keep", "rp_breaks", "rp_row"])
    except Unavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the reference path says it precisely
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        drop_temp_tables(con)
