"""The optimised paths give exactly the results of the reference paths.

- `FastVader.polarity_scores` equals vaderSentiment's `polarity_scores` (all four numbers) on real
  patient feedback, on the benchmark corpus and on generated word soups full of VADER's special cases,
  both with its C port for ASCII text (analysis/_vader.c) and with its Python rules alone;
- the analyzer scores and finds the same mentions with FastVader as with vaderSentiment itself;
- `analyze_pending` writes the same rows with worker processes as in one process;
- the staff matcher finds the names and titles its expressions with a look-behind find.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis import pipeline
from analysis.analyzer import Analyzer
from analysis.taxonomy import load_taxonomy
from analysis.vader_fast import FastVader
from config import load_settings
from db import connect
from ingest.collect import collect_paths

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402

REFERENCE = SentimentIntensityAnalyzer()
FAST = FastVader(REFERENCE)  # the C port for ASCII texts, the Python rules for the others
FAST_PYTHON = FastVader(REFERENCE, native=False)

# Words that trigger VADER's special rules: boosters, dampeners, negations, "but", "least", "kind of",
# idioms, "no" before a lexicon word, emoticons and emoji, all-caps and punctuation.
SPECIAL = ["very", "VERY", "kind", "of", "kinda", "sort", "not", "isn't", "never", "so", "this", "without", "doubt",
           "no", "No", "least", "at", "but", "BUT", "or", "nor", "the", "shit", "bomb", "bad", "ass", "yeah", "right",
           "cut", "mustard", "good", "GOOD", "great", "rude", "awful", "nice", "kind", "helpful", "problem", "wait",
           "friendly", ":)", ":-(", "<3", "😊", "😡", "👍", "©", "!", "!!!", "?", "??", "????", "love", "hate",
           "extremely", "barely", "hardly", "doctor", "phone", "nobody", "called", "back", "fine", "Dr.", "uh-uh",
           # the n-grams of the idioms and boosters, "least", "nor", ASCII separators str.split() knows
           "kiss", "death", "to", "die", "for", "bus", "stop", "just", "enough", "nor", "very", "NO", "Kind", "OF",
           "don't", "DON'T", "cannot", "...", "'", "(good)", "--bad--", "\x1c", "\x0b", "a", "I", "OK"]


@pytest.fixture(params=["c", "python"])
def fast(request):
    """FastVader with its C port for ASCII text, and with the Python rules alone."""
    if request.param == "python":
        return FAST_PYTHON
    assert FAST.native, "analysis/_vader.c is not built: reinstall with a C compiler (pip install -e .)"
    return FAST


def _assert_identical(fast: FastVader, texts) -> None:
    # _score, not polarity_scores: the cache would answer a text the other instance scored.
    different = [(t, ref, got) for t in texts if (ref := REFERENCE.polarity_scores(t)) != (got := fast._score(t))]
    assert different == [], f"{len(different)} texts differ, first: {different[:1]}"


def test_fast_vader_equals_vader_on_the_benchmark_corpus(fast):
    texts = [r.text for r in generate.iter_corpus(1500, seed=11) if r.text]
    assert sum(t.isascii() for t in texts) > 1000  # both paths are taken
    _assert_identical(fast, texts)


@pytest.mark.skipif(not (DATA / "nhs-feedback").is_dir(), reason="shared data not available")
def test_fast_vader_equals_vader_on_real_feedback(fast):
    texts = []
    for name, column in (("nhs-feedback/phase1_care_opinion.csv", "feedback"), ("hospital-reviews/hospital.csv", "Feedback"),
                         ("nhs-feedback/v6_labelled_neas.csv", "FFT answer")):
        with (DATA / name).open(encoding="utf-8", errors="replace", newline="") as fp:
            texts += [row[column] for row in csv.DictReader(fp) if row.get(column)]
    assert len(texts) > 6000
    _assert_identical(fast, texts)


ASCII_TEXT = st.text(st.characters(max_codepoint=127), max_size=6)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(SPECIAL) | st.text(max_size=6) | ASCII_TEXT, max_size=40),
       st.sampled_from([" ", "  ", "\n", ", ", "\t", "\x1f", " -- "]))
def test_fast_vader_equals_vader_on_word_soup(words, sep):
    text = sep.join(words)
    assert FAST._score(text) == FAST_PYTHON._score(text) == REFERENCE.polarity_scores(text)


def test_fast_vader_cache_returns_fresh_equal_results(fast):
    text = "Not bad at all, but the wait was VERY long!!"
    first = fast.polarity_scores(text)
    first["compound"] = 99.0  # a caller mutating its dict must not poison the cache
    assert fast.polarity_scores(text) == REFERENCE.polarity_scores(text)


def test_analyzer_with_fast_vader_matches_the_reference_vader():
    taxonomy = load_taxonomy()
    fast = Analyzer(taxonomy)
    reference = Analyzer(taxonomy)
    reference.vader = SentimentIntensityAnalyzer()
    corpus = [r for r in generate.iter_corpus(300, seed=5)]
    for review in corpus:
        assert fast.analyze(review.text, review.rating) == reference.analyze(review.text, review.rating)


@pytest.fixture
def practice(tmp_path):
    exports = tmp_path / "exports"
    generate.write_export("google", exports, 240, seed=3, locations=2)
    config = tmp_path / "reviewpulse.toml"
    config.write_text(generate.settings_toml(tmp_path / "data", {"google": exports / "google"}, 2, tmp_path / "site"),
                      encoding="utf-8")
    return load_settings(config, environ={})


def _analysis_tables(con):
    return {
        "review_sentiment": con.execute(
            "SELECT review_id, content_hash, vader_compound, score, label, is_mixed, is_safety, is_non_informative"
            " FROM review_sentiment ORDER BY review_id").fetchall(),
        "review_sentences": con.execute("SELECT * FROM review_sentences ORDER BY ALL").fetchall(),
        "mentions": con.execute("SELECT * FROM mentions ORDER BY ALL").fetchall(),
        "staff_mentions": con.execute("SELECT * FROM staff_mentions ORDER BY ALL").fetchall(),
        "theme_flags": con.execute("SELECT * FROM theme_flags ORDER BY ALL").fetchall(),
    }


def test_parallel_analysis_writes_what_one_process_writes(practice, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_REVIEWS", 10)
    con = connect(practice.database_path, timezone=practice.timezone)
    try:
        assert sum(r.rows_seen for r in collect_paths(con, practice)) == 240
        serial = pipeline.analyze_pending(con, practice, rescore=True, workers=1)
        one = _analysis_tables(con)
        parallel = pipeline.analyze_pending(con, practice, rescore=True, workers=2)
        two = _analysis_tables(con)
        stored = dict(con.execute("SELECT r.text, s.vader_compound FROM reviews r JOIN review_sentiment s USING (review_id)"
                                  " WHERE r.text IS NOT NULL").fetchall())
    finally:
        con.close()
    assert (serial.workers, parallel.workers) == (1, 2)
    assert one == two
    assert len(one["mentions"]) > 100
    assert stored == {text: REFERENCE.polarity_scores(text)["compound"] for text in stored}


def _clauses(count: int, seed: int) -> list[str]:
    from analysis.sentences import split_clauses, split_sentences

    found = []
    for review in generate.iter_corpus(count, seed=seed):
        if review.text:
            for sentence in split_sentences(review.text):
                found += [c.text for c in split_clauses(review.text, sentence)]
    return found


def test_combined_taxonomy_regexes_match_exactly_what_the_plain_join_matches():
    import re

    from analysis.taxonomy import LIST_FIELDS

    taxonomy = load_taxonomy()
    rules = [getattr(theme, field) for theme in taxonomy.themes for field in LIST_FIELDS] + list(taxonomy.cues.values())
    rules = [r for r in rules if r.combined is not None]
    clauses = _clauses(150, seed=21) + ["No problems at all, no wait!", "Thank you, but NOBODY called back."]
    assert any(r.combined.pattern != "|".join(f"(?:{p})" for p in r.regexes) for r in rules)  # guards were shared
    for r in rules:
        plain = re.compile("|".join(f"(?:{p})" for p in r.regexes), re.IGNORECASE)
        for clause in clauses:
            assert [m.span() for m in r.combined.finditer(clause)] == [m.span() for m in plain.finditer(clause)]


# -- the literal prefilter of the taxonomy (analysis/literals.py, analysis/matcher.py) --------------

def _real_texts(limit: int) -> list[str]:
    """Up to `limit` real patient comments (none without the shared data)."""
    if not (DATA / "nhs-feedback").is_dir():
        return []
    with (DATA / "nhs-feedback/phase1_care_opinion.csv").open(encoding="utf-8", errors="replace", newline="") as fp:
        return [row["feedback"] for row in csv.DictReader(fp) if row.get("feedback")][:limit]


def _real_clauses(limit: int) -> list[str]:
    from analysis.sentences import split_clauses, split_sentences

    texts = _real_texts(limit)
    return [c.text for t in texts for s in split_sentences(t) for c in split_clauses(t, s)]


# Clauses where case folding, word lists, masks and exclusions matter.
TRICKY_CLAUSES = [
    "NOBODY CALLED ME BACK", "nobody called me back", "No problems getting through on the phone",
    "The receptionist was RUDE and dismissive", "Dr. Patel was kind", "ſtill waiting for a call back",
    "İ waited 3 hours", "the KELVIN-sign \u212aind nurse", "waited ages to get an appointment", "",
    "couldn’t get through", "rang and rang", "Called an ambulance", "booked in at reception",
]


def test_required_literals_are_in_every_match():
    import re

    from analysis.literals import fold, required_literals
    from analysis.taxonomy import LIST_FIELDS

    taxonomy = load_taxonomy()
    regexes = [r for theme in taxonomy.themes for field in LIST_FIELDS for r in getattr(theme, field).regexes]
    regexes += [r"(?:book|schedul\w*)\s+(?:an?\s+)?appointments?", r"call(?:ed)?\s+back", r"[a-c]x", r"\d+ hours"]
    clauses = _clauses(200, seed=13) + _real_clauses(400) + TRICKY_CLAUSES
    folded = [fold(c) for c in clauses]
    known = 0
    for regex in regexes:
        groups = required_literals(regex)
        known += bool(groups)
        compiled = re.compile(regex, re.IGNORECASE)
        for clause, text in zip(clauses, folded):
            if compiled.search(clause) is not None:
                assert all(any(lit in text for lit in group) for group in groups), (regex, clause)
    assert known >= len(regexes) - 2  # nearly every expression has literals to skip it by
    assert set(required_literals(r"call(?:ed)?\s+back")) == {frozenset({"call"}), frozenset({"back"})}
    assert set(required_literals(r"(?:book|schedul\w*)\s+x")) == {frozenset({"book", "schedul"}), frozenset({"x"})}
    assert required_literals(r"[a-c]x\d") == [frozenset({"x"})]
    assert required_literals(r"\w+") == []


def test_every_match_starts_with_a_leading_literal():
    """`leading_literals` is what lets the matcher try a regex only where a match can start."""
    import re

    from analysis.literals import fold, leading_literals
    from analysis.taxonomy import LIST_FIELDS

    taxonomy = load_taxonomy()
    regexes = [r for theme in taxonomy.themes for field in LIST_FIELDS for r in getattr(theme, field).regexes]
    regexes += [r for rules in taxonomy.cues.values() for r in rules.regexes]
    clauses = _clauses(200, seed=13) + _real_clauses(400) + TRICKY_CLAUSES
    known = 0
    for regex in regexes:
        starts = leading_literals(regex)
        if starts is None:
            continue
        known += 1
        compiled = re.compile(regex, re.IGNORECASE)
        for clause in clauses:
            for match in compiled.finditer(clause):
                assert any(fold(clause).startswith(s, match.start()) for s in starts), (regex, clause, match)
    assert known >= len(regexes) * 0.9
    assert leading_literals(r"call(?:ed)?\s+back") == frozenset({"call"})
    assert leading_literals(r"(?<!\w)(?:doctor\w*|dr)\s+x") == frozenset({"doctor", "dr"})
    assert leading_literals(r"\b(?:kind|kindly|rude)\b") == frozenset({"kind", "rude"})
    assert leading_literals(r"(?:\w+\s+){0,2}late") is None  # may start with any word
    assert leading_literals(r"(?:no)?\s*wait") is None  # may start with "no" or white space


def test_fold_compares_characters_as_ignorecase_does():
    import re

    from analysis.literals import fold

    for a, b in (("ſ", "s"), ("\u212a", "k"), ("ı", "i"), ("İ", "i"), ("Σ", "ς"), ("ß", "ß"), ("É", "é")):
        assert bool(re.fullmatch(re.escape(b), a, re.IGNORECASE)) == (fold(a) == fold(b)), (a, b)


def test_narrowed_taxonomy_finds_exactly_the_hits_of_the_whole_taxonomy():
    """The optimised matcher against the straightforward one: every theme, every expression, in order."""
    from analysis.matcher import TaxonomyIndex
    from analysis.sentiment import read_clause_cues
    from analysis.themes import find_theme_hits

    taxonomy = load_taxonomy()
    index = TaxonomyIndex(taxonomy)
    clauses = _clauses(400, seed=17) + _real_clauses(600) + TRICKY_CLAUSES
    hits = 0
    for clause in clauses:
        masked = read_clause_cues(clause, taxonomy.cues).vader_text
        expected = find_theme_hits(clause, masked, taxonomy)
        assert find_theme_hits(clause, masked, index.narrow(clause, masked)) == expected, clause
        hits += len(expected)
    assert hits > 500


def test_cue_index_rules_out_only_clauses_the_combined_regex_cannot_match():
    """`may_match` False lets read_clause_cues skip a field's substitution: it must never hide a match."""
    from analysis.matcher import RulesIndex, index_cues
    from analysis.sentiment import read_clause_cues

    taxonomy = load_taxonomy()
    clauses = _clauses(300, seed=29) + _real_clauses(600) + TRICKY_CLAUSES + ["No problems, no wait, can't fault them"]
    ruled_out = matched = 0
    for field, rules in taxonomy.cues.items():
        index = RulesIndex(rules)
        for clause in clauses:
            found = rules.combined is not None and rules.combined.search(clause) is not None
            assert index.may_match(clause) or not found, (field, clause)
            ruled_out += not index.may_match(clause)
            matched += found
    assert ruled_out > len(clauses) and matched > 20
    for indexed in ({field: RulesIndex(rules) for field, rules in taxonomy.cues.items()}, index_cues(taxonomy.cues)):
        assert [read_clause_cues(c, indexed) for c in clauses] == [read_clause_cues(c, taxonomy.cues) for c in clauses]


def test_analyzer_results_equal_those_of_the_whole_taxonomy_search():
    """Clause cache and narrowed matching (themes and cues) on, against an analyzer searching every expression."""
    taxonomy = load_taxonomy()
    fast = Analyzer(taxonomy)

    class Whole:  # a narrow() that hands back the whole taxonomy: the reference search
        def narrow(self, text, masked=None):
            return taxonomy

    reference = Analyzer(taxonomy)
    reference.index = Whole()
    reference.cues = taxonomy.cues
    reviews = [(r.text, r.rating) for r in generate.iter_corpus(300, seed=23)] * 2  # the second round is cached
    assert [fast.analyze(t, r) for t, r in reviews] == [reference.analyze(t, r) for t, r in reviews]


def test_sentence_cache_gives_the_clauses_split_in_place():
    """Clauses read from the per-sentence cache sit exactly where split_clauses puts them in the review."""
    from analysis.sentences import split_clauses, split_sentences

    analyzer = Analyzer(load_taxonomy())
    texts = [r.text for r in generate.iter_corpus(300, seed=31) if r.text] + ["Great staff.  Great staff - but rude; though fine"]
    repeated = 0
    for text in texts * 2:
        for sentence in split_sentences(text):
            repeated += sentence.text in analyzer._sentence_cache
            cached = [(sentence.start + c.start, sentence.start + c.end, sentence.text[c.start:c.end])
                      for c in analyzer._read_sentence(sentence.text).clauses]
            assert cached == [(c.start, c.end, c.text) for c in split_clauses(text, sentence)], (text, sentence)
    assert repeated > len(texts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab._ 1é\u0663\u00b2-\u2160\u0301Dr\n", max_size=12), st.data())
def test_word_before_a_period_is_what_the_regex_finds(text, data):
    import re

    from analysis.sentences import _word_before

    end = data.draw(st.integers(0, len(text)))
    match = re.compile(r"([\w.]+)$").search(text, 0, end)
    assert _word_before(text, end) == (match.group(1) if match else None)


# Sentence ends, closers, abbreviations, initials, line breaks and white space of every kind; letters,
# digits and marks outside ASCII ("İ" lowers to two characters).
SPLIT_ALPHABET = [".", "!", "?", "…", '"', "'", "”", "’", ")", "]", " ", "\n", "\t", "\x1c", "\u2003", "\u00a0", "a", "B",
                  "é", "İ", "\u0663", "\u00b2", "_", "-", ":)", "Dr", "e.g", "etc", "Mrs", "J", "no", "x"]


def _assert_split_in_c_as_in_python(texts) -> None:
    from analysis import sentences

    assert sentences._split is not None, "analysis/_split.c is not built: reinstall with a C compiler (pip install -e .)"
    different = [t for t in texts if sentences.split_sentences(t) != sentences.split_sentences_python(t)]
    assert different == [], f"{len(different)} texts split differently, first: {different[:1]}"


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(SPLIT_ALPHABET), max_size=30))
def test_sentence_splitter_in_c_cuts_where_the_python_one_cuts(pieces):
    _assert_split_in_c_as_in_python(["".join(pieces)])


def test_sentence_splitter_in_c_on_the_benchmark_and_real_texts():
    from analysis.sentences import split_sentences

    texts = [r.text for r in generate.iter_corpus(2000, seed=43) if r.text] + _real_texts(1500) + TRICKY_CLAUSES + [
        "(I saw Dr. Lee.) Then left", 'He said "fine." Then nothing', "[Done!] ok", "It was… fine’ ok", "Wait!!!\n\nNo.",
        "J. Smith e.g. this etc. That", "ok.\n", "x.y. z", "İ. Next", "no. 5 please", "?!", "\u2003 . \u2003"]
    _assert_split_in_c_as_in_python(texts)
    assert sum(len(split_sentences(t)) > 1 for t in texts) > 2000  # texts of several sentences are among them


def _split_without_hints(text, sentence):
    from analysis import sentences

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(sentences, "may_split", lambda _text: True)
        return sentences.split_clauses(text, sentence)


def test_clause_hints_skip_only_sentences_the_expressions_do_not_cut():
    """`may_split` False skips the contrast expressions: the clauses must be those they give."""
    from analysis.sentences import Span, may_split, split_clauses, split_sentences

    texts = [r.text for r in generate.iter_corpus(300, seed=37) if r.text]
    texts += ["Nice ſtaff, ſadly slow", "\u212aind nurse; rude GP", "ok \u2014 not great", "While I waited, fine",
              "EVEN THOUGH late, good", "Great - but slow", "  padded  ", "-- :)", "Yet more",
              "Call first, otherwise no slot", "Friendly, however slow", "Clean, except the toilets",
              "Quick whereas last time slow", "Kind nevertheless rushed", "Late, nonetheless thorough",
              "Despite the wait, lovely", "Whilst waiting, nice", "Though late, kind", "Good, unfortunately late",
              "Good, yet slow", "Great - slow", "ok \u2013 fine"]
    skipped = cut = 0
    for text in texts:
        for sentence in split_sentences(text) + [Span(0, len(text), text)]:
            expected = _split_without_hints(text, sentence)
            assert split_clauses(text, sentence) == expected, (text, sentence)
            skipped += not may_split(sentence.text)
            cut += len(expected) > 1
    assert skipped > len(texts) and cut > 20


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abt ,;:-\u2013\u2014ſ\u212aBUTYEsdlyhwi\n.", max_size=24))
def test_clause_hints_on_arbitrary_text(text):
    from analysis.sentences import Span, split_clauses

    sentence = Span(0, len(text), text)
    assert split_clauses(text, sentence) == _split_without_hints(text, sentence)


def test_literal_sets_do_not_depend_on_string_hashing():
    """Which literal sets index an expression (and so how fast matching is) is the same in every process."""
    import os
    import subprocess

    script = (
        "from analysis.literals import required_literals\n"
        "from analysis.taxonomy import LIST_FIELDS, load_taxonomy\n"
        "t = load_taxonomy()\n"
        "regexes = [r for th in t.themes for f in LIST_FIELDS for r in getattr(th, f).regexes]\n"
        "regexes += [r for rules in t.cues.values() for r in rules.regexes]\n"
        "for r in regexes:\n"
        "    print([sorted(s) for s in required_literals(r)])\n"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(outputs) == 1
    assert next(iter(outputs)).count("\n") > 500


# Texts where a name or title touches other characters: words, digits, "_", accents, punctuation.
STAFF_TEXTS = [
    "Dr. Okafor", "xDr Okafor", "_Mimi", "Mimi_", "MimiMimi Mimi", "éMimi", "1Mimi", "(Mimi)", "Dr.Okafor",
    "DrOkafor", "Nurse Hope Lindqvist", "ask for Hope", "Hope Lindqvist Hope", "Anna Okafor's team",
    "Dr. O was great, Dr. Okafor too", "NP Hope", "PA Smith\nDr Brown", "Doctor\tWho", "", "Mimi",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["Mimi", "Hope", "Dr", ".", " ", "_", "x", "é", "1", "Okafor", "Anna", "Nurse", "-"]),
                max_size=12))
def test_word_starts_finds_what_the_look_behind_finds(words):
    import re

    from analysis.staff import _TITLE, _word_starts

    text = "".join(words)
    names = re.compile(r"(?:Anna\s+Okafor|Mimi|Hope|Okafor)(?![\w])")
    for regex, reference in ((names, re.compile(r"(?<![\w])" + names.pattern)), (_TITLE, re.compile(r"\b" + _TITLE.pattern))):
        assert [m.span() for m in _word_starts(regex, text)] == [m.span() for m in reference.finditer(text)], text


def test_staff_matcher_finds_what_the_look_behind_expressions_find():
    """The roster matcher against the same matcher searching with the look-behind expressions."""
    import re

    from analysis import staff as staff_module
    from analysis.staff import StaffMatcher

    roster = _benchmark_roster(locations=4)
    texts = [r.text for r in generate.iter_corpus(1500, seed=31, locations=4) if r.text] + STAFF_TEXTS
    fast = StaffMatcher(roster)
    found = [fast.find(t) for t in texts]

    reference = StaffMatcher(roster)
    reference._names = re.compile(r"(?<![\w])" + fast._names.pattern)
    title = staff_module._TITLE
    original = staff_module._word_starts
    try:
        staff_module._word_starts = lambda regex, text: (
            re.compile(r"\b" + title.pattern) if regex is title else regex).finditer(text)
        expected = [reference.find(t) for t in texts]
    finally:
        staff_module._word_starts = original
    assert found == expected
    assert sum(map(len, expected)) > 300  # the roster's names occur: the check compares something


def _benchmark_roster(locations: int):
    """The staff of the benchmark's practice, as its settings file lists them."""
    import tomllib

    from config import StaffMember

    text = generate.settings_toml(Path("data"), {}, locations, Path("site"))
    return [StaffMember.model_validate(s) for s in tomllib.loads(text)["staff"]]
