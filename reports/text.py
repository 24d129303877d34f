"""Preparing untrusted review text for display: evidence highlighting, bidi controls, name masking.

These functions return plain data (strings and segments); escaping is done by Jinja2's autoescape
when the templates format them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Bidi embeddings, overrides, isolates and marks: a review could use them to make the text around
# it (author, figures) display in a misleading order, so they are removed before display.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_OTHER_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EXCERPT_CONTEXT = 220


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of review text; `marked` runs are the evidence for a figure and are shown in <mark>."""

    text: str
    marked: bool = False


def neutralise_controls(text: str) -> str:
    """Remove Unicode bidi controls and C0 control characters (except tab and newline)."""
    return _OTHER_CONTROLS.sub("", _BIDI_CONTROLS.sub("", text))


def mask_name(name: str | None) -> str | None:
    """Reduce a reviewer's name to initials ("Jane Q. Doe" -> "J. Q. D.")."""
    if not name or not name.strip():
        return name
    initials = [word[0].upper() for word in re.findall(r"\w+", name)][:3]
    return " ".join(f"{i}." for i in initials) or "…"


def merge_spans(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Clamp spans to the text, drop empty ones and merge overlapping or touching ones."""
    clean = sorted((max(0, s), min(length, e)) for s, e in spans if s is not None and e is not None)
    merged: list[tuple[int, int]] = []
    for start, end in clean:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def split_marked(text: str | None, spans: list[tuple[int, int]], *, excerpt: bool = False) -> list[Segment]:
    """Split `text` into segments with the character `spans` marked.

    Offsets index the stored text, so controls are removed per segment after splitting. With
    `excerpt`, a long text is cut to the marked region with some context on each side ("…").
    """
    if not text:
        return []
    marks = merge_spans(spans, len(text))
    lo, hi = 0, len(text)
    if excerpt and marks and len(text) > 2 * EXCERPT_CONTEXT + (marks[-1][1] - marks[0][0]):
        lo = _snap_left(text, max(0, marks[0][0] - EXCERPT_CONTEXT))
        hi = _snap_right(text, min(len(text), marks[-1][1] + EXCERPT_CONTEXT))
    segments: list[Segment] = [Segment("… ")] if lo > 0 else []
    position = lo
    for start, end in marks:
        if end <= lo or start >= hi:
            continue
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[max(start, lo):min(end, hi)], marked=True))
        position = min(end, hi)
    if position < hi:
        segments.append(Segment(text[position:hi]))
    if hi < len(text):
        segments.append(Segment(" …"))
    cleaned = [Segment(neutralise_controls(s.text), s.marked) for s in segments]
    return [s for s in cleaned if s.text]


def _snap_left(text: str, index: int) -> int:
    """Move a cut forward to the start of a word."""
    if index == 0:
        return 0
    space = text.find(" ", index)
    return space + 1 if 0 <= space < index + 40 else index


def _snap_right(text: str, index: int) -> int:
    """Move a cut back to the end of a word."""
    if index >= len(text):
        return len(text)
    space = text.rfind(" ", index - 40, index)
    return space if space > 0 else index
