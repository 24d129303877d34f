"""CSV presets: Outscraper's Google Maps reviews export and patient-survey answers with their question."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config import load_settings
from db import connect
from errors import ParseError
from ingest import presets
from ingest.collect import collect_paths

from conftest import FIXTURES, SHARED_DATA, write_config

OUTSCRAPER = FIXTURES / "collectors" / "outscraper_reviews.csv"
SURVEY = FIXTURES / "collectors" / "survey_export.csv"
CHICAGO = ZoneInfo("America/Chicago")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_outscraper_export_with_unix_and_utc_text_times_owner_answers_and_rating_only_rows():
    with OUTSCRAPER.open("rb") as fp:
        reviews = list(presets.iter_outscraper(fp, file=OUTSCRAPER.name))
    assert [(r.source_review_id, r.author, r.rating, r.created_at, r.text, r.reply_text, r.reply_at, r.location_ref)
            for r in reviews] == [
        ("ChdDSUhNMG9nS0VJQ0FnSURlc19tQ2F3EAE", "Alicia Moreno", 5, utc(2022, 6, 30, 15, 34),
         "Dr. Haddad never rushes. Booking online took two minutes.", "Thank you, Alicia!",
         utc(2022, 7, 1, 18, 26, 40), "Cedar Grove Family Practice"),
        ("ChZDSUhNMG9nS0VJQ0FnSUNleTZHSW5nEAE", "Marcus Bell", 1, utc(2024, 3, 4, 9, 5),  # month first, UTC
         "Called five times, nobody picked up.\nWhen I finally got through they wanted $200 upfront.", None, None,
         "Cedar Grove Family Practice"),
        ("ChdDSUhNMG9nS0VJQ0FnSURPNnZLRy1RRRAB", "Jo", 4, utc(2024, 3, 8, 12, 13, 20), None, None, None,
         "Cedar Grove Family Practice"),
    ]
    with OUTSCRAPER.open("rb") as fp:
        assert presets.read_outscraper_summary(fp, file=OUTSCRAPER.name) == [("Cedar Grove Family Practice", 312, 4.6, 3)]


def test_a_csv_that_is_not_an_outscraper_export_names_the_missing_columns():
    data = b"Name,Stars,Comment\r\nA,5,Great\r\n"
    with pytest.raises(ParseError, match=r"^x.csv: line 1: not an Outscraper reviews export: column\(s\) \['review_id'"):
        list(presets.iter_outscraper(io.BytesIO(data), file="x.csv"))


def test_a_bad_outscraper_rating_names_line_and_column():
    header = b"review_id,author_title,review_rating,review_text,review_timestamp\r\n"
    data = header + b"a1,Ann,5,ok,1700000000\r\na2,Bob,six,bad,1700000001\r\n"
    with pytest.raises(ParseError, match=r"^x.csv: line 3: column 'review_rating': rating 'six'"):
        list(presets.iter_outscraper(io.BytesIO(data), file="x.csv"))


def test_survey_answers_keep_their_question_and_repeat_answers_stay_separate():
    with SURVEY.open("rb") as fp:  # cp1252 without a label: "Café" and the en dash survive
        answers = list(presets.iter_survey(fp, file=SURVEY.name, tz=CHICAGO))
    assert [(r.question, r.text, r.rating, r.created_at, r.location_ref, r.author) for r in answers] == [
        ("What did we do well?", "Nothing", 2, utc(2024, 5, 2, 15, 15), "Main St", None),
        ("What could we improve?", "Nothing", 2, utc(2024, 5, 2, 15, 15), "Main St", None),
        ("What could we improve?", "Answer the phone! I was on hold 25 minutes.", None,  # a 0-10 score is no star rating
         utc(2024, 5, 2, 21, 40), "East Side", None),
        ("What did we do well?", "Dr. Okafor explained my results clearly.\nThe nurse was kind.", 5,
         utc(2024, 5, 3, 13, 5), "Main St", None),
        ("What could we improve?", "Café in the lobby – please!", None, utc(2024, 5, 3, 14, 30), "Main St", None),
    ]
    ids = [r.source_review_id for r in answers]
    assert len(set(ids)) == len(ids)  # "Nothing" under two questions is two answers
    with SURVEY.open("rb") as fp:
        assert [r.source_review_id for r in presets.iter_survey(fp, file=SURVEY.name, tz=CHICAGO)] == ids  # stable


def test_identical_anonymous_answers_are_counted_once_each():
    data = b"Question,Comment,Date\r\nWhat could we improve?,Nothing,2024-05-01\r\nWhat could we improve?,Nothing,2024-05-01\r\n"
    answers = list(presets.iter_survey(io.BytesIO(data), file="s.csv"))
    assert [(a.question, a.text) for a in answers] == [("What could we improve?", "Nothing")] * 2
    assert answers[0].source_review_id != answers[1].source_review_id


def test_friends_and_family_test_columns_are_recognised():
    data = (b"Comment ID,Trust,Date,FFT categorical answer,FFT question,FFT answer\r\n"
            b"c-1,Trust A,03/04/2023,Very good,What was good?,Kind crew\r\n"
            b"c-2,Trust A,03/04/2023,Don't know,What could be better?,Nothing\r\n")
    answers = list(presets.iter_survey(io.BytesIO(data), file="fft.csv", dayfirst=True))
    assert [(a.question, a.text, a.rating, a.created_at, a.location_ref) for a in answers] == [
        ("What was good?", "Kind crew", 5, utc(2023, 4, 3), "Trust A"),
        ("What could be better?", "Nothing", None, utc(2023, 4, 3), "Trust A"),
    ]


def test_a_survey_without_a_question_column_is_an_error_naming_what_was_looked_for():
    with pytest.raises(ParseError, match=r"^s.csv: line 1: not a survey export: no question column"):
        list(presets.iter_survey(io.BytesIO(b"Answer,Date\r\nGood,2024-01-01\r\n"), file="s.csv"))


def test_survey_and_outscraper_sources_import_into_the_database(tmp_path: Path):
    write_config(tmp_path, '''
        [[sources]]
        name = "survey"
        type = "survey"
        path = "exports/survey"

        [[sources]]
        name = "outscraper"
        type = "outscraper"
        location = "main"
        path = "exports/outscraper"
    ''')
    for folder, fixture in (("survey", SURVEY), ("outscraper", OUTSCRAPER)):
        (tmp_path / "exports" / folder).mkdir(parents=True)
        (tmp_path / "exports" / folder / fixture.name).write_bytes(fixture.read_bytes())
    settings = load_settings(tmp_path / "reviewpulse.toml", environ={})
    con = connect(settings.database_path)
    try:
        results = {r.origin.rsplit("/", 1)[-1]: (r.status, r.rows_new) for r in collect_paths(con, settings)}
        assert results == {"survey_export.csv": ("ok", 5), "outscraper_reviews.csv": ("ok", 3)}
        assert con.execute(
            "SELECT location_id, question, count(*) FROM reviews WHERE source = 'survey' GROUP BY ALL ORDER BY ALL"
        ).fetchall() == [("east", "What could we improve?", 1), ("main", "What could we improve?", 2),
                         ("main", "What did we do well?", 2)]
        assert con.execute("SELECT count(*) FROM reviews WHERE source = 'google'").fetchone() == (3,)
        assert con.execute("SELECT kind, review_count, average_rating, stored_count FROM source_summaries").fetchall() == [
            ("outscraper", 312, 4.6, 3)
        ]
    finally:
        con.close()


NHS = SHARED_DATA / "nhs-feedback" / "phase1_text_data.csv"


@pytest.mark.skipif(not NHS.exists(), reason="../shared/data is not available")
def test_real_nhs_survey_export_reads_every_answer_with_its_question():
    with NHS.open("rb") as fp:
        answers = list(presets.iter_survey(fp, file=NHS.name))
    assert len(answers) > 9000
    assert all(a.question and a.text for a in answers)
    assert {a.location_ref for a in answers} >= {"Trust A"}


def test_unlabelled_survey_and_outscraper_files_in_the_inbox_find_their_source(tmp_path: Path):
    write_config(tmp_path, '''
        [[sources]]
        name = "survey"
        type = "survey"
        path = "unused/survey"

        [[sources]]
        name = "outscraper"
        type = "outscraper"
        location = "main"
        path = "unused/outscraper"
    ''')
    settings = load_settings(tmp_path / "reviewpulse.toml", environ={})
    settings.inbox_dir.mkdir(parents=True)
    for fixture in (SURVEY, OUTSCRAPER):
        (settings.inbox_dir / fixture.name).write_bytes(fixture.read_bytes())
    from ingest.collect import collect_inbox

    con = connect(settings.database_path)
    try:
        assert sorted((r.origin.rsplit("/", 1)[-1], r.status) for r in collect_inbox(con, settings)) == [
            ("outscraper_reviews.csv", "ok"), ("survey_export.csv", "ok")
        ]
        assert con.execute("SELECT source, count(*) FROM reviews GROUP BY ALL ORDER BY ALL").fetchall() == [
            ("google", 3), ("survey", 5)
        ]
    finally:
        con.close()
