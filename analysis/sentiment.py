"""ReviewPulse's sentiment: VADER per clause, corrected for the ways VADER misreads patient reviews.

VADER (vaderSentiment) is kept as the base: `vader_compound` of the whole text is stored untouched so
analysts can compare. The domain score corrects its known traps, using cue lists from the taxonomy
file (`[cues]`), not code:

- `negated_problem` / `praise_idiom`: "no problems", "no wait", "can't fault them" are praise; the
  phrase is replaced by a neutral-positive word before VADER reads the clause.
- `complaint`: complaints stated without sentiment words ("they never call back", "had to pay
  upfront") make the clause negative (at most COMPLAINT_SCORE), as does a complaint cue of a theme.
- `counterfactual`: "I would have given 5 stars" praises nothing; the clause is neutral but marks
  the review's other clauses as the complaint it introduces.
- `courtesy`: "thank you", "please" are removed from the clauses of a review that complains, so
  a long polite complaint does not read as strongly positive.

Review score: a weighted mean of the clause scores in which negative clauses weigh double
(a complaint is what a practice must not miss), blended half-and-half with the star rating when there
is one; a review that states a complaint never scores above COMPLAINT_CAP, whatever its stars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis.taxonomy import Rules

COMPLAINT_SCORE = -0.45
PRAISE_SCORE = 0.45
COMPLAINT_CAP = 0.25
POLAR = 0.2  # |clause score| from which a clause counts as praise or complaint
LABEL_THRESHOLD = 0.1
NEGATIVE_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class ClauseCues:
    """What the cue lists found in one clause, before VADER is run."""

    vader_text: str  # the clause with praise idioms replaced (courtesy removal comes later)
    complaint_rule: str | None
    counterfactual: bool


def read_clause_cues(text: str, cues: dict[str, Rules]) -> ClauseCues:
    """Find the cue-list hits of one clause (no VADER yet)."""
    vader_text = text
    for field in ("negated_problem", "praise_idiom"):
        rules = cues.get(field)
        if rules is not None and rules.combined is not None:
            # An index (analysis/matcher.py) rules out most clauses without running the regex.
            may_match = getattr(rules, "may_match", None)
            if may_match is not None and not may_match(vader_text):
                continue
            vader_text = rules.combined.sub(" fine ", vader_text)
    complaint_rule = None
    complaint = cues.get("complaint")
    if complaint is not None:
        found = complaint.find(vader_text)
        if found is not None:
            complaint_rule = f"cues.complaint[{found[0]}]:{found[1].group(0).strip()[:60]}"
    counterfactual = cues["counterfactual"].any(text) if "counterfactual" in cues else False
    return ClauseCues(vader_text, complaint_rule, counterfactual)


def strip_courtesy(text: str, cues: dict[str, Rules]) -> str:
    """Remove "thank you", "please" and the like, unless nothing else would be left."""
    rules = cues.get("courtesy")
    if rules is None or rules.combined is None:
        return text
    stripped = rules.combined.sub(" ", text)
    return stripped if any(ch.isalpha() for ch in stripped) else text


def score_clause(
    vader: SentimentIntensityAnalyzer,
    clause: ClauseCues,
    *,
    complaint: bool,
    praise: bool,
    review_complains: bool,
    cues: dict[str, Rules],
) -> tuple[float, float]:
    """Return (vader compound of the clause text as read, domain score) of one clause.

    `complaint`/`praise`: a theme's complaint or praise cue fired in the clause.
    """
    text = strip_courtesy(clause.vader_text, cues) if review_complains else clause.vader_text
    compound = vader.polarity_scores(text)["compound"]
    if clause.counterfactual:
        return compound, 0.0
    score = compound
    if complaint or clause.complaint_rule is not None:
        score = min(score, COMPLAINT_SCORE)
    elif praise:
        score = max(score, PRAISE_SCORE)
    return compound, score


def label_score(score: float) -> str:
    if score >= LABEL_THRESHOLD:
        return "positive"
    if score <= -LABEL_THRESHOLD:
        return "negative"
    return "neutral"


def rating_score(rating: int) -> float:
    """Map 1..5 stars onto -1..1."""
    return (rating - 3) / 2


@dataclass(frozen=True, slots=True)
class ReviewSentiment:
    score: float
    label: str
    is_mixed: bool


def combine_review(clause_scores: Sequence[float], *, rating: int | None, complains: bool, counterfactual: bool) -> ReviewSentiment:
    """Combine clause scores (and the stars) into the review's score and label; see the module docstring."""
    weights = [NEGATIVE_WEIGHT if s < 0 else 1.0 for s in clause_scores if abs(s) >= 0.05]
    signal = [s for s in clause_scores if abs(s) >= 0.05]
    text_score = sum(w * s for w, s in zip(weights, signal)) / sum(weights) if signal else None
    if rating is not None:
        stars = rating_score(rating)
        score = stars if text_score is None else 0.5 * stars + 0.5 * text_score
    else:
        score = text_score if text_score is not None else 0.0
    if complains:
        score = min(score, COMPLAINT_CAP)
    # Four or five stars are praise too: a complaint inside them makes the review mixed, not hidden.
    praises = counterfactual or any(s >= POLAR for s in clause_scores) or (rating is not None and rating >= 4)
    is_mixed = complains and praises
    if is_mixed:
        label = "mixed"
    else:
        label = label_score(score)
    return ReviewSentiment(round(score, 4), label, is_mixed)
