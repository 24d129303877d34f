"""CSV exports from review platforms and surveys, read through a column mapping.

Tolerates a UTF-8 BOM, Excel's cp1252 (and other encodings, detected with charset-normalizer),
quoted multi-line fields and the common date formats. Errors name the physical line and the column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from collections.abc import Iterator
from datetime import timezone, tzinfo
from typing import IO

from config import Columns
from errors import ParseError
from ingest.model import Review
from ingest.text import clean_text, detect_charset, parse_rating, parse_timestamp

SNIFF_BYTES = 256 * 1024
MAX_FIELD_BYTES = 1024 * 1024  # one review field; a larger one is an error, not a review
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


# Which header holds which field (only `text` is required): the settings' [sources.columns] table.
ColumnMap = Columns


def detect_encoding(sample: bytes, declared: str | None = None) -> str:
    """The encoding to read a CSV with: the declared one, else what `detect_charset` finds."""
    if declared:
        return declared
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and len(sample) >= SNIFF_BYTES:
            return "utf-8"  # valid up to where the sample cut a multi-byte character
    return detect_charset(sample)


def _decode_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("cp1252", errors="replace"), exc.end


# Files stitched together from several exports hold UTF-8 rows and Excel "ANSI" rows side by side:
# bytes that are not UTF-8 in such a file are read as cp1252, so neither part turns into mojibake.
codecs.register_error("reviewpulse-cp1252", _decode_as_cp1252)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def is_mixed_utf8(sample: bytes) -> bool:
    """Whether `sample` holds UTF-8 multi-byte characters next to bytes that are not UTF-8."""
    try:
        sample.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return _UTF8_MULTIBYTE.search(sample) is not None


def open_text(fp: IO[bytes], *, file: str, encoding: str | None = None) -> io.TextIOWrapper:
    """Wrap a binary CSV stream in a text stream of the detected encoding, ready for csv.reader.

    Without a declared `encoding`, a UTF-8 file (or one mixing UTF-8 and cp1252 rows) is read as
    UTF-8 with any non-UTF-8 bytes taken as cp1252; a declared encoding is applied strictly.
    """
    sample = fp.read(SNIFF_BYTES)
    if not sample.strip():
        raise ParseError("the file is empty", file=file)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ParseError("binary data, not a CSV text file", file=file)
    fp.seek(0)
    chosen = "utf-8" if encoding is None and is_mixed_utf8(sample) else detect_encoding(sample, encoding)
    errors = "reviewpulse-cp1252" if encoding is None and chosen == "utf-8" else "strict"
    return io.TextIOWrapper(fp, encoding=chosen, errors=errors, newline="")


def iter_rows(fp: IO[bytes], *, file: str, encoding: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row as {header: value}) for each record; the header row is line 1."""
    text = open_text(fp, file=file, encoding=encoding)
    reader = csv.reader(text, strict=True)
    line = 1
    try:
        header = next(reader, None)
        if not header:
            raise ParseError("no header row", file=file)
        header = [h.strip().lstrip("\ufeff") for h in header]
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise ParseError(f"{len(values)} fields where the header has {len(header)}", file=file, where=f"line {start}")
            for name, value in zip(header, values):
                if len(value) > MAX_FIELD_BYTES:
                    raise ParseError(f"column {name!r}: field of {len(value)} characters is over the 1 MiB limit", file=file, where=f"line {start}")
            yield start, dict(zip(header, values))
    except UnicodeDecodeError as exc:
        raise ParseError(f"cannot decode as {text.encoding}: {exc.reason}", file=file, where=f"near line {line}") from None
    except csv.Error as exc:
        raise ParseError(f"malformed CSV: {exc}", file=file, where=f"line {reader.line_num}") from None


def check_columns(columns: ColumnMap, header: list[str], *, file: str) -> None:
    missing = [c for c in columns.model_dump().values() if c is not None and c not in header]
    if missing:
        raise ParseError(f"column(s) {missing} not found; the header has {header}", file=file, where="line 1")


def iter_reviews(
    fp: IO[bytes],
    *,
    file: str,
    columns: ColumnMap,
    tz: tzinfo = timezone.utc,
    dayfirst: bool = False,
    encoding: str | None = None,
    clamped: bool = False,
) -> Iterator[Review]:
    """Reviews of a CSV export mapped by `columns`; naive dates are read in the practice's `tz`."""
    checked = False
    for line, row in iter_rows(fp, file=file, encoding=encoding):
        if not checked:
            check_columns(columns, list(row), file=file)
            checked = True
        review = parse_row(line, row, file=file, columns=columns, tz=tz, dayfirst=dayfirst, clamped=clamped)
        if review is not None:
            yield review


def parse_row(
    line: int,
    row: dict[str, str],
    *,
    file: str,
    columns: ColumnMap,
    tz: tzinfo = timezone.utc,
    dayfirst: bool = False,
    clamped: bool = False,
) -> Review | None:
    """The review of one CSV row (physical `line` where it starts), or None for an empty survey answer."""
    field = columns.text
    try:
        text = clean_text(row[columns.text], clamped=clamped)
        field = columns.rating
        rating = parse_rating(row[field]) if field else None
        field = columns.date
        created = parse_timestamp(row[field], tz=tz, dayfirst=dayfirst) if field else None
        field = columns.reply_date
        reply_at = parse_timestamp(row[field], tz=tz, dayfirst=dayfirst) if field else None
    except ValueError as exc:
        raise ParseError(f"column {field!r}: {exc}", file=file, where=f"line {line}") from None
    reply = clean_text(row[columns.reply]) if columns.reply else None
    if text is None and rating is None:
        return None  # an empty survey answer: nothing was said
    return Review(
        source_review_id=(row[columns.id].strip() or None) if columns.id else None,
        text=text,
        rating=rating,
        author=clean_text(row[columns.author]) if columns.author else None,
        created_at=created,
        updated_at=created,
        reply_text=reply,
        reply_at=reply_at if reply else None,
        question=clean_text(row[columns.question]) if columns.question else None,
        location_ref=(row[columns.location].strip() or None) if columns.location else None,
        raw={"line": line, **row},
    )
