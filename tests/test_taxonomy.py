"""The theme taxonomy file: the contract's 16 ids, validation errors, and a practice's own themes."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.analyzer import Analyzer
from analysis.taxonomy import load_taxonomy
from errors import TaxonomyError

CONTRACT_IDS = [
    "phone_access", "callbacks", "scheduling", "wait_time", "front_desk", "provider_manner",
    "provider_communication", "billing", "insurance", "prescriptions", "test_results", "referrals_records",
    "clinical_quality", "digital_access", "facility", "privacy_respect",
]


def test_builtin_taxonomy_has_exactly_the_contract_theme_ids():
    assert load_taxonomy().theme_ids == CONTRACT_IDS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "practice-themes.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[themes.parking_lot]\nkeywords = ["parking"]\n', "theme 'parking_lot': name: required"),
        ('[themes.billing]\nname = "B"\nkeywords = ["x"]\npatern = ["y"]\n', "theme 'billing': unknown field 'patern'"),
        ('[themes.billing]\nname = "B"\npatterns = ["(unclosed"]\n', "theme 'billing': patterns[0]: invalid regular expression '(unclosed'"),
        ('[themes.billing]\nname = "B"\nkeywords = "bill"\n', "theme 'billing': keywords: must be a list of strings"),
        ('[themes.Billing]\nname = "B"\nkeywords = ["bill"]\n', "theme 'Billing': theme ids are lower_snake_case"),
        ('[themes.empty]\nname = "Nothing"\n', "theme 'empty': needs at least one of keywords, patterns, complaint or praise"),
        ('[themes.billing]\nname = "B"\ncomplaint = ["{money_words} owed"]\n', "theme 'billing': complaint[0]: unknown word list {money_words}"),
        ('[themes.valet]\nextend = true\nkeywords = ["valet"]\n', "theme 'valet': extend = true but there is no such theme"),
        ('[cues]\nsarcasm = ["yeah right"]\n', "cues: unknown field 'sarcasm'"),
        ('[colours]\nred = 1\n', "unknown table 'colours'"),
        ('[themes.billing\nname = "B"\n', "invalid TOML"),
    ],
)
def test_invalid_practice_file_gives_one_clear_error_naming_file_theme_and_field(tmp_path, toml, message):
    path = write(tmp_path, toml)
    with pytest.raises(TaxonomyError) as excinfo:
        load_taxonomy(path)
    assert str(excinfo.value).startswith(str(path) + ": ")
    assert message in str(excinfo.value)


def test_missing_practice_file_is_reported(tmp_path):
    with pytest.raises(TaxonomyError, match="themes file not found"):
        load_taxonomy(tmp_path / "nope.toml")


def test_builtin_errors_name_the_builtin_file():
    with pytest.raises(TaxonomyError, match=r"^themes.toml: theme 'x': name: required"):
        load_taxonomy(builtin_text='[themes.x]\nkeywords = ["a"]\n')


def test_practice_file_adds_a_theme_and_overrides_another(tmp_path):
    path = write(tmp_path, """
[words]
valet_words = ["valet", "valets"]

[themes.valet_parking]
name = "Valet parking"
keywords = ["valet stand"]
complaint = ['{valet_words}\\s+(?:\\w+\\s+)?(?:scratched|dented|lost)']

[themes.billing]
name = "Charges (our own rules)"
keywords = ["statement"]
""")
    taxonomy = load_taxonomy(path)
    assert taxonomy.theme_ids == CONTRACT_IDS + ["valet_parking"]
    analyzer = Analyzer(taxonomy)
    valet = analyzer.analyze("The valet scratched my car.")
    assert [(m.theme, m.polarity) for m in valet.mentions] == [("valet_parking", "complaint")]
    # The override replaced billing's cues: "overcharged" is no longer one of its words.
    assert "billing" not in {m.theme for m in analyzer.analyze("I was overcharged.").mentions}
    assert "billing" in {m.theme for m in analyzer.analyze("My statement was confusing.").mentions}


def test_practice_file_can_extend_a_builtin_theme(tmp_path):
    path = write(tmp_path, '[themes.phone_access]\nextend = true\nkeywords = ["nurse line"]\n')
    analyzer = Analyzer(load_taxonomy(path))
    result = analyzer.analyze("The nurse line is useless.")
    assert "phone_access" in {m.theme for m in result.mentions}
    assert "phone_access" not in {m.theme for m in Analyzer(load_taxonomy()).analyze("The nurse line is useless.").mentions}


def test_taxonomy_digest_changes_with_its_content(tmp_path):
    base = load_taxonomy()
    assert load_taxonomy().digest == base.digest
    extended = load_taxonomy(write(tmp_path, '[themes.facility]\nextend = true\nkeywords = ["lobby"]\n'))
    assert extended.digest != base.digest
