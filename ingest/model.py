"""The one record every parser yields: a `Review` as found in an export, before it is stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Review:
    """A review (or survey comment) as parsed from one export.

    `location_ref` is whatever the export says about the location (a Google location id, a name in a
    CSV column); the collector resolves it against the configured locations. Times are timezone-aware
    UTC datetimes. `raw` is the parsed record, JSON-serialisable, kept so re-parsing needs no re-fetch.
    """

    source_review_id: str | None
    text: str | None
    rating: int | None = None
    author: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    reply_text: str | None = None
    reply_at: datetime | None = None
    question: str | None = None
    location_ref: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def derive_review_id(location_id: str, review: Review) -> str:
    """A stable id for exports without one: the same review in a later export gets the same id."""
    day = review.created_at.date().isoformat() if review.created_at else ""
    text = " ".join((review.text or "").split()).casefold()
    author = " ".join((review.author or "").split()).casefold()
    key = "\x1f".join([location_id, author, day, review.question or "", text])
    return "h" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def hash_content(review: Review) -> str:
    """Hash of what a reader sees; a change makes a new row in review_versions."""
    parts = [review.author or "", str(review.rating or ""), review.text or "", review.reply_text or ""]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
