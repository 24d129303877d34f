"""ReviewPulse's sentiment against VADER's known traps, on sentences written for these tests."""

from __future__ import annotations

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis.analyzer import Analyzer
from analysis.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_taxonomy())


def complaints(result) -> set[str]:
    return {m.theme for m in result.mentions if m.polarity == "complaint"}


def test_vader_compound_is_exactly_vaders_for_the_whole_text(analyzer):
    text = "The nurse was gentle. But nobody ever calls back!"
    expected = SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    assert analyzer.analyze(text, 3).vader_compound == expected


@pytest.mark.parametrize(
    "text",
    ["No problems at all with my visit.", "No complaints, everything went smoothly.", "No wait, I was taken back right away."],
)
def test_absent_problems_are_not_negative(analyzer, text):
    result = analyzer.analyze(text)
    assert result.score > 0 and result.label == "positive"
    assert complaints(result) == set()


def test_no_wait_is_wait_time_praise(analyzer):
    result = analyzer.analyze("No wait, I was taken back right away.")
    assert [(m.theme, m.polarity) for m in result.mentions] == [("wait_time", "praise")]


def test_complaint_without_sentiment_words_is_negative(analyzer):
    never = analyzer.analyze("They never call back when they say they will.")
    assert never.vader_compound == 0.0  # VADER sees nothing here
    assert never.label == "negative" and never.score <= -0.4
    assert complaints(never) == {"callbacks"}
    upfront = analyzer.analyze("Had to pay $600 upfront before anyone saw my son.")
    assert upfront.label == "negative"
    assert "billing" in complaints(upfront)


def test_would_have_given_five_stars_is_mixed_with_its_complaint_after_but(analyzer):
    result = analyzer.analyze("I would have given 5 stars but the office lost my referral twice.")
    assert result.label == "mixed" and result.is_mixed
    assert result.score < 0
    assert "referrals_records" in complaints(result)


def test_long_polite_complaint_is_not_strongly_positive(analyzer):
    text = (
        "Thank you so much to the team, everyone is always kind and I appreciate how hard you work. "
        "However, I have called four times this week and left two voicemails, and nobody has called me back. "
        "My prescription refill was never sent to the pharmacy, so I ran out of my medication. "
        "Please, I would really appreciate a call. Thank you, have a great day!"
    )
    result = analyzer.analyze(text)
    assert result.vader_compound > 0.9  # VADER reads this as glowing
    assert result.score < 0.25
    assert result.label in ("mixed", "negative")
    assert {"callbacks", "prescriptions"} <= complaints(result)


@pytest.mark.parametrize("stars", [4, 5])
def test_a_complaint_inside_a_high_rating_is_kept_and_the_review_is_mixed(analyzer, stars):
    result = analyzer.analyze("Great doctor. The front desk put me on hold for 40 minutes though.", stars)
    assert "phone_access" in complaints(result)
    assert result.is_mixed and result.label == "mixed"
    assert result.score <= 0.25


def test_star_only_review_takes_its_label_from_the_rating(analyzer):
    assert (analyzer.analyze(None, 5).label, analyzer.analyze(None, 5).vader_compound) == ("positive", None)
    assert analyzer.analyze(None, 1).label == "negative"
    assert analyzer.analyze(None, 3).label == "neutral"
    assert analyzer.analyze(None, None).label == "neutral"


def test_rating_pulls_the_score_but_text_still_counts(analyzer):
    text = "The visit was fine."
    assert analyzer.analyze(text, 1).score < analyzer.analyze(text, 5).score


@pytest.mark.parametrize("text", ["N/A", "nothing", "No complaints.", "Nothing really", "-"])
def test_survey_non_answers_are_non_informative(analyzer, text):
    assert analyzer.analyze(text).is_non_informative


def test_informative_text_is_not_non_informative(analyzer):
    assert not analyzer.analyze("Nothing was explained to me.").is_non_informative


def test_safety_concerns_are_flagged(analyzer):
    assert analyzer.analyze("They gave my mother the wrong medication and she ended up in the ER.").is_safety
    assert not analyzer.analyze("The waiting room was cold.").is_safety
