"""Normalising review text and timestamps as every parser needs them."""

from __future__ import annotations

import codecs
import html
import math
import re
import unicodedata
from datetime import datetime, timezone, tzinfo

from dateutil import parser as dateparser

_TRANSLATED = "(Translated by Google)"
_ORIGINAL = "(Original)"
# Widgets clamp long texts and append a link; neither belongs to what the patient wrote.
# A bare "more" counts only after an ellipsis: "...they could do more" is what a patient wrote.
_CLAMP_TAIL = re.compile(
    r"(?:(?:\s*(?:\.\.\.|…))?\s*(?:read more|show more|see more|weiterlesen|lire la suite|leer más)"
    r"|\s*(?:\.\.\.|…)\s*(?:more|mehr))\s*$",
    re.IGNORECASE,
)
_ELLIPSIS_TAIL = re.compile(r"\s*(?:\.\.\.|…)\s*$")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Controls other than tab/newline, and bidi overrides that could reorder displayed text.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# Invisible characters that only break matching: zero-width space, word joiner, soft hyphen, stray
# BOMs. The zero-width joiner and variation selectors stay: emoji sequences are built from them.
_INVISIBLE = re.compile(r"[\u200b\u2060\u00ad\ufeff]")
# An entity left over after one round of decoding: the text was escaped twice (common in widgets).
_ENTITY_LEFT = re.compile(r"&(?:#\d{2,7}|#x[0-9a-fA-F]{2,6}|amp|quot|apos|lt|gt|nbsp);")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")


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
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    text = html.unescape(value) if "&" in value else value
    if "&" in text and _ENTITY_LEFT.search(text):
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", _CONTROLS.sub("", text))
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
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a date, got {type(value).__name__} {value!r:.40}")
    if isinstance(value, (int, float)) or re.fullmatch(r"\d{9,13}(\.\d+)?", value.strip()):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        try:
            parsed = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):  # out of the platform's range, or NaN
            raise ValueError(f"implausible date {value!r}") from None
    else:
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
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"rating {value!r:.40} is not a number of stars")
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"rating {value!r} is not a whole number from 1 to 5")
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


_INSIDE_WORDS = "\u2019\u2018\u2013\u2014\u00b7"  # apostrophes, dashes and middle dots join words


def _known_codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def detect_charset(data: bytes, declared: str | None = None) -> str:
    """The encoding of a text document (HTML, CSV, JSON) given as bytes.

    In order: a byte-order mark, the `declared` charset (an HTTP Content-Type or the settings), an
    HTML `<meta charset>` or XML declaration in the first 4 KiB, valid UTF-8, then charset-normalizer's
    best guess, and cp1252 when it has none (the Windows default most exports without a label use).
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for name in (declared, *(m.group(1) for m in (_META_CHARSET.search(data[:4096]), _XML_ENCODING.search(data[:200])) if m)):
        codec = _known_codec(name)
        if codec is not None:
            # A page labelled Latin-1 is cp1252 in practice (the WHATWG rule browsers follow).
            return "cp1252" if codec in ("latin_1", "iso8859-1", "ascii") else codec
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Statistical detectors misjudge short Latin texts (French as cp775, German as big5); cp1252 is
    # what spreadsheets and Windows tools write, so it wins whenever it reads as plausible text.
    if _reads_as_cp1252(data[:256 * 1024]):
        return "cp1252"
    from charset_normalizer import from_bytes  # imported late: only undeclared non-UTF-8 files need it

    sample = data[:256 * 1024]
    candidates = [match.encoding for match in from_bytes(sample)]
    for encoding in candidates:  # the detector's ranking, skipping readings that break words apart
        try:
            if _has_whole_words(sample.decode(encoding)):
                return encoding
        except UnicodeDecodeError:
            continue
    return candidates[0] if candidates else "cp1252"


def _has_whole_words(text: str) -> bool:
    """No symbol inside a word: Polish "czekałam" read in the wrong code page gives "czeka³am"."""
    return not any(
        a.isalpha() and c.isalpha() and ord(b) > 127 and not b.isalpha() and b not in _INSIDE_WORDS
        for a, b, c in zip(text, text[1:], text[2:])
    )


def _reads_as_cp1252(data: bytes) -> bool:
    """Plausible Western text in cp1252: few non-ASCII letters (Cyrillic or Greek bytes would all read
    as accented letters) and whole words."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    letters = [c for c in text if c.isalpha()]
    if letters and sum(1 for c in letters if ord(c) > 127) / len(letters) > 0.3:
        return False
    return _has_whole_words(text)


def decode_document(data: bytes, declared: str | None = None) -> str:
    """Bytes of a document as text in its detected encoding; undecodable bytes become U+FFFD."""
    encoding = detect_charset(data, declared)
    return data.decode(encoding, errors="replace").lstrip("\ufeff")
