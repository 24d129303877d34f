"""Staff mentions: the roster's names and nicknames, titled names, and what is said about them."""

from __future__ import annotations

import pytest

from analysis.analyzer import Analyzer
from analysis.taxonomy import load_taxonomy
from config import StaffMember

ROSTER = [
    StaffMember(name="Anna Okafor", nicknames=["Dr. O"], role="physician"),
    StaffMember(name="Hope Lindqvist", role="nurse"),
    StaffMember(name="Maria Gomez", nicknames=["Mimi"], role="receptionist"),
]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_taxonomy(), ROSTER)


def staff(result) -> list[tuple[str, str | None, str, str]]:
    return [(s.staff_name, s.role, s.matched_text, s.polarity) for s in result.staff]


def test_roster_names_nicknames_and_titles_with_polarity(analyzer):
    text = "Dr. Okafor was wonderful and so caring. But Mimi at the desk was rude to my mother."
    assert staff(analyzer.analyze(text)) == [
        ("Anna Okafor", "physician", "Dr. Okafor", "praise"),
        ("Maria Gomez", "receptionist", "Mimi", "complaint"),
    ]


def test_title_with_an_unknown_name_stands_for_itself(analyzer):
    result = analyzer.analyze("Nurse Patel explained everything. Dr Brown never called me back.")
    assert staff(result) == [
        ("Nurse Patel", "nurse", "Nurse Patel", "praise"),
        ("Dr. Brown", "doctor", "Dr Brown", "complaint"),
    ]
    first = result.staff[0]
    assert (first.start, first.end, first.sentence_index) == (0, 11, 0)


def test_names_match_with_their_capitals_only(analyzer):
    assert analyzer.analyze("I hope they call soon.").staff == []
    assert staff(analyzer.analyze("Hope took my blood with no pain at all.")) == [
        ("Hope Lindqvist", "nurse", "Hope", "praise")
    ]


def test_full_name_is_one_mention(analyzer):
    assert [s.matched_text for s in analyzer.analyze("Anna Okafor is the best.").staff] == ["Anna Okafor"]


def test_without_roster_only_titles_are_found():
    bare = Analyzer(load_taxonomy())
    assert [s.staff_name for s in bare.analyze("Mimi was rude but Dr. Okafor was kind.").staff] == ["Dr. Okafor"]
