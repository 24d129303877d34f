"""Which parser reads which source type, and how an unlabelled file is recognised.

Every parser has the shape `parse(fp, file=..., source=..., tz=...) -> Iterator[Review]` and reads the
same bytes whether the export came from a file, the inbox or a URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import tzinfo
from typing import IO

from config import Source
from ingest import csvfile, gbp
from ingest.model import Review

Parser = Callable[..., Iterator[Review]]


def _parse_google(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    return gbp.iter_reviews(fp, file=file)


def column_map(source: Source) -> csvfile.ColumnMap:
    assert source.columns is not None
    return csvfile.ColumnMap(**source.columns.model_dump())


def _parse_csv(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    return csvfile.iter_reviews(
        fp, file=file, columns=column_map(source), tz=tz, dayfirst=source.dayfirst, encoding=source.encoding
    )


PARSERS: dict[str, Parser] = {
    "google": _parse_google,
    "gbp_api": _parse_google,
    "csv": _parse_csv,
}

# File name endings each source type reads when it is given a folder.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "google": (".json", ".zip"),
    "gbp_api": (".json",),
    "csv": (".csv", ".txt"),
}


def parse(fp: IO[bytes], *, file: str, source: Source, tz: tzinfo) -> Iterator[Review]:
    """Reviews of one export of `source`'s type."""
    return PARSERS[source.type](fp, file=file, source=source, tz=tz)


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
    if lower.endswith((".csv", ".txt")) or b"," in head:
        header = head.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("\ufeff")
        for source in sources:
            if source.columns is not None and all(
                c is None or c in header for c in source.columns.model_dump().values()
            ):
                return source
    return None
