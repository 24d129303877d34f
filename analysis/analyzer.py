"""Analysing one review: sentences, clauses, sentiment, theme mentions and staff mentions.

`Analyzer` holds what is expensive to build (the VADER lexicon, the compiled taxonomy, the staff
roster matcher) and is built once per process; `Analyzer.analyze(text, rating)` is a pure function
of its inputs and is what both the database pipeline and `classify` call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from analysis import sentiment
from analysis.cache import RecurringCache
from analysis.sentences import Span, split_clauses, split_sentences
from analysis.staff import StaffMatcher
from analysis.matcher import LiteralScan, TaxonomyIndex, index_cues
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


@dataclass(frozen=True, slots=True)
class _ClauseReading:
    """One clause of a sentence (offsets into the sentence) and what its text alone decides."""

    start: int
    end: int
    cues: sentiment.ClauseCues
    hits: tuple[ThemeHit, ...]
    complaint: bool  # a theme's complaint cue fired
    praise: bool  # a theme's praise cue fired

    @property
    def complains(self) -> bool:
        return self.cues.complaint_rule is not None or self.complaint


@dataclass(frozen=True, slots=True)
class _ScoredSentence:
    """A sentence's scores and mentions (offsets into the sentence), for one value of "the review complains"."""

    clause_scores: tuple[float, ...]
    vader: float
    score: float
    label: str
    mentions: tuple[tuple[int, int, str, str, float, str], ...]  # start, end, theme, polarity, score, rule


class _SentenceReading:
    """What a sentence's text alone decides (its clauses, cue and theme hits), and its scores.

    A clause's score depends on its sentence and on one fact about the rest of the review, whether
    the review states a complaint anywhere (courtesy words are then ignored), so each sentence is
    scored at most twice, whatever the number of reviews it recurs in: `scored[review_complains]`,
    filled by `Analyzer._scored` when first needed.
    """

    __slots__ = ("clauses", "complains", "counterfactual", "scored")

    def __init__(self, clauses: tuple[_ClauseReading, ...]):
        self.clauses = clauses
        self.complains = any(c.complains for c in clauses)
        self.counterfactual = any(c.cues.counterfactual for c in clauses)
        self.scored: list[_ScoredSentence | None] = [None, None]


class Analyzer:
    """Scores reviews with one taxonomy and staff roster."""

    def __init__(self, taxonomy: Taxonomy, staff: Iterable[StaffMember] = ()):
        self.taxonomy = taxonomy
        # Only the expressions whose literals occur in a clause are searched (analysis/matcher.py); one
        # scan of a clause finds the literals of the cue lists and of the themes.
        scan = LiteralScan()
        self.cues = index_cues(taxonomy.cues, scan)
        self.index = TaxonomyIndex(taxonomy, scan)
        # Exactly vaderSentiment's scores, computed faster (see analysis/vader_fast.py).
        self.vader = FastVader()
        self.staff = StaffMatcher(staff)
        # What a clause's text alone decides (cue hits, theme hits), by clause text: the same short
        # clauses ("Highly recommend", "The staff were lovely") recur across thousands of reviews.
        self._clause_cache: RecurringCache[str, tuple[sentiment.ClauseCues, list[ThemeHit]]] = RecurringCache(CLAUSE_CACHE_SIZE)
        self._sentence_cache: RecurringCache[str, _SentenceReading] = RecurringCache(SENTENCE_CACHE_SIZE)

    def _read_clause(self, text: str) -> tuple[sentiment.ClauseCues, list[ThemeHit]]:
        found = self._clause_cache.get(text)
        if found is None:
            cues = sentiment.read_clause_cues(text, self.cues)
            found = cues, find_theme_hits(text, cues.vader_text, self.index.narrow(text, cues.vader_text))
            self._clause_cache.put(text, found)
        return found

    def _read_sentence(self, text: str) -> _SentenceReading:
        """A sentence's clauses (offsets into the sentence) with their readings, cached by sentence text
        with the scores given to it so far (see `_SentenceReading`).

        Splitting a sentence into clauses depends on its text alone, so the offsets only shift with
        where the sentence starts in a review. So does the counterfactual contrast, which stays inside
        a sentence.
        """
        found = self._sentence_cache.get(text)
        if found is None:
            clauses = []
            for span in split_clauses(text, Span(0, len(text), text)):
                cues, hits = self._read_clause(span.text)
                kinds = {h.kind for h in hits}
                clauses.append(_ClauseReading(span.start, span.end, cues, tuple(hits), "complaint" in kinds, "praise" in kinds))
            # "I would have given 5 stars, but ..." : what follows the counterfactual is its complaint.
            for i, (before, after) in enumerate(zip(clauses, clauses[1:]), start=1):
                if before.cues.counterfactual and not after.cues.counterfactual and after.cues.complaint_rule is None:
                    clauses[i] = replace(
                        after, cues=sentiment.ClauseCues(after.cues.vader_text, "counterfactual contrast", False))
            found = _SentenceReading(tuple(clauses))
            self._sentence_cache.put(text, found)
        return found

    def _scored(self, text: str, reading: _SentenceReading, review_complains: bool) -> _ScoredSentence:
        """The sentence's scores in a review that does or does not complain, scored once and kept with its reading."""
        found = reading.scored[review_complains]
        if found is None:
            found = reading.scored[review_complains] = self._score_sentence(text, reading, review_complains)
        return found

    def _score_sentence(self, text: str, reading: _SentenceReading, review_complains: bool) -> _ScoredSentence:
        """Score a sentence's clauses and the sentence, and name its theme mentions (one per theme and polarity)."""
        scored = [
            sentiment.score_clause(self.vader, c.cues, complaint=c.complaint, praise=c.praise,
                                   review_complains=review_complains, cues=self.cues)
            for c in reading.clauses
        ]
        scores = tuple(score for _, score in scored)
        only = reading.clauses[0]
        if len(reading.clauses) == 1 and only.start == 0 and only.end == len(text) and only.cues.vader_text == text:
            vader = scored[0][0]
        else:
            vader = self.vader.polarity_scores(text)["compound"]
        negative = [s for s in scores if s <= -sentiment.POLAR]
        score = min(negative) if negative else max(scores, key=abs)
        mentions = []
        seen: set[tuple[str, str]] = set()
        for clause, clause_score in zip(reading.clauses, scores):
            for hit in clause.hits:
                polarity = hit.kind if hit.kind != "topic" else polarity_of(clause_score)
                if (hit.theme, polarity) in seen:  # one mention per sentence, theme and polarity
                    continue
                seen.add((hit.theme, polarity))
                rule = hit.rule if hit.kind != "topic" else f"{hit.rule} (+clause sentiment)"
                mentions.append((clause.start, clause.end, hit.theme, polarity, round(clause_score, 4), rule))
        return _ScoredSentence(scores, vader, round(score, 4), sentiment.label_score(score), tuple(mentions))

    def analyze(self, text: str | None, rating: int | None = None) -> ReviewResult:
        """Analyse one review; a review without text is scored from its stars alone."""
        if text is None or not text.strip():
            if rating is None:
                return ReviewResult(None, 0.0, "neutral", False, False, text is not None)
            stars = sentiment.rating_score(rating)
            return ReviewResult(None, stars, sentiment.label_score(stars), False, False, False)
        cues = self.cues
        sentences = split_sentences(text)
        readings = [self._read_sentence(s.text) for s in sentences]
        review_complains = any(r.complains for r in readings)
        scored = [self._scored(s.text, r, review_complains) for s, r in zip(sentences, readings)]
        combined = sentiment.combine_review(
            [score for sentence in scored for score in sentence.clause_scores], rating=rating,
            complains=review_complains, counterfactual=any(r.counterfactual for r in readings),
        )
        sentence_results = []
        mentions = []
        for index, (span, sentence) in enumerate(zip(sentences, scored)):
            base = span.start
            sentence_results.append(SentenceResult(index, base, span.end, sentence.vader, sentence.score, sentence.label))
            for start, end, theme, polarity, score, rule in sentence.mentions:
                mentions.append(MentionResult(index, base + start, base + end, theme, polarity, score, rule))
        return ReviewResult(
            vader_compound=self.vader.polarity_scores(text)["compound"],
            score=combined.score,
            label=combined.label,
            is_mixed=combined.is_mixed,
            is_safety=cues["safety"].any(text),
            is_non_informative=bool(cues["non_informative"].combined and cues["non_informative"].combined.fullmatch(text.strip())),
            sentences=sentence_results,
            mentions=mentions,
            staff=self._staff(text, sentences, readings, scored),
        )

    def _staff(
        self, text: str, sentences: list[Span], readings: list[_SentenceReading], scored: list[_ScoredSentence]
    ) -> list[StaffResult]:
        """The staff named in `text`, each with the sentiment of the clause that names them."""
        hits = self.staff.find(text)
        if not hits:
            return []
        clauses = [  # (start, end) in the text, sentence index, score
            (span.start + clause.start, span.start + clause.end, index, score)
            for index, (span, reading, sentence) in enumerate(zip(sentences, readings, scored))
            for clause, score in zip(reading.clauses, sentence.clause_scores)
        ]
        results = []
        for hit in hits:
            found = next(((index, score) for start, end, index, score in clauses if start <= hit.start < end), None)
            if found is None:
                continue
            index, score = found
            results.append(
                StaffResult(hit.staff_name, hit.role, hit.matched_text, index, hit.start, hit.end,
                            polarity_of(score), round(score, 4))
            )
        return results
