"""Which parser reads which source type, and how an unlabelled file is recognised.

Every parser has the shape `parse(fp, file=..., source=..., tz=...) -> Iterator[Review]` and reads the
same bytes whether the export came from a file, the inbox or a URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import tzinfo
from typing import IO

from config import Source
from ingest import csvfile, gbp, presets, widgets, wordpress
from ingest.model import Review
from ingest.summaries import Summary

Parser = Callable[..., Iterator[Review]]


def _parse_google(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    return gbp.iter_reviews(fp, file=file)


def _parse_csv(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    return csvfile.iter_reviews(
        fp, file=file, columns=source.columns, tz=tz, dayfirst=source.dayfirst, encoding=source.encoding
    )


def _parse_widget(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    return widgets.iter_reviews(fp, file=file, tz=tz, charset=source.encoding)


def _parse_wordpress(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    return wordpress.iter_reviews(fp, file=file, tz=tz, owner_names=source.owner_names, charset=source.encoding)


def _parse_outscraper(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    return presets.iter_outscraper(fp, file=file, encoding=source.encoding)


def _parse_survey(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    columns = source.columns.model_dump() if source.columns is not None else None
    return presets.iter_survey(fp, file=file, tz=tz, dayfirst=source.dayfirst, encoding=source.encoding, columns=columns)


PARSERS: dict[str, Parser] = {
    "google": _parse_google,
    "gbp_api": _parse_google,
    "csv": _parse_csv,
    "widget": _parse_widget,
    "wordpress": _parse_wordpress,
    "outscraper": _parse_outscraper,
    "survey": _parse_survey,
}

# File name endings each source type reads when it is given a folder.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "google": (".json", ".zip"),
    "gbp_api": (".json",),
    "csv": (".csv", ".txt"),
    "widget": (".html", ".htm"),
    "wordpress": (".html", ".htm"),
    "outscraper": (".csv",),
    "survey": (".csv", ".txt"),
}


def parse(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    """Reviews of one export of `source`'s type."""
    return PARSERS[source.type](fp, file=file, source=source, tz=tz)


def read_summaries(fp: IO[bytes], *, file: str, source: Source) -> list[Summary]:
    """What an export says about the whole profile (widget totals, Outscraper's place columns), if anything."""
    if source.type == "widget":
        return widgets.parse_page(fp, file=file, charset=source.encoding).summaries
    if source.type == "outscraper":
        return [
            Summary("outscraper", name, total, average, rows)
            for name, total, average, rows in presets.read_outscraper_summary(fp, file=file, encoding=source.encoding)
            if total is not None or average is not None
        ]
    return []


def is_snapshot(source: Source, head: bytes) -> bool:
    """Whether a delivery is a complete snapshot (so missing reviews were removed)."""
    if source.snapshot is not None:
        return source.snapshot
    return source.type == "google" and head.startswith(b"PK")  # a whole Takeout archive


def guess_source(sources: list[Source], filename: str, head: bytes) -> Source | None:
    """The configured source an unlabelled inbox file belongs to, from its name and first bytes."""
    lower = filename.lower()
    for source in sources:
        if source.type in ("google", "gbp_api") and (lower.endswith(".zip") or head.lstrip()[:1] in (b"{", b"[")):
            return source
    if lower.endswith((".html", ".htm")) or head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return _guess_page_source(sources, head)
    if lower.endswith((".csv", ".txt")) or b"," in head:
        header = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff")
        for source in sources:
            if source.columns is not None and all(
                c is None or c in header for c in source.columns.model_dump().values()
            ):
                return source
        names = [h.strip().strip('"') for h in header.split(",")]
        for source in sources:
            if source.type == "outscraper" and "review_id" in names and "author_title" in names:
                return source
            if source.type == "survey" and source.columns is None:
                found = presets.find_survey_columns(names)
                if found["question"] and found["text"]:
                    return source
    return None


def _guess_page_source(sources: list[Source], head: bytes) -> Source | None:
    """A widget or WordPress source for a saved web page: by the markup seen first, else the only one."""
    pages = [s for s in sources if s.type in ("widget", "wordpress")]
    lower = head.lower()
    if b"ti-widget" in lower or b"wp-gr" in lower or b"schema.org" in lower:
        pages.sort(key=lambda s: s.type != "widget")
    elif b"comment-list" in lower or b'class="comment ' in lower:
        pages.sort(key=lambda s: s.type != "wordpress")
    return pages[0] if pages else None
