"""VADER's scoring, faster and exactly: the same numbers as vaderSentiment's `polarity_scores`.

vaderSentiment 3.3.2 re-lowercases the whole word list for every negation and idiom check of every
sentiment word (quadratic in the length of a review) and rebuilds the text character by character to
translate emoji. `FastVader` computes the same rules over a word list lowercased once, skips the emoji
pass when the text holds none, and keeps a bounded cache of texts already scored (short sentences such
as "Highly recommend!" recur across thousands of reviews).

For an ASCII text (most reviews), the word valences come from `analysis._vader`, a C port of the
same rules built with the package (pyproject.toml); where it could not be built, the Python code below
scores every text. Both give the same list of valences, which `_score_valence` turns into the scores.

Exactness is the contract: every rule, its order and every floating-point operation is the reference's
(including its quirks: "but" scaling by `list.index` of the first equal value, integer zeros for words
outside the lexicon), so `FastVader().polarity_scores(t) == SentimentIntensityAnalyzer().polarity_scores(t)`
for every text. tests/test_perf_equivalence.py checks it on real and generated texts, and
benchmarks/pipeline.py checks it on the whole benchmark corpus. The lexicons are read from the
installed vaderSentiment, so a lexicon update is picked up as it is.
"""

from __future__ import annotations

import math
import string

from analysis.cache import RecurringCache

from vaderSentiment.vaderSentiment import (
    B_INCR,  # noqa: F401 - re-exported for readers comparing with the reference
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

try:
    from analysis import _vader
except ImportError:  # built without a C compiler: the Python rules score every text
    _vader = None

CACHE_SIZE = 200_000
_PUNCTUATION = string.punctuation
_PUNCTUATION_CHARS = frozenset(_PUNCTUATION)
_NEGATE = frozenset(NEGATE)


def _strip_punc_if_word(token: str) -> str:
    stripped = token.strip(_PUNCTUATION)
    return token if len(stripped) <= 2 else stripped


def _is_negation(word_lower: str) -> bool:
    return word_lower in _NEGATE or "n't" in word_lower


class FastVader:
    """A drop-in for `SentimentIntensityAnalyzer` whose `polarity_scores` is several times faster.

    Holds the lexicons and a cache of up to CACHE_SIZE scored texts (analysis/cache.py); no other
    state, so one instance per process is enough.
    """

    def __init__(self, reference: SentimentIntensityAnalyzer | None = None, cache_size: int = CACHE_SIZE,
                 native: bool = True):
        """`native=False` keeps the Python rules for every text (the C port is then not used)."""
        reference = reference if reference is not None else SentimentIntensityAnalyzer()
        self._reference = reference
        self.lexicon: dict[str, float] = reference.lexicon
        # The reference walks the text one character at a time, so only one-character keys can match.
        self.emojis: dict[str, str] = {k: v for k, v in reference.emojis.items() if len(k) == 1}
        self._emoji_chars = frozenset(self.emojis)
        self._cache: RecurringCache[str, dict[str, float]] = RecurringCache(cache_size)
        self._native = None
        if native and _vader is not None:
            self._native = _vader.Scorer(self.lexicon, BOOSTER_DICT, SPECIAL_CASES, dict.fromkeys(NEGATE, 0.0),
                                         N_SCALAR, C_INCR)

    @property
    def native(self) -> bool:
        """Whether ASCII texts are scored by the C port (analysis/_vader.c)."""
        return self._native is not None

    def polarity_scores(self, text: str) -> dict[str, float]:
        """The neg/neu/pos/compound dict vaderSentiment gives for `text` (a new dict each call)."""
        cached = self._cache.get(text)
        if cached is None:
            if not isinstance(text, str):
                return self._reference.polarity_scores(text)
            cached = self._score(text)
            self._cache.put(text, cached)
        return dict(cached)

    def compound(self, text: str) -> float:
        """Only the compound score of `text`."""
        return self.polarity_scores(text)["compound"]

    # -- the reference's rules, over a word list lowercased once ------------------------------------

    def _translate_emoji(self, text: str) -> str:
        parts = []
        prev_space = True
        emojis = self.emojis
        for ch in text:
            description = emojis.get(ch)
            if description is not None:
                if not prev_space:
                    parts.append(" ")
                parts.append(description)
                prev_space = False
            else:
                parts.append(ch)
                prev_space = ch == " "
        return "".join(parts)

    def _score(self, text: str) -> dict[str, float]:
        if self._native is not None and text.isascii():  # the same rules in C (analysis/_vader.c)
            neg, neu, pos, compound = self._native.scores(text)
            return {"neg": round(neg, 3), "neu": round(neu, 3), "pos": round(pos, 3), "compound": round(compound, 4)}
        if not text.isascii() and not self._emoji_chars.isdisjoint(text):
            text = self._translate_emoji(text)
        text = text.strip()
        # Stripping cannot change a token with no punctuation at either end (the common case).
        punctuation = _PUNCTUATION_CHARS
        words = [_strip_punc_if_word(t) if t[0] in punctuation or t[-1] in punctuation else t for t in text.split()]
        lower = [w.lower() for w in words]
        n = len(words)
        allcaps = sum(map(str.isupper, words))
        is_cap_diff = 0 < n - allcaps < n
        lexicon = self.lexicon
        sentiments: list[float] = []
        append = sentiments.append
        last = n - 1
        for i, item_lower in enumerate(lower):
            if item_lower not in lexicon or item_lower in BOOSTER_DICT:
                append(0)
                continue
            if item_lower == "kind" and i < last and lower[i + 1] == "of":
                append(0)
                continue
            append(self._valence(words, lower, i, is_cap_diff))
        if "but" in lower:
            sentiments = _but_check(lower.index("but"), sentiments)
        return _score_valence(sentiments, text)

    def _valence(self, words: list[str], lower: list[str], i: int, is_cap_diff: bool) -> float:
        lexicon = self.lexicon
        item_lower = lower[i]
        n = len(words)
        valence = lexicon[item_lower]
        if item_lower == "no" and i != n - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and lower[i - 1] == "no") or (i > 1 and lower[i - 2] == "no") or (
            i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor")
        ):
            valence = lexicon[item_lower] * N_SCALAR
        if words[i].isupper() and is_cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for start_i in range(0, 3):
            j = i - (start_i + 1)
            if i > start_i and lower[j] not in lexicon:
                s = _scalar_inc_dec(words[j], lower[j], valence, is_cap_diff)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = _negation_check(valence, lower, start_i, i)
                if start_i == 2:
                    valence = _special_idioms_check(valence, lower, i)
        return _least_check(valence, lower, i, lexicon)


def _scalar_inc_dec(word: str, word_lower: str, valence: float, is_cap_diff: bool) -> float:
    scalar = 0.0
    if word_lower in BOOSTER_DICT:
        scalar = BOOSTER_DICT[word_lower]
        if valence < 0:
            scalar *= -1
        if word.isupper() and is_cap_diff:
            if valence > 0:
                scalar += C_INCR
            else:
                scalar -= C_INCR
    return scalar


def _negation_check(valence: float, lower: list[str], start_i: int, i: int) -> float:
    if start_i == 0:
        if _is_negation(lower[i - 1]):
            valence = valence * N_SCALAR
    elif start_i == 1:
        if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
            valence = valence * 1.25
        elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
            pass
        elif _is_negation(lower[i - 2]):
            valence = valence * N_SCALAR
    else:
        if (lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this")) or (
            lower[i - 1] == "so" or lower[i - 1] == "this"
        ):
            valence = valence * 1.25
        elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
            pass
        elif _is_negation(lower[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lower: list[str], i: int) -> float:
    w3, w2, w1, w0 = lower[i - 3], lower[i - 2], lower[i - 1], lower[i]
    onezero = f"{w1} {w0}"
    twoonezero = f"{w2} {w1} {w0}"
    twoone = f"{w2} {w1}"
    threetwoone = f"{w3} {w2} {w1}"
    threetwo = f"{w3} {w2}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    n = len(lower)
    if n - 1 > i:
        zeroone = f"{w0} {lower[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if n - 1 > i + 1:
        zeroonetwo = f"{w0} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _least_check(valence: float, lower: list[str], i: int, lexicon: dict[str, float]) -> float:
    if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        if lower[i - 2] != "at" and lower[i - 2] != "very":
            valence = valence * N_SCALAR
    elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        valence = valence * N_SCALAR
    return valence


def _but_check(bi: int, sentiments: list[float]) -> list[float]:
    # The reference rescales by the position of the *first equal value* (list.index), not of the
    # word itself; equal sentiments on both sides of "but" make that differ, so it is kept as is.
    for position in range(len(sentiments)):
        sentiment = sentiments[position]
        si = sentiments.index(sentiment)
        if si < bi:
            sentiments[si] = sentiment * 0.5
        elif si > bi:
            sentiments[si] = sentiment * 1.5
    return sentiments


def _score_valence(sentiments: list[float], text: str) -> dict[str, float]:
    if sentiments:
        sum_s = float(sum(sentiments))
        ep_count = min(text.count("!"), 4)
        qm_count = text.count("?")
        qm_amplifier = 0
        if qm_count > 1:
            qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
        punct_emph_amplifier = ep_count * 0.292 + qm_amplifier
        if sum_s > 0:
            sum_s += punct_emph_amplifier
        elif sum_s < 0:
            sum_s -= punct_emph_amplifier
        compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
        if compound < -1.0:
            compound = -1.0
        elif compound > 1.0:
            compound = 1.0
        # The reference's one loop, split by sign: each sum adds the same terms in the same order.
        pos_sum = 0.0
        neg_sum = 0.0
        for sentiment_score in [s for s in sentiments if s > 0]:
            pos_sum += float(sentiment_score) + 1
        for sentiment_score in [s for s in sentiments if s < 0]:
            neg_sum += float(sentiment_score) - 1
        neu_count = sentiments.count(0)
        if pos_sum > math.fabs(neg_sum):
            pos_sum += punct_emph_amplifier
        elif pos_sum < math.fabs(neg_sum):
            neg_sum -= punct_emph_amplifier
        total = pos_sum + math.fabs(neg_sum) + neu_count
        pos = math.fabs(pos_sum / total)
        neg = math.fabs(neg_sum / total)
        neu = math.fabs(neu_count / total)
    else:
        compound = 0.0
        pos = 0.0
        neg = 0.0
        neu = 0.0
    return {"neg": round(neg, 3), "neu": round(neu, 3), "pos": round(pos, 3), "compound": round(compound, 4)}
