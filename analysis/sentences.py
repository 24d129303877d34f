"""Splitting review text into sentences and clauses, keeping character offsets into the original text.

A regex splitter, fast enough to cost less than VADER itself. Sentences end at `.`, `!`, `?` or `…`
followed by white space (not after common abbreviations such as "Dr." or "e.g."), and at line
breaks; where they end is computed by `analysis/_split.c` when it is built, step by step as
`split_sentences_python` computes it. Clauses split a sentence before contrast words ("but",
"however", "although", ...), because a review's praise and its complaint so often sit on either side
of one; a sentence-initial "although" or "while" clause ends at its first comma. Offsets are 0-based
and end-exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analysis.literals import fold

try:  # the splitter's cuts in C (analysis/_split.c); without a C compiler, the Python code below
    from analysis import _split
except ImportError:
    _split = None


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of the text: `text[start:end]`."""

    start: int
    end: int
    text: str


_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n+")
# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "dr drs mr mrs ms mx st prof rev sr jr vs etc eg ie e.g i.e approx appt dept no nos fig inc ltd co "
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun a.m p.m".split()
)


def _word_before(text: str, end: int) -> str | None:
    """The run of word characters and periods ending at `end` (what `[\\w.]+$` finds), or None.

    Scanned backwards: a regex search from the start of the text would cost a pass over all of it.
    Python's `\\w` is exactly `str.isalnum()` or "_".
    """
    if end > 0 and text[end - 1] == "\n":  # `$` also matches before a final newline
        end -= 1
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    return text[start:end] if start < end else None


# Clauses start at these words, and a sentence starting with a concession word ends its first clause at
# a comma. The expressions and `may_split`'s hints are built from these lists.
_CONTRAST_WORDS = ("but", "however", "although", "though", "except", "whereas", "yet", "unfortunately", "sadly",
                   "nevertheless", "nonetheless", "otherwise")
_CONCESSION_WORDS = ("although", "though", "while", "whilst", "even though", "despite")
_DASHES = "-\u2013\u2014"
_CONTRAST = re.compile(
    rf"(?:[,;:]\s*|\s+)(?=(?:{'|'.join(_CONTRAST_WORDS)})\b)|;\s*|\s+[{_DASHES}]+\s+",
    re.IGNORECASE,
)
_LEADING_CONCESSION = re.compile(rf"^(?:{'|'.join(_CONCESSION_WORDS)})\b[^,;]*,\s*", re.IGNORECASE)
# Every cut needs one of these in the sentence (case-folded as the expressions compare). Most sentences
# hold none, and a few substring searches cost a third of the contrast expression's pass, which tries
# its lookahead at every space. A word holding another hint ("although", "even though") adds nothing.
_HINT_WORDS = {*_CONTRAST_WORDS, *_CONCESSION_WORDS}
_CUT_HINTS = (*sorted(w for w in _HINT_WORDS if not any(o != w and o in w for o in _HINT_WORDS)), ";", *_DASHES)


def may_split(text: str) -> bool:
    """False when `split_clauses` cannot cut the sentence `text` (its pieces would be the sentence)."""
    folded = fold(text)
    return any(hint in folded for hint in _CUT_HINTS)


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    # The first character nearly always settles it; the scan is for pieces such as "-- :)".
    if start >= end or not (text[start].isalnum() or any(ch.isalnum() for ch in text[start:end])):
        return None
    return Span(start, end, text[start:end])


def split_sentences(text: str) -> list[Span]:
    """Split `text` into sentences; pieces without any letter or digit are dropped."""
    if _split is not None:
        bounds = iter(_split.sentence_bounds(text, _ABBREVIATIONS))
        return [Span(start, end, text[start:end]) for start, end in zip(bounds, bounds)]
    return split_sentences_python(text)


def split_sentences_python(text: str) -> list[Span]:
    """`split_sentences` in Python: what analysis/_split.c computes (tests/test_perf_equivalence.py)."""
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group().startswith(".") and len(match.group()) == 1:
            word = _word_before(text, match.start())
            if word is not None:
                token = word.lower().rstrip(".")
                # An abbreviation ("Dr.") or an initial ("J. Smith") keeps the sentence going.
                if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                    continue
        span = _trimmed(text, start, match.end())
        if span is not None:
            spans.append(span)
        start = match.end()
    last = _trimmed(text, start, len(text))
    if last is not None:
        spans.append(last)
    return spans


def split_clauses(text: str, sentence: Span) -> list[Span]:
    """Split one sentence at contrast words; the contrast word starts the clause it introduces."""
    if not may_split(sentence.text):
        return [_trimmed(text, sentence.start, sentence.end) or sentence]
    cuts = [sentence.start]
    lead = _LEADING_CONCESSION.match(sentence.text)
    if lead is not None and lead.end() < len(sentence.text):
        cuts.append(sentence.start + lead.end())
    for match in _CONTRAST.finditer(sentence.text):
        if match.start() > 0:
            cuts.append(sentence.start + match.end())
    cuts = sorted(set(cuts)) + [sentence.end]
    clauses = []
    for start, end in zip(cuts, cuts[1:]):
        span = _trimmed(text, start, end)
        if span is not None:
            clauses.append(span)
    return clauses or [sentence]
