"""The analysis's bounded caches keep the entries that recur and stay within their size."""

import pytest

from analysis.analyzer import Analyzer
from analysis.cache import RecurringCache
from analysis.taxonomy import load_taxonomy
from analysis.vader_fast import FastVader
from benchmarks import generate


def test_entries_found_again_survive_an_overflow_and_the_others_go():
    cache = RecurringCache(4)
    for key in "abcd":
        cache.put(key, key.upper())
    assert cache.get("b") == "B" and cache.get("z") is None
    cache.put("e", "E")  # full: only "b" was found again
    assert len(cache) == 2 and "b" in cache and "e" in cache and "a" not in cache
    # "b" must be found again before the next overflow to stay.
    cache.put("f", "F")
    cache.put("g", "G")
    cache.put("h", "H")
    assert "b" not in cache and "h" in cache and len(cache) == 1


def test_recurring_entries_never_take_more_than_half_the_room():
    cache = RecurringCache(4)
    for key in "abcd":
        cache.put(key, key)
        cache.get(key)
    cache.put("e", "e")  # all four recur: keeping them would leave no room
    assert len(cache) == 1 and "e" in cache


def test_a_full_cache_never_grows_and_replacing_an_entry_evicts_nothing():
    cache = RecurringCache(3)
    for i in range(100):
        cache.put(i % 7, i)
        cache.get(i % 5)
        assert len(cache) <= 3
    cache = RecurringCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 3)
    assert cache.get("a") == 3 and cache.get("b") == 2


def test_a_cache_needs_room_for_two_entries():
    with pytest.raises(ValueError, match="at least 2"):
        RecurringCache(1)


def test_analysis_with_caches_that_overflow_all_the_time_is_unchanged():
    """Tiny caches (evicting every few sentences) give exactly the results of roomy ones."""
    taxonomy = load_taxonomy()
    reviews = [(r.text, r.rating) for r in generate.iter_corpus(150, seed=41)]
    reviews = reviews + reviews[::3] + reviews[:20]  # some come back, as sentences do
    roomy = Analyzer(taxonomy)
    tiny = Analyzer(taxonomy)
    tiny._sentence_cache = RecurringCache(8)
    tiny._clause_cache = RecurringCache(8)
    tiny.vader = FastVader(cache_size=8)
    assert [tiny.analyze(t, r) for t, r in reviews] == [roomy.analyze(t, r) for t, r in reviews]
    assert len(tiny._sentence_cache) <= 8 and len(tiny._clause_cache) <= 8


def test_a_recurring_sentence_is_scored_for_the_review_it_is_in():
    """Courtesy words count only in a review without a complaint: the cached sentence is scored for each kind."""
    taxonomy = load_taxonomy()
    polite = "Thank you so much, please keep it up."
    alone = polite
    with_complaint = f"{polite} They never call back."
    shared = Analyzer(taxonomy)
    results = [shared.analyze(t) for t in (alone, with_complaint, alone, with_complaint)]
    assert results == [Analyzer(taxonomy).analyze(t) for t in (alone, with_complaint, alone, with_complaint)]
    first_alone, first_complaining = results[0].sentences[0], results[1].sentences[0]
    assert first_alone.score > 0.2  # thanked: praise
    assert first_complaining.score < first_alone.score  # the same words, courtesy ignored in a complaint
    assert results[1].label in ("negative", "mixed")
