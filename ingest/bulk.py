"""Staging an export with DuckDB's own readers: the fast path of an import.

DuckDB parses a Google reviews file (`read_json`) or a CSV export (`read_csv`) in C++ and normalises
every *regular* record with SQL expressions into the temp table `staging` that `ingest.store` merges.
A record is regular when the Python parser would take its fields as they are: text already clean
(no entities, control, bidi or invisible characters, no runs of spaces, NFC), the usual date forms,
a plain star rating. Every other record is re-parsed by the Python parser of its format (the
reference), so the staged rows are the same whichever path a record takes.

The fast path never reports an error itself: whenever the file is not one it can read exactly as the
reference would (an unexpected shape, anything DuckDB refuses, a record Python rejects), it raises
`Unavailable` and the caller runs the reference path, whose error names the file and the record.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path

import duckdb
import pyarrow as pa

from config import Source
from ingest import gbp
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
        _keys_within("keys", top),
        _keys_within("inner_keys[1]", [k.split(".")[1] for k in _GOOGLE_SHAPE if k.startswith("reviewer.")]),
        _keys_within("inner_keys[2]", [k.split(".")[1] for k in _GOOGLE_SHAPE if k.startswith("reviewReply.")]),
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
       json_keys(r) AS keys, list_transform(json_keys(r, ['$.reviewer', '$.reviewReply']), lambda k: coalesce(k, [])) AS inner_keys
FROM (SELECT unnest(range(len(records))) AS seq, unnest(records) AS r FROM rp_document)
"""

_GOOGLE_RECORDS = f"""
CREATE OR REPLACE TEMP TABLE rp_records AS
WITH fields AS (
    SELECT seq, r, {_google_shape_ok()} AS shape_ok,
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
)
SELECT seq, r, source_review_id,
    coalesce(nullif(regexp_extract(name, 'locations/([^/]+)', 1), ''), $hint) AS location_ref,
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
"""


_TRAILING_COMMA = re.compile(rb",[ \t\r\n]*[\]}]")
_CHUNK_BYTES = 8 * 1024 * 1024


def _read_head(path: Path, size: int = 64) -> bytes:
    with path.open("rb") as fp:
        return fp.read(size)


def has_trailing_comma(path: Path) -> bool:
    """Whether a comma is followed by `]` or `}` anywhere in the file (a review text may hold one too).

    DuckDB's JSON reader accepts trailing commas that Python's json module (the reference) rejects.
    Reads the file in chunks: memory stays flat whatever its size.
    """
    carry = b""
    with path.open("rb") as fp:
        while chunk := fp.read(_CHUNK_BYTES):
            data = carry + chunk
            if _TRAILING_COMMA.search(data):
                return True
            comma = data.rfind(b",")
            carry = data[comma:] if comma >= 0 and not data[comma + 1:].strip(b" \t\r\n") else b""
    return False


def _resolve_refs(con: duckdb.DuckDBPyConnection, resolve_location: Callable[[Review], str]) -> None:
    """The temp table `rp_locations`: each location reference of a regular record -> its location id."""
    refs = [ref for (ref,) in con.execute("SELECT DISTINCT location_ref FROM rp_records WHERE regular").fetchall()]
    _register(con, "rp_locations", {
        "ref": pa.array(refs, pa.string()),
        "location_id": pa.array([resolve_location(Review(None, None, location_ref=ref)) for ref in refs], pa.string()),
    })


def _register(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, pa.Array]) -> None:
    """Create the temp table `name` from Arrow columns."""
    table = pa.table(columns)
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
    if has_trailing_comma(path):
        raise Unavailable("a comma before a closing bracket")
    hint = gbp.location_from_path(file)
    try:
        con.execute(_MACROS)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rp_document AS SELECT json_keys(content) AS keys,"
            " CAST(json_extract(content, '$.reviews') AS JSON[]) AS records FROM read_text(?)", [str(path)],
        )
        keys, listed = con.execute("SELECT keys, records IS NOT NULL FROM rp_document").fetchone()
        if keys.count("reviews") != 1 or not listed:
            raise Unavailable("not one document with a 'reviews' list")
        con.execute(_GOOGLE_ELEMENTS)
        con.execute("DROP TABLE rp_document")
        con.execute(_GOOGLE_RECORDS, {"hint": hint})
        con.execute("DROP TABLE rp_elements")
        _resolve_refs(con, resolve_location)
        con.execute(
            """CREATE OR REPLACE TEMP TABLE staging AS
            SELECT CAST(seq AS BIGINT) AS seq, $platform || ':' || source_review_id AS review_id, $platform AS source,
                   source_review_id, l.location_id, author, CAST(rating AS TINYINT) AS rating, text,
                   CAST(NULL AS VARCHAR) AS question, created AS created_at, updated AS updated_at, reply_text, reply_at,
                   rp_content_hash(author, rating, text, reply_text) AS content_hash, CAST(r AS VARCHAR) AS raw
            FROM rp_records JOIN rp_locations l ON location_ref IS NOT DISTINCT FROM l.ref
            WHERE regular""",
            {"platform": target.platform},
        )
        return con.execute("SELECT count(*) FROM staging").fetchone()[0] + append_rows(
            con,
            (build_row(seq, gbp.parse_review(json.loads(record), where=f"reviews[{seq}]", location_hint=hint),
                       target, resolve_location, seen_at) for seq, record in _irregular(con)),
            create=False,
        )
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
    return None


def _irregular(con: duckdb.DuckDBPyConnection, batch: int = 1000) -> Iterator[tuple[int, str]]:
    """(seq, record) of the records the SQL did not normalise, in file order, a batch at a time."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rp_irregular AS SELECT row_number() OVER (ORDER BY seq) AS k, seq,"
        " CAST(r AS VARCHAR) AS r FROM rp_records WHERE NOT regular ORDER BY seq"
    )
    start = 1
    while rows := con.execute("SELECT seq, r FROM rp_irregular WHERE k >= ? AND k < ? ORDER BY k", [start, start + batch]).fetchall():
        yield from rows
        start += batch


def drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what a fast path left behind (after it gave up, or once the import is merged)."""
    con.execute("DROP TABLE IF EXISTS rp_document; DROP TABLE IF EXISTS rp_elements; DROP TABLE IF EXISTS rp_shapes;"
                " DROP TABLE IF EXISTS rp_records; DROP TABLE IF EXISTS rp_locations;"
                " DROP TABLE IF EXISTS rp_irregular")
