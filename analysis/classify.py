"""Classifying texts outside the database: `reviewpulse classify FILE` and the quality benchmark.

Input: a CSV file with a header row (columns `id`, `text`, optional `rating`; any other columns are
ignored) or a JSON-lines file (one object per line with the same keys). The format is chosen by the
extension (.jsonl/.ndjson/.json are JSON lines) or, failing that, by whether the file starts with
`{`. Output: one JSON object per input record, in input order:

    {"id": ..., "vader_compound": ..., "score": ..., "label": ..., "is_mixed": ..., "is_safety": ...,
     "is_non_informative": ..., "mentions": [{"theme", "polarity", "sentence", "span": [start, end],
     "evidence", "score", "rule"}], "staff": [...]}

`sentence` is the 0-based sentence index, `span` the evidence's character offsets into `text`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from analysis.analyzer import Analyzer, ReviewResult
from analysis.taxonomy import Taxonomy, load_taxonomy
from config import Settings
from errors import ParseError

_JSON_ENDINGS = (".jsonl", ".ndjson", ".json")


def _parse_rating(value: Any, file: str, where: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParseError(f"rating {value!r} is not a number from 1 to 5", file=file, where=where) from None
    if not number.is_integer() or not 1 <= number <= 5:
        raise ParseError(f"rating {value!r} is not a whole number from 1 to 5", file=file, where=where)
    return int(number)


def _iter_csv(fp: IO[str], file: str) -> Iterator[tuple[str, str | None, int | None]]:
    reader = csv.DictReader(fp)
    fields = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    if "text" not in fields:
        raise ParseError(f"no `text` column (columns: {', '.join(reader.fieldnames or []) or 'none'})", file=file, where="line 1")
    for number, row in enumerate(reader, start=1):
        where = f"line {reader.line_num}"
        if None in row:
            raise ParseError("more fields than the header has", file=file, where=where)
        text = row[fields["text"]]
        ident = row[fields["id"]].strip() if "id" in fields and row[fields["id"]] else str(number)
        rating = _parse_rating(row[fields["rating"]], file, where) if "rating" in fields else None
        yield ident, text if text is not None and text.strip() else None, rating


def _iter_jsonl(fp: IO[str], file: str) -> Iterator[tuple[str, str | None, int | None]]:
    for number, line in enumerate(fp, start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg}", file=file, where=where) from None
        if not isinstance(record, dict):
            raise ParseError("each line must be a JSON object with `id` and `text`", file=file, where=where)
        if "text" not in record:
            raise ParseError("no `text` key", file=file, where=where)
        text = record["text"]
        if text is not None and not isinstance(text, str):
            raise ParseError(f"`text` must be a string, got {type(text).__name__}", file=file, where=where)
        ident = record.get("id")
        yield (str(ident) if ident is not None else str(number)), (text if text and text.strip() else None), _parse_rating(
            record.get("rating"), file, where
        )


def iter_texts(path: Path) -> Iterator[tuple[str, str | None, int | None]]:
    """Yield (id, text, rating) from a CSV or JSON-lines file; raises ParseError naming file and line."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text (byte {exc.start})", file=path.name) from None
    is_json = path.suffix.lower() in _JSON_ENDINGS or (path.suffix.lower() != ".csv" and content.lstrip().startswith("{"))
    fp = io.StringIO(content, newline="" if not is_json else None)
    yield from (_iter_jsonl(fp, path.name) if is_json else _iter_csv(fp, path.name))


def build_analyzer(settings_or_taxonomy: Settings | Taxonomy | Analyzer | None) -> Analyzer:
    """An Analyzer from Settings (its themes file and staff), a Taxonomy, or the built-in taxonomy."""
    if isinstance(settings_or_taxonomy, Analyzer):
        return settings_or_taxonomy
    if isinstance(settings_or_taxonomy, Taxonomy):
        return Analyzer(settings_or_taxonomy)
    if isinstance(settings_or_taxonomy, Settings):
        return Analyzer(load_taxonomy(settings_or_taxonomy.themes_file), settings_or_taxonomy.staff)
    return Analyzer(load_taxonomy())


def describe_result(ident: str, text: str | None, result: ReviewResult) -> dict[str, Any]:
    """The JSON object written for one text."""
    source = text or ""
    return {
        "id": ident,
        "vader_compound": result.vader_compound,
        "score": result.score,
        "label": result.label,
        "is_mixed": result.is_mixed,
        "is_safety": result.is_safety,
        "is_non_informative": result.is_non_informative,
        "mentions": [
            {"theme": m.theme, "polarity": m.polarity, "sentence": m.sentence_index, "span": [m.start, m.end],
             "evidence": source[m.start:m.end], "score": m.score, "rule": m.rule}
            for m in result.mentions
        ],
        "staff": [
            {"name": s.staff_name, "role": s.role, "matched_text": s.matched_text, "sentence": s.sentence_index,
             "span": [s.start, s.end], "polarity": s.polarity}
            for s in result.staff
        ],
    }


def classify_texts(
    records: Iterable[tuple[str, str | None, int | None]], settings_or_taxonomy: Settings | Taxonomy | Analyzer | None = None
) -> Iterator[dict[str, Any]]:
    """Analyse (id, text, rating) records; yield one result object per record, in order."""
    analyzer = build_analyzer(settings_or_taxonomy)
    for ident, text, rating in records:
        yield describe_result(ident, text, analyzer.analyze(text, rating))


def classify_file(path: Path, out_fp: IO[str], settings_or_taxonomy: Settings | Taxonomy | Analyzer | None = None) -> int:
    """Classify every record of `path`, writing JSON lines to `out_fp`; return how many were written.

    The whole file is read and checked before the first line is written, so a bad record produces
    no partial output.
    """
    records = list(iter_texts(Path(path)))
    count = 0
    for result in classify_texts(records, settings_or_taxonomy):
        out_fp.write(json.dumps(result, ensure_ascii=False) + "\n")
        count += 1
    return count
