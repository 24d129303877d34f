"""classify: CSV and JSON-lines texts in, JSON lines out, without touching a database."""

from __future__ import annotations

import io
import json

import pytest

from analysis.classify import classify_file, classify_texts, iter_texts
from analysis.taxonomy import load_taxonomy
from errors import ParseError


def run(path) -> list[dict]:
    out = io.StringIO()
    count = classify_file(path, out, load_taxonomy())
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(lines)
    return lines


def test_csv_with_crlf_and_multiline_fields(tmp_path):
    path = tmp_path / "texts.csv"
    path.write_bytes(
        b'id,text,rating,ignored\r\n'
        b'1,"The phone rang and rang.\r\nNobody ever answered.",2,x\r\n'
        b'2,"No wait, lovely staff",5,\r\n'
        b'3,,4,\r\n'
    )
    results = run(path)
    assert [r["id"] for r in results] == ["1", "2", "3"]
    first = results[0]
    assert first["label"] == "negative"
    phone = [m for m in first["mentions"] if m["theme"] == "phone_access"]
    assert phone and all(m["polarity"] == "complaint" for m in phone)
    text = "The phone rang and rang.\r\nNobody ever answered."
    for m in first["mentions"]:
        assert text[m["span"][0]:m["span"][1]] == m["evidence"]
        assert set(m) == {"theme", "polarity", "sentence", "span", "evidence", "score", "rule"}
    assert results[1]["label"] == "positive"
    assert results[2]["vader_compound"] is None and results[2]["label"] == "positive"  # from the stars


def test_json_lines_input(tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text(
        '{"id": "a", "text": "They never called me back."}\n\n{"id": 7, "text": "Clean and modern office.", "rating": 5}\n',
        encoding="utf-8",
    )
    results = run(path)
    assert [(r["id"], r["label"]) for r in results] == [("a", "negative"), ("7", "positive")]
    assert [(m["theme"], m["polarity"], m["sentence"]) for m in results[0]["mentions"]] == [("callbacks", "complaint", 0)]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", "id,comment\n1,hello\n", "bad.csv: line 1: no `text` column"),
        ("bad.csv", "id,text,rating\n1,hello,5\n2,bye,seven\n", "bad.csv: line 3: rating 'seven' is not a number"),
        ("bad.csv", "id,text,rating\n1,hello,9\n", "bad.csv: line 2: rating '9' is not a whole number from 1 to 5"),
        ("bad.jsonl", '{"id": 1, "text": "ok"}\n{"id": 2, "text": \n', "bad.jsonl: line 2: invalid JSON"),
        ("bad.jsonl", '["id", "text"]\n', "bad.jsonl: line 1: each line must be a JSON object"),
        ("bad.jsonl", '{"id": 1, "body": "x"}\n', "bad.jsonl: line 1: no `text` key"),
    ],
)
def test_bad_input_names_file_and_line_and_writes_nothing(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(ParseError) as excinfo:
        classify_file(path, out, load_taxonomy())
    assert str(excinfo.value).startswith(message)
    assert out.getvalue() == ""


def test_classify_texts_accepts_records_directly():
    (result,) = classify_texts([("x", "Had to pay $300 upfront.", None)])
    assert result["label"] == "negative"
    assert ("billing", "complaint") in {(m["theme"], m["polarity"]) for m in result["mentions"]}


def test_iter_texts_reads_a_bom_and_numbers_records_without_id(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_bytes("\ufefftext\nfirst\nsecond\n".encode("utf-8"))
    assert list(iter_texts(path)) == [("1", "first", None), ("2", "second", None)]


def test_cli_classify_writes_json_lines_and_reports_bad_input(practice_dir, tmp_path):
    from click.testing import CliRunner

    from cli import main

    config = str(practice_dir / "reviewpulse.toml")
    good = tmp_path / "in.csv"
    good.write_text('id,text\n1,"The bill was wrong, they charged me twice."\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", config, "classify", str(good)])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    assert json.loads(line)["mentions"][0]["theme"] == "billing"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body\n1,x\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", config, "classify", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv: line 1: no `text` column" in result.output
