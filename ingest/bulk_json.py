"""The fast path for Google reviews JSON files (Takeout or API pages): DuckDB's `read_text` and JSON
functions read the records, SQL normalises the regular ones, `gbp.parse_review` the others."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from ingest import gbp
from ingest.model import Review
from ingest.staging import (CHUNK_BYTES, MACROS, Unavailable, declining_on_error, drop_irregular, iter_irregular, read_head,
                            resolve_refs)
from ingest.store import ImportTarget, append_rows, build_row

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


def _keys_known(keys: str, prefix: str) -> str:
    """SQL: the key list `keys` of the object at `prefix` holds only known keys, none twice.

    Each known key that is present has a type in `types` (a JSON null is 'NULL', an absent key SQL
    NULL), so the object has exactly as many keys as known keys present only when it has no other key
    and none twice. Scalar arithmetic: no list functions per record."""
    present = [f"CAST(types[{i}] IS NOT NULL AS INTEGER)" for i, name in enumerate(_GOOGLE_SHAPE, 1)
               if name.rpartition(".")[0] == prefix]
    return f"len({keys}) = {' + '.join(present)}"


def _google_shape_ok() -> str:
    """SQL: the record is an object of known keys with the expected JSON types (NULL or absent allowed)."""
    checks = [
        _keys_known("keys[1]", ""),
        _keys_known("keys[2]", "reviewer"),
        _keys_known("keys[3]", "reviewReply"),
        *(f"(types[{i}] IS NULL OR types[{i}] IN ('{kind}', 'NULL'))" for i, kind in enumerate(_GOOGLE_SHAPE.values(), 1)),
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
        while chunk := fp.read(CHUNK_BYTES):
            data = carry + chunk
            trailing = trailing or _TRAILING_COMMA.search(data) is not None
            reviews += data.count(b'"reviews"') - carry.count(b'"reviews"')
            comma = data.rfind(b",")
            tail = data[comma:] if comma >= 0 and not data[comma + 1:].strip(b" \t\r\n") else b""
            carry = tail if len(tail) >= 9 else data[-8:]  # also the start of a "reviews" cut by the chunk
    return trailing, reviews


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
    head = read_head(path).lstrip(b" \t\r\n")
    if not head.startswith(b"{"):
        raise Unavailable("not a JSON object")  # a list, a zip, a BOM, UTF-16, not JSON at all
    trailing, reviews_keys = scan_json(path)
    if trailing or reviews_keys != 1:
        raise Unavailable("a comma before a closing bracket, or not one \"reviews\" key")
    hint = gbp.location_from_path(file)
    with declining_on_error(con):
        con.execute(MACROS)
        con.execute(
            # A non-empty list of records comes only from an array: the whole file is parsed a second
            # time (for the type of "reviews") only when the list is empty.
            "CREATE OR REPLACE TEMP TABLE rp_document AS SELECT CASE WHEN len(records) > 0 THEN 'ARRAY'"
            " ELSE json_type(content, '$.reviews') END AS kind, records"
            " FROM (SELECT content, json_extract(content, '$.reviews[*]') AS records FROM read_text(?))", [str(path)],
        )
        if con.execute("SELECT kind FROM rp_document").fetchone()[0] != "ARRAY":
            raise Unavailable("no 'reviews' list")
        con.execute(_GOOGLE_ELEMENTS)
        con.execute("DROP TABLE rp_document")
        resolve_refs(con, resolve_location, f"SELECT DISTINCT {_GOOGLE_LOCATION} FROM rp_elements", {"hint": hint})
        con.execute(_GOOGLE_STAGING, {"hint": hint, "platform": target.platform})
        con.execute("DROP TABLE rp_elements")
        append_rows(
            con,
            (build_row(seq, gbp.parse_review(json.loads(record), where=f"reviews[{seq}]", location_hint=hint),
                       target, resolve_location, seen_at)
             for seq, record in iter_irregular(con, "seq, CAST(raw AS VARCHAR)", "NOT rp_regular", "seq")),
            create=False,
        )
        return drop_irregular(con)
