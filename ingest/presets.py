"""CSV presets: exports whose columns are known, so no column mapping needs configuring.

- Outscraper's Google Maps reviews export (`review_id, author_title, review_rating, review_text,
  review_timestamp` or `review_datetime_utc`, `owner_answer, owner_answer_timestamp`, ...). Its
  `reviews` and `rating` columns (the place's total and average) are read as a summary.
- A patient-survey export in long form: each row is one free-text answer to a named question. The
  question is stored with the answer, because "nothing" means opposite things under "What could we
  improve?" and "What did we do well?". Column names are recognised from common spellings (including
  the NHS Friends and Family Test's `FFT question`, `FFT answer`, `FFT categorical answer`), or set
  with the source's `[sources.columns]`.

Both read through csvfile.iter_rows (encoding detection, line numbers, quoted multi-line fields).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone, tzinfo
from typing import IO

from errors import ParseError
from ingest.csvfile import iter_rows
from ingest.model import Review
from ingest.text import clean_text, parse_rating, parse_timestamp

# --- Outscraper -----------------------------------------------------------------------------

OUTSCRAPER_REQUIRED = ("review_id", "author_title", "review_rating", "review_text")


def _outscraper_time(row: Mapping[str, str], stamp: str, text: str) -> datetime | None:
    value = (row.get(stamp) or "").strip()
    if value:
        return parse_timestamp(value.split(".")[0] if value.replace(".", "", 1).isdigit() else value)
    value = (row.get(text) or "").strip()
    # review_datetime_utc is "MM/DD/YYYY HH:MM:SS" in UTC, whatever the practice's zone.
    return parse_timestamp(value, tz=timezone.utc, dayfirst=False) if value else None


def iter_outscraper(fp: IO[bytes], *, file: str, encoding: str | None = None) -> Iterator[Review]:
    """Reviews of an Outscraper Google Maps reviews CSV."""
    checked = False
    for line, row in iter_rows(fp, file=file, encoding=encoding):
        if not checked:
            missing = [c for c in OUTSCRAPER_REQUIRED if c not in row]
            if "review_timestamp" not in row and "review_datetime_utc" not in row:
                missing.append("review_timestamp or review_datetime_utc")
            if missing:
                raise ParseError(
                    f"not an Outscraper reviews export: column(s) {missing} missing; the header has {list(row)}",
                    file=file, where="line 1",
                )
            checked = True
        review_id = row["review_id"].strip()
        if not review_id:
            raise ParseError("column 'review_id' is empty", file=file, where=f"line {line}")
        field = "review_rating"
        try:
            rating = parse_rating(row["review_rating"])
            field = "review_timestamp"
            created = _outscraper_time(row, "review_timestamp", "review_datetime_utc")
            field = "owner_answer_timestamp"
            reply_at = _outscraper_time(row, "owner_answer_timestamp", "owner_answer_timestamp_datetime_utc")
        except ValueError as exc:
            raise ParseError(f"column {field!r}: {exc}", file=file, where=f"line {line}") from None
        reply = clean_text(row.get("owner_answer"))
        yield Review(
            source_review_id=review_id,
            text=clean_text(row["review_text"]),
            rating=rating,
            author=clean_text(row["author_title"]),
            created_at=created,
            updated_at=created,
            reply_text=reply,
            reply_at=reply_at if reply else None,
            location_ref=(row.get("name") or "").strip() or None,
            raw={"line": line, **row},
        )


def read_outscraper_summary(fp: IO[bytes], *, file: str, encoding: str | None = None) -> list[tuple[str | None, int | None, float | None, int]]:
    """(place name, total reviews, average rating, rows) per place, from the export's place columns."""
    places: dict[str | None, list] = {}
    for _, row in iter_rows(fp, file=file, encoding=encoding):
        name = (row.get("name") or "").strip() or None
        entry = places.setdefault(name, [name, None, None, 0])
        entry[3] += 1
        try:
            if (row.get("reviews") or "").strip():
                entry[1] = int(float(row["reviews"]))
            if (row.get("rating") or "").strip():
                entry[2] = float(row["rating"])
        except ValueError:
            pass  # the summary is informational; a bad cell here must not fail the import
    return [tuple(v) for v in places.values()]


# --- patient surveys ------------------------------------------------------------------------

SURVEY_ALIASES: dict[str, tuple[str, ...]] = {
    "question": ("question", "fft question", "question text", "survey question", "prompt"),
    "text": ("answer", "fft answer", "response", "response text", "answer text", "comment", "comments",
             "feedback", "free text", "verbatim"),
    "id": ("comment id", "response id", "answer id", "respondent id", "submission id", "id"),
    "date": ("date", "date submitted", "submitted", "submitted at", "response date", "completed",
             "completed at", "timestamp", "created at"),
    "rating": ("rating", "score", "stars", "fft categorical answer", "fft rating"),
    "location": ("location", "site", "clinic", "practice", "trust", "organization", "organisation"),
}
# The Friends and Family Test answer scale, as stars.
FFT_SCALE = {"very good": 5, "good": 4, "neither good nor poor": 3, "poor": 2, "very poor": 1,
             "extremely likely": 5, "likely": 4, "neither likely nor unlikely": 3, "unlikely": 2, "extremely unlikely": 1}


def _normal(header: str) -> str:
    return " ".join(re.sub(r"[_\-]+", " ", header).casefold().split())


def find_survey_columns(header: list[str], configured: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """Which header holds question, text, id, date, rating and location (configured names win)."""
    found: dict[str, str | None] = {}
    normal = {_normal(h): h for h in header}
    for field_name, aliases in SURVEY_ALIASES.items():
        if configured and configured.get(field_name):
            found[field_name] = configured[field_name]
            continue
        found[field_name] = next((normal[a] for a in aliases if a in normal), None)
    return found


def _survey_rating(value: str | None) -> int | None:
    """1-5 stars from a number or the FFT scale; other scales (0-10, "Don't know") give None."""
    if value is None or not value.strip():
        return None
    if (stars := FFT_SCALE.get(" ".join(value.casefold().split()))) is not None:
        return stars
    try:
        return parse_rating(value)
    except ValueError:
        return None  # kept in raw; a survey's score scale is not a star rating


def iter_survey(
    fp: IO[bytes],
    *,
    file: str,
    tz: tzinfo = timezone.utc,
    dayfirst: bool = False,
    encoding: str | None = None,
    columns: Mapping[str, str | None] | None = None,
) -> Iterator[Review]:
    """Answers of a long-form patient-survey export, each with its question."""
    cols: dict[str, str | None] = {}
    occurrences: Counter = Counter()
    for line, row in iter_rows(fp, file=file, encoding=encoding):
        if not cols:
            cols = find_survey_columns(list(row), columns)
            missing = [f for f in ("question", "text") if cols[f] is None or cols[f] not in row]
            if missing:
                raise ParseError(
                    f"not a survey export: no {' or '.join(missing)} column (looked for "
                    f"{', '.join(repr(a) for f in missing for a in SURVEY_ALIASES[f][:4])}, ...); the header has {list(row)}",
                    file=file, where="line 1",
                )
        text = clean_text(row[cols["text"]])
        if text is None:
            continue  # an unanswered question
        question = clean_text(row[cols["question"]])
        try:
            created = parse_timestamp(row[cols["date"]], tz=tz, dayfirst=dayfirst) if cols["date"] else None
        except ValueError as exc:
            raise ParseError(f"column {cols['date']!r}: {exc}", file=file, where=f"line {line}") from None
        location = (row[cols["location"]].strip() or None) if cols["location"] else None
        respondent = row[cols["id"]].strip() if cols["id"] else ""
        # Identical answers ("Nothing") to the same question on the same day are separate patients:
        # the n-th occurrence in the file keeps its own id, so counts survive re-imports.
        key = (respondent, location, created.date().isoformat() if created else "", question or "", text.casefold())
        occurrences[key] += 1
        digest = hashlib.sha256("\x1f".join([*map(str, key), str(occurrences[key])]).encode("utf-8")).hexdigest()
        yield Review(
            source_review_id=("r" if respondent else "s") + digest[:24],
            text=text,
            rating=_survey_rating(row[cols["rating"]]) if cols["rating"] else None,
            author=None,  # survey answers are anonymous feedback
            created_at=created,
            updated_at=created,
            question=question,
            location_ref=location,
            raw={"line": line, **row},
        )
