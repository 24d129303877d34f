"""Every example query in docs/queries.md runs against the demo practice and answers with rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import db
from demo_database import demo_settings

QUERIES_MD = Path(__file__).resolve().parents[1] / "docs" / "queries.md"


def read_sql_blocks(text: str) -> list[tuple[int, str]]:
    """Return (line number, SQL) of every ```sql fenced block."""
    blocks = []
    for match in re.finditer(r"^```sql\n(.*?)^```", text, re.S | re.M):
        blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1)))
    return blocks


BLOCKS = read_sql_blocks(QUERIES_MD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo_con(tmp_path_factory):
    settings = demo_settings(tmp_path_factory)
    con = db.connect(settings.database_path, read_only=True)
    yield con
    con.close()


def test_the_docs_answer_the_questions_analysts_ask():
    headings = re.findall(r"^## (.+)$", QUERIES_MD.read_text(encoding="utf-8"), re.M)
    for question in ("Complaint share by theme by month", "Locations ranked by phone-access complaints",
                     "Themes that co-occur", "Reply time by location", "Staff named most often"):
        assert question in headings
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("line, query", BLOCKS, ids=[f"queries.md:{line}" for line, _ in BLOCKS])
def test_example_query_runs_on_the_demo_database_and_returns_rows(demo_con, line, query):
    rows = demo_con.execute(query).fetchall()
    assert rows, f"docs/queries.md line {line}: the example returned no rows on the demo practice"


def test_demo_views_give_local_weeks_and_evidence(demo_con):
    # The demo practice is in America/Chicago: a review written late on a Sunday evening there is
    # already Monday in UTC, and must count in the week it was written locally.
    assert demo_con.execute("SELECT practice_timezone()").fetchone() == ("America/Chicago",)
    mismatched = demo_con.execute(
        "SELECT count(*) FROM v_reviews WHERE created_date <> CAST(timezone('America/Chicago', created_at) AS DATE)"
        " OR week_start <> date_trunc('week', CAST(timezone('America/Chicago', created_at) AS DATE))"
        " OR iso_week <> strftime(timezone('America/Chicago', created_at), '%G-W%V')"
    ).fetchone()[0]
    assert mismatched == 0
    # Every evidence is the exact span of the review text the analysis pointed at.
    mentions = demo_con.execute(
        "SELECT m.evidence, r.text, m.char_start, m.char_end FROM v_mentions m JOIN reviews r USING (review_id)"
    ).fetchall()
    assert mentions
    assert all(evidence == text[start:end] and evidence.strip() for evidence, text, start, end in mentions)
