"""Where each page of the static site lives, and the anchors that link to a review.

Every page except the index sits one folder deep, so templates link with a `root` of "../". Nothing
from a review's text ever becomes part of a path or anchor: a review's anchor is a hash of its id.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import PurePosixPath

_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _slug(value: str) -> str:
    """A file-name-safe form of a configured id; anything unusual gets a hash instead."""
    if _SAFE_ID.match(value):
        return value
    return "x" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=65536)  # pure; called for every link and review of every page
def week_page(iso_week: str, location_id: str | None) -> PurePosixPath:
    """The week's page for the whole practice (`None`) or one location, relative to the site root."""
    name = "index.html" if location_id is None else f"location-{_slug(location_id)}.html"
    return PurePosixPath(iso_week) / name


@lru_cache(maxsize=65536)  # pure; called for every link and review of every page
def theme_page(theme: str, quarter: str | None = None) -> PurePosixPath:
    """A theme's page (trend, flags, its quarters) or, with `quarter` ("2026-Q1"), the page listing
    the reviews of that quarter that mention it. The dot cannot occur in a slug, so names never clash."""
    name = _slug(theme) if quarter is None else f"{_slug(theme)}.{quarter}"
    return PurePosixPath("themes") / f"{name}.html"


@lru_cache(maxsize=65536)  # pure; called for every link and review of every page
def review_anchor(review_id: str) -> str:
    """The HTML id of a review on a page: derived from the review id only, never from its text."""
    return "r-" + hashlib.sha256(review_id.encode("utf-8")).hexdigest()[:12]
