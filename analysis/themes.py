"""Finding theme mentions in a clause with the compiled taxonomy.

A theme is mentioned in a clause when one of its `complaint` or `praise` cues matches (the cue also
decides the polarity), or when a `keywords`/`patterns` hit is not cancelled by an `exclude` context
in the same clause; such a topic hit takes its polarity from the clause's sentiment. Complaint cues
are read on the clause with "no problems"-style phrases masked, so "no problems getting through" is
not a complaint about the phones.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.taxonomy import Rules, Taxonomy


@dataclass(frozen=True, slots=True)
class ThemeHit:
    theme: str
    kind: str  # "complaint", "praise" or "topic"
    rule: str  # field[index]:matched text, for explaining the mention


def _describe(field: str, found: tuple[int, object]) -> str:
    index, match = found
    return f"{field}[{index}]:{match.group(0).strip()[:60]}"  # type: ignore[attr-defined]


def _first(rules: Rules, field: str, text: str) -> str | None:
    found = rules.find(text)
    return _describe(field, found) if found is not None else None


def find_theme_hits(text: str, masked: str, taxonomy: Taxonomy) -> list[ThemeHit]:
    """Return at most one hit per theme for the clause `text` (`masked`: the same with praise idioms masked)."""
    hits = []
    for theme in taxonomy.themes:
        rule = _first(theme.complaint, "complaint", masked)
        if rule is not None:
            hits.append(ThemeHit(theme.id, "complaint", rule))
            continue
        rule = _first(theme.praise, "praise", text)
        if rule is not None:
            hits.append(ThemeHit(theme.id, "praise", rule))
            continue
        # A pattern is the more specific evidence ("the receptionist was really helpful" rather than
        # "receptionist"), so it names the mention when both match.
        rule = _first(theme.patterns, "patterns", text) or _first(theme.keywords, "keywords", text)
        if rule is not None and not theme.exclude.any(text):
            hits.append(ThemeHit(theme.id, "topic", rule))
    return hits
