"""Staging a delivery with DuckDB: what the fast paths of `ingest.bulk_json` and `ingest.bulk_csv` share.

Temp macros that decide whether a text is already clean and compute the content hash in SQL, the
location lookup, and the swap of the records SQL could not normalise for the Python parser's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.model import Review
from ingest.store import FastPathUnavailable

Unavailable = FastPathUnavailable

# Characters and sequences that `clean_text` would change or remove: entities, CR, controls, bidi
# overrides, invisible characters, whitespace other than a single space or a paragraph break, spaces at
# a line's ends, more than one blank line, and Google's translation wrapper. RE2 syntax.
_UNCLEAN = (
    r"[&\r\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x{85}\x{a0}\x{ad}\x{1680}\x{2000}-\x{200b}\x{2028}-\x{202f}"
    r"\x{205f}-\x{2069}\x{3000}\x{feff}]|  | \n|\n |\n\n\n|^[ \n]|[ \n]$|\(Translated by Google\)"
)


# rp_clean_ok: text whose `clean_text` is itself ('' becomes NULL in SQL as in Python);
# rp_content_hash: `model.hash_content` of the same fields.
MACROS = f"""
CREATE OR REPLACE TEMP MACRO rp_clean_ok(s) AS
    s IS NULL OR s = '' OR (NOT regexp_matches(s, '{_UNCLEAN}') AND nfc_normalize(s) = s);
CREATE OR REPLACE TEMP MACRO rp_content_hash(author, rating, txt, reply) AS
    left(sha256(concat(coalesce(author, ''), chr(31), coalesce(CAST(rating AS VARCHAR), ''), chr(31),
                       coalesce(txt, ''), chr(31), coalesce(reply, ''))), 32);
"""


CHUNK_BYTES = 8 * 1024 * 1024


def read_head(path: Path, size: int = 64) -> bytes:
    with path.open("rb") as fp:
        return fp.read(size)


def resolve_refs(con: duckdb.DuckDBPyConnection, resolve_location: Callable[[Review], str], query: str,
                  params: dict | None = None) -> None:
    """The temp table `rp_locations`: each location reference `query` lists -> its location id. A
    reference the resolver refuses makes the reference path read the file (its error names the record)."""
    refs = [ref for (ref,) in con.execute(query, params).fetchall()]
    register_table(con, "rp_locations", {
        "ref": pa.array(refs, pa.string()),
        "location_id": pa.array([resolve_location(Review(None, None, location_ref=ref)) for ref in refs], pa.string()),
    })


def register_table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, pa.Array] | pa.Table) -> None:
    """Create the temp table `name` from Arrow columns."""
    table = columns if isinstance(columns, pa.Table) else pa.table(columns)
    con.register("rp_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM rp_arrow")
    finally:
        con.unregister("rp_arrow")


def iter_irregular(con: duckdb.DuckDBPyConnection, select: str, where: str, order: str, batch: int = 1000,
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


def drop_irregular(con: duckdb.DuckDBPyConnection, where: str = "NOT rp_regular", extra: Iterable[str] = ()) -> int:
    """Remove the rows the SQL did not normalise (their Python-parsed rows, whose flags are NULL, are in
    `staging` by now) and the flag columns; return how many rows `staging` holds."""
    con.execute(f"DELETE FROM staging WHERE {where}")
    for column in ("rp_regular", *extra):
        con.execute(f"ALTER TABLE staging DROP COLUMN {column}")
    return con.execute("SELECT count(*) FROM staging").fetchone()[0]


@contextmanager
def declining_on_error(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run a fast path's staging: an unexpected error declines the fast path (Unavailable), so the
    reference parser reads the file and reports any problem precisely; temp tables are dropped always."""
    try:
        yield
    except Unavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the reference path says it precisely
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        drop_temp_tables(con)


def drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what a fast path left behind (after it gave up, or once the import is merged)."""
    con.execute("DROP TABLE IF EXISTS rp_document; DROP TABLE IF EXISTS rp_csv; DROP TABLE IF EXISTS rp_offsets; DROP TABLE IF EXISTS rp_hour_offsets; DROP TABLE IF EXISTS rp_elements; DROP TABLE IF EXISTS rp_shapes;"
                " DROP TABLE IF EXISTS rp_records; DROP TABLE IF EXISTS rp_locations;"
                " DROP TABLE IF EXISTS rp_irregular")


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
