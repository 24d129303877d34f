"""Normalising review text and timestamps as every parser needs them."""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime, timezone, tzinfo

from dateutil import parser as dateparser

_TRANSLATED = "(Translated by Google)"
_ORIGINAL = "(Original)"
# Widgets clamp long texts and append a link; neither belongs to what the patient wrote.
_CLAMP_TAIL = re.compile(r"(?:\s*(?:\.\.\.|…))?\s*(?:read more|more|show more|see more|mehr)\s*$", re.IGNORECASE)
_ELLIPSIS_TAIL = re.compile(r"\s*(?:\.\.\.|…)\s*$")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Controls other than tab/newline, and bidi overrides that could reorder displayed text.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def strip_google_translation(text: str) -> str:
    """Reduce Google's "(Translated by Google) ... (Original) ..." wrapper to the original text."""
    if _TRANSLATED not in text or _ORIGINAL not in text:
        return text
    t, o = text.index(_TRANSLATED), text.index(_ORIGINAL)
    if t < o:
        return text[o + len(_ORIGINAL):]
    return text[o + len(_ORIGINAL):t]


def clean_text(value: str | None, *, clamped: bool = False) -> str | None:
    """Return review text normalised for storage, or None when nothing is left.

    Decodes HTML entities, applies Unicode NFC, removes control and bidi-override characters, folds
    runs of spaces (keeping paragraph breaks) and Google's translation wrapper. With `clamped`, the
    "... read more" marker a widget adds to truncated text is removed too. Emoji are kept.
    """
    if value is None:
        return None
    text = html.unescape(value) if "&" in value else value
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    text = strip_google_translation(text)
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n\n", text)
    text = "\n".join(line.strip() for line in text.split("\n")).strip()
    if clamped:
        text = _ELLIPSIS_TAIL.sub("", _CLAMP_TAIL.sub("", text)).strip()
    return text or None


def parse_timestamp(value: str | int | float | None, *, tz: tzinfo = timezone.utc, dayfirst: bool = False) -> datetime | None:
    """Parse a date or timestamp into an aware UTC datetime; naive values are read in `tz`.

    Accepts ISO 8601 (with `Z` and fractional seconds), Unix seconds or milliseconds, and the common
    spreadsheet forms ("03/04/2024 14:05", "4 Mar 2024"). Raises ValueError with the offending value.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{9,13}(\.\d+)?", value.strip())):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = dateparser.parse(text, dayfirst=dayfirst)
        except (ValueError, OverflowError, dateparser.ParserError):
            raise ValueError(f"unrecognised date {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    if not 1990 <= parsed.year <= 2100:
        raise ValueError(f"implausible date {value!r}")
    return parsed.astimezone(timezone.utc)


def parse_rating(value: str | int | float | None) -> int | None:
    """A 1-5 star rating from "5", "4.0", "5 stars" or Google's "FIVE"; None when empty."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = value.strip()
        if not text:
            return None
        words = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
        if text.upper() in words:
            return words[text.upper()]
        if text.upper() == "STAR_RATING_UNSPECIFIED":
            return None
        match = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(?:/\s*5|stars?|★)?", text, re.IGNORECASE)
        if not match:
            raise ValueError(f"rating {value!r} is not a number of stars")
        number = float(match.group(1).replace(",", "."))
    if number != int(number) or not 1 <= number <= 5:
        raise ValueError(f"rating {value!r} is not a whole number from 1 to 5")
    return int(number)
