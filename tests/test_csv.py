"""CSV exports read through a column mapping: encodings, multi-line fields, dates and errors."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from errors import ParseError
from ingest import csvfile

from conftest import FIXTURES

COLUMNS = csvfile.ColumnMap(id="Review ID", location="Clinic", author="Patient", rating="Stars", date="Date",
                            text="Comment", reply="Response")
CHICAGO = ZoneInfo("America/Chicago")


def parse(name: str, **kwargs):
    with (FIXTURES / "csv" / name).open("rb") as fp:
        return list(csvfile.iter_reviews(fp, file=name, columns=COLUMNS, tz=CHICAGO, **kwargs))


def test_platform_export_is_parsed_with_local_dates_in_utc():
    reviews = parse("platform_utf8_bom.csv")
    assert [(r.source_review_id, r.location_ref, r.author, r.rating) for r in reviews] == [
        ("p-1", "Main Street", "Renée Côté", 5),
        ("p-2", "Main Street", "Bob", 2),
        ("p-3", "main street", None, 1),
    ]
    # 14:05 in Chicago (CST, UTC-6) on 4 March 2026
    assert reviews[0].created_at == datetime(2026, 3, 4, 20, 5, tzinfo=timezone.utc)
    assert reviews[1].created_at == datetime(2026, 3, 4, 6, 0, tzinfo=timezone.utc)
    assert reviews[2].created_at == datetime(2026, 3, 5, 6, 0, tzinfo=timezone.utc)


def test_quoted_multiline_field_and_reply_are_kept():
    second = parse("platform_utf8_bom.csv")[1]
    assert second.text == "Waited 2 hours.\nThen they said come back tomorrow."
    assert second.reply_text == "We are sorry, Bob."
    assert second.raw["line"] == 3


def test_excel_cp1252_export_reads_the_same_as_utf8():
    assert [(r.text, r.author) for r in parse("platform_cp1252.csv")] == [
        (r.text, r.author) for r in parse("platform_utf8_bom.csv")
    ]


def test_day_first_dates_when_configured():
    data = b"Comment,Date\nfine,03/04/2026\n"
    (review,) = csvfile.iter_reviews(io.BytesIO(data), file="x.csv",
                                     columns=csvfile.ColumnMap(text="Comment", date="Date"), dayfirst=True)
    assert review.created_at == datetime(2026, 4, 3, tzinfo=timezone.utc)


def test_bad_rating_names_file_line_and_column():
    with pytest.raises(ParseError, match=r"^bad_rating\.csv: line 3: column 'Stars': rating 'seven' is not a number"):
        parse("bad_rating.csv")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Patient,Stars\nAnn,5\n", "x.csv: line 1: column(s) ['Comment', 'Date', 'Response', 'Review ID', 'Clinic'] not found"),
        (b"", "x.csv: the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.csv: binary data, not a CSV text file"),
        (b'Review ID,Clinic,Patient,Stars,Date,Comment,Response\np,Main,A,5,2026-01-01,"unclosed\n',
         "x.csv: line 2: malformed CSV"),
        (b"Review ID,Clinic,Patient,Stars,Date,Comment,Response\np,Main,A,5\n", "x.csv: line 2: 4 fields where the header has 7"),
        (b"Review ID,Clinic,Patient,Stars,Date,Comment,Response\np,Main,A,5,31/31/2026,hi,\n",
         "x.csv: line 2: column 'Date': unrecognised date '31/31/2026'"),
    ],
)
def test_malformed_csv_fails_with_one_clear_line(data, message):
    with pytest.raises(ParseError) as info:
        list(csvfile.iter_reviews(io.BytesIO(data), file="x.csv", columns=COLUMNS))
    assert str(info.value).startswith(message), str(info.value)
