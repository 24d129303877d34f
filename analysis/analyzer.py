"""Analysing one review: sentences, clauses, sentiment, theme mentions and staff mentions.

`Analyzer` holds what is expensive to build (the VADER lexicon, the compiled taxonomy, the staff
roster matcher) and is built once per process; `Analyzer.analyze(text, rating)` is a pure function
of its inputs and is what both the database pipeline and `classify` call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from analysis import sentiment
from analysis.cache import RecurringCache
from analysis.sentences import Span, split_clauses, split_sentences
from analysis.staff import StaffMatcher
from analysis.matcher import TaxonomyIndex, index_cues
from analysis.taxonomy import Taxonomy
from analysis.themes import ThemeHit, find_theme_hits
from analysis.vader_fast import FastVader
from config import StaffMember

CLAUSE_CACHE_SIZE = 100_000
SENTENCE_CACHE_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class SentenceResult:
    index: int
    start: int
    end: int
    vader_compound: float
    score: float
    label: str


@dataclass(frozen=True, slots=True)
class MentionResult:
    sentence_index: int
    start: int  # the clause that carries the evidence
    end: int
    theme: str
    polarity: str
    score: float
    rule: str


@dataclass(frozen=True, slots=True)
class StaffResult:
    staff_name: str
    role: str | None
    matched_text: str
    sentence_index: int
    start: int
    end: int
    polarity: str
    score: float


@dataclass(frozen=True, slots=True)
class ReviewResult:
    vader_compound: float | None
    score: float
    label: str
    is_mixed: bool
    is_safety: bool
    is_non_informative: bool
    sentences: list[SentenceResult] = field(default_factory=list)
    mentions: list[MentionResult] = field(default_factory=list)
    staff: list[StaffResult] = field(default_factory=list)


def polarity_of(score: float) -> str:
    if score <= -sentiment.POLAR:
        return "complaint"
    if score >= sentiment.POLAR:
        return "praise"
    return "neutral"


@dataclass(slots=True)
class _Clause:
    sentence_index: int
    span: Span
    cues: sentiment.ClauseCues
    hits: list[ThemeHit]
    vader: float = 0.0
    score: float = 0.0

    @property
    def complains(self) -> bool:
        return self.cues.complaint_rule is not None or any(h.kind == "complaint" for h in self.hits)


class Analyzer:
    """Scores reviews with one taxonomy and staff roster."""

    def __init__(self, taxonomy: Taxonomy, staff: Iterable[StaffMember] = ()):
        self.taxonomy = taxonomy
        # Only the theme expressions whose literals occur in a clause are searched (analysis/matcher.py).
        self.index = TaxonomyIndex(taxonomy)
        self.cues = index_cues(taxonomy.cues)
        # Exactly vaderSentiment's scores, computed faster (see analysis/vader_fast.py).
        self.vader = FastVader()
        self.staff = StaffMatcher(staff)
        # What a clause's text alone decides (cue hits, theme hits), by clause text: the same short
        # clauses ("Highly recommend", "The staff were lovely") recur across thousands of reviews.
        self._clause_cache: RecurringCache[str, tuple[sentiment.ClauseCues, list[ThemeHit]]] = RecurringCache(CLAUSE_CACHE_SIZE)
        self._sentence_cache: RecurringCache[str, tuple[tuple[int, int, str, sentiment.ClauseCues, list[ThemeHit]], ...]] = (
            RecurringCache(SENTENCE_CACHE_SIZE))

    def _read_clause(self, text: str) -> tuple[sentiment.ClauseCues, list[ThemeHit]]:
        found = self._clause_cache.get(text)
        if found is None:
            cues = sentiment.read_clause_cues(text, self.cues)
            found = cues, find_theme_hits(text, cues.vader_text, self.index.narrow(text, cues.vader_text))
            self._clause_cache.put(text, found)
        return found

    def _read_sentence(self, text: str) -> tuple[tuple[int, int, str, sentiment.ClauseCues, list[ThemeHit]], ...]:
        """A sentence's clauses (offsets into the sentence) with their readings, cached by sentence text.

        Splitting a sentence into clauses depends on its text alone, so the offsets only shift with
        where the sentence starts in a review.
        """
        found = self._sentence_cache.get(text)
        if found is None:
            found = tuple(
                (span.start, span.end, span.text, *self._read_clause(span.text))
                for span in split_clauses(text, Span(0, len(text), text))
            )
            self._sentence_cache.put(text, found)
        return found

    def analyze(self, text: str | None, rating: int | None = None) -> ReviewResult:
        """Analyse one review; a review without text is scored from its stars alone."""
        if text is None or not text.strip():
            if rating is None:
                return ReviewResult(None, 0.0, "neutral", False, False, text is not None)
            stars = sentiment.rating_score(rating)
            return ReviewResult(None, stars, sentiment.label_score(stars), False, False, False)
        cues = self.cues
        sentences = split_sentences(text)
        clauses: list[_Clause] = []
        for index, sentence in enumerate(sentences):
            base = sentence.start
            for start, end, clause_text, clause_cues, hits in self._read_sentence(sentence.text):
                clauses.append(_Clause(index, Span(base + start, base + end, clause_text), clause_cues, hits))
        # "I would have given 5 stars, but ..." : what follows the counterfactual is its complaint.
        for before, after in zip(clauses, clauses[1:]):
            if before.cues.counterfactual and after.sentence_index == before.sentence_index and not after.cues.counterfactual:
                if after.cues.complaint_rule is None:
                    after.cues = sentiment.ClauseCues(after.cues.vader_text, "counterfactual contrast", False)
        review_complains = any(c.complains for c in clauses)
        for clause in clauses:
            kinds = {h.kind for h in clause.hits}
            clause.vader, clause.score = sentiment.score_clause(
                self.vader, clause.cues, complaint="complaint" in kinds, praise="praise" in kinds,
                review_complains=review_complains, cues=cues,
            )
        combined = sentiment.combine_review(
            [c.score for c in clauses], rating=rating, complains=review_complains,
            counterfactual=any(c.cues.counterfactual for c in clauses),
        )
        return ReviewResult(
            vader_compound=self.vader.polarity_scores(text)["compound"],
            score=combined.score,
            label=combined.label,
            is_mixed=combined.is_mixed,
            is_safety=cues["safety"].any(text),
            is_non_informative=bool(cues["non_informative"].combined and cues["non_informative"].combined.fullmatch(text.strip())),
            sentences=self._sentences(text, sentences, clauses),
            mentions=self._mentions(clauses),
            staff=self._staff(text, sentences, clauses),
        )

    def _sentences(self, text: str, sentences: list[Span], clauses: list[_Clause]) -> list[SentenceResult]:
        results = []
        by_sentence: list[list[_Clause]] = [[] for _ in sentences]
        for clause in clauses:
            by_sentence[clause.sentence_index].append(clause)
        for index, span in enumerate(sentences):
            own = by_sentence[index]
            if len(own) == 1 and own[0].span == span and own[0].cues.vader_text == span.text:
                vader = own[0].vader
            else:
                vader = self.vader.polarity_scores(span.text)["compound"]
            scores = [c.score for c in own]
            negative = [s for s in scores if s <= -sentiment.POLAR]
            score = min(negative) if negative else (max(scores, key=abs) if scores else 0.0)
            results.append(SentenceResult(index, span.start, span.end, vader, round(score, 4), sentiment.label_score(score)))
        return results

    def _mentions(self, clauses: list[_Clause]) -> list[MentionResult]:
        mentions = []
        seen: set[tuple[int, str, str]] = set()
        for clause in clauses:
            for hit in clause.hits:
                polarity = hit.kind if hit.kind != "topic" else polarity_of(clause.score)
                key = (clause.sentence_index, hit.theme, polarity)
                if key in seen:  # one mention per sentence, theme and polarity
                    continue
                seen.add(key)
                rule = hit.rule if hit.kind != "topic" else f"{hit.rule} (+clause sentiment)"
                mentions.append(
                    MentionResult(clause.sentence_index, clause.span.start, clause.span.end, hit.theme, polarity, round(clause.score, 4), rule)
                )
        return mentions

    def _staff(self, text: str, sentences: list[Span], clauses: list[_Clause]) -> list[StaffResult]:
        results = []
        for hit in self.staff.find(text):
            clause = next((c for c in clauses if c.span.start <= hit.start < c.span.end), None)
            if clause is None:
                continue
            results.append(
                StaffResult(hit.staff_name, hit.role, hit.matched_text, clause.sentence_index, hit.start, hit.end,
                            polarity_of(clause.score), round(clause.score, 4))
            )
        return results
