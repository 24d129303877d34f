"""analyze_pending over a real DuckDB file: incremental, versioned, rescore, staff roster, bulk rows."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis.pipeline import analyze_pending
from config import load_settings
from db import connect
from ingest.model import Review
from ingest.store import ImportTarget, save_import

WHEN = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)
TARGET = ImportTarget("platform", "csv", "ratemd", "test-export.csv")


def save(con, *reviews: Review) -> None:
    save_import(con, TARGET, reviews, lambda r: "main")


def review(rid: str, text: str | None, rating: int | None = 3) -> Review:
    return Review(source_review_id=rid, text=text, rating=rating, created_at=WHEN, updated_at=WHEN)


@pytest.fixture
def con(settings):
    connection = connect(settings.database_path)
    yield connection
    connection.close()


def sentiment_rows(con):
    return con.execute(
        "SELECT review_id, vader_compound, label, analyzer_version FROM review_sentiment ORDER BY review_id"
    ).fetchall()


def test_first_run_analyses_everything_and_writes_every_table(settings, con):
    text = "The receptionist was rude. They never called me back!"
    save(con, review("a", text, 2), review("b", None, 5), review("c", "No wait at all, lovely nurse.", 5))
    summary = analyze_pending(con, settings)
    assert summary.reviews_analyzed == 3
    assert str(summary).startswith("analysed 3 reviews")
    rows = sentiment_rows(con)
    assert [(r[0], r[2]) for r in rows] == [("ratemd:a", "negative"), ("ratemd:b", "positive"), ("ratemd:c", "positive")]
    assert rows[0][1] == SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    assert rows[1][1] is None  # no text, no VADER
    assert {r[3] for r in rows} == {summary.analyzer_version}
    sentences = con.execute(
        "SELECT sentence_index, substring(r.text, char_start + 1, char_end - char_start) FROM review_sentences"
        " JOIN reviews r USING (review_id) WHERE review_id = 'ratemd:a' ORDER BY 1"
    ).fetchall()
    assert sentences == [(0, "The receptionist was rude."), (1, "They never called me back!")]
    mentions = con.execute(
        "SELECT theme, polarity, sentence_index, substring(r.text, char_start + 1, char_end - char_start)"
        " FROM mentions JOIN reviews r USING (review_id) WHERE review_id = 'ratemd:a' ORDER BY sentence_index, theme"
    ).fetchall()
    assert mentions == [
        ("front_desk", "complaint", 0, "The receptionist was rude."),
        ("callbacks", "complaint", 1, "They never called me back!"),
    ]
    assert con.execute("SELECT count(*) FROM theme_flags WHERE location_id IN ('main', '*')").fetchone()[0] > 0


def test_second_run_does_nothing_and_an_edited_review_is_reanalysed(settings, con):
    save(con, review("a", "Great visit.", 5), review("b", "Fine.", 4))
    analyze_pending(con, settings)
    first = con.execute("SELECT review_id, analyzed_at FROM review_sentiment ORDER BY 1").fetchall()
    again = analyze_pending(con, settings)
    assert again.reviews_analyzed == 0
    assert str(again).startswith("nothing to analyse")
    assert con.execute("SELECT review_id, analyzed_at FROM review_sentiment ORDER BY 1").fetchall() == first

    edited = Review(source_review_id="a", text="I was charged twice for one visit.", rating=1, created_at=WHEN,
                    updated_at=datetime(2026, 3, 9, tzinfo=timezone.utc))
    save(con, edited)
    summary = analyze_pending(con, settings)
    assert summary.reviews_analyzed == 1
    assert con.execute("SELECT label FROM review_sentiment WHERE review_id = 'ratemd:a'").fetchone() == ("negative",)
    # the old mentions of the edited review are replaced, not added to
    assert con.execute("SELECT theme, polarity FROM mentions WHERE review_id = 'ratemd:a'").fetchall() == [("billing", "complaint")]
    assert con.execute("SELECT count(*) FROM review_sentiment").fetchone() == (2,)


def test_rescore_reanalyses_all_history(settings, con):
    save(con, review("a", "Great visit.", 5), review("b", "Long wait, two hours.", 2))
    analyze_pending(con, settings)
    before = con.execute("SELECT count(*) FROM mentions").fetchone()
    summary = analyze_pending(con, settings, rescore=True)
    assert summary.reviews_analyzed == 2
    assert con.execute("SELECT count(*) FROM mentions").fetchone() == before  # replaced, not duplicated
    # one row per review: the table has no key to refuse a second (schema/0011)
    assert con.execute("SELECT review_id, count(*) FROM review_sentiment GROUP BY 1 ORDER BY 1").fetchall() == [
        ("ratemd:a", 1), ("ratemd:b", 1)]


def test_taxonomy_change_changes_the_version_and_reanalyses(practice_dir, con):
    settings = load_settings(practice_dir / "reviewpulse.toml", environ={})
    save(con, review("a", "The valet scratched my car.", 1))
    first = analyze_pending(con, settings)
    assert con.execute("SELECT count(*) FROM mentions WHERE theme = 'valet'").fetchone() == (0,)
    (practice_dir / "themes.toml").write_text(
        '[themes.valet]\nname = "Valet parking"\ncomplaint = ["valet\\\\s+scratched"]\n', encoding="utf-8"
    )
    path = practice_dir / "reviewpulse.toml"
    path.write_text('themes_file = "themes.toml"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    changed = load_settings(path, environ={})
    second = analyze_pending(con, changed)
    assert second.analyzer_version != first.analyzer_version
    assert second.reviews_analyzed == 1
    assert con.execute("SELECT theme, polarity FROM mentions").fetchall() == [("valet", "complaint")]
    assert con.execute("SELECT DISTINCT analyzer_version FROM review_sentiment").fetchall() == [(second.analyzer_version,)]


def test_staff_roster_from_settings_is_used_and_versioned(practice_dir, con):
    path = practice_dir / "reviewpulse.toml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n[[staff]]\nname = "Maria Gomez"\nnicknames = ["Mimi"]\nrole = "receptionist"\n',
        encoding="utf-8",
    )
    settings = load_settings(path, environ={})
    save(con, review("a", "Mimi was so helpful. Dr. Reyes rushed me out.", 4))
    summary = analyze_pending(con, settings)
    rows = con.execute(
        "SELECT staff_name, role, matched_text, sentence_index, polarity, analyzer_version FROM staff_mentions ORDER BY char_start"
    ).fetchall()
    assert rows == [
        ("Maria Gomez", "receptionist", "Mimi", 0, "praise", summary.analyzer_version),
        ("Dr. Reyes", "doctor", "Dr. Reyes", 1, "complaint", summary.analyzer_version),
    ]


def test_many_reviews_are_analysed_in_worker_processes(settings, con, monkeypatch):
    import analysis.pipeline as pipeline

    monkeypatch.setattr(pipeline, "PARALLEL_MIN_REVIEWS", 10)
    texts = ["Nobody answers the phone.", "Lovely nurse, no wait.", "Charged twice for one visit."]
    save(con, *[review(f"r{i}", texts[i % 3], 1 + i % 5) for i in range(60)])
    summary = analyze_pending(con, settings, workers=2)
    assert (summary.workers, summary.reviews_analyzed) == (2, 60)
    parallel = con.execute("SELECT review_id, score, label FROM review_sentiment ORDER BY 1").fetchall()
    parallel_mentions = con.execute("SELECT review_id, theme, polarity FROM mentions ORDER BY ALL").fetchall()
    serial = analyze_pending(con, settings, rescore=True, workers=1)
    assert serial.workers == 1
    assert con.execute("SELECT review_id, score, label FROM review_sentiment ORDER BY 1").fetchall() == parallel
    assert con.execute("SELECT review_id, theme, polarity FROM mentions ORDER BY ALL").fetchall() == parallel_mentions
    again = analyze_pending(con, settings, rescore=True, workers=2)
    assert (again.workers, again.reviews_analyzed) == (2, 60)
    assert con.execute("SELECT review_id, score, label FROM review_sentiment ORDER BY 1").fetchall() == parallel


def test_analysis_rows_carry_the_review_time_and_a_changed_time_is_analysed_again(settings, con):
    save(con, review("a", "Nobody answers the phone. Dr. Lee was lovely.", 2), review("b", "Great visit.", 5))
    analyze_pending(con, settings)
    times = "SELECT DISTINCT '{0}', review_id, created_at FROM {0} ORDER BY ALL"
    expected = [(t, rid, WHEN) for t in ("mentions", "review_sentiment") for rid in ("ratemd:a", "ratemd:b")
                if t == "review_sentiment" or rid == "ratemd:a"]
    assert [row for t in ("mentions", "review_sentiment") for row in con.execute(times.format(t)).fetchall()] == expected
    assert con.execute("SELECT DISTINCT created_at FROM staff_mentions").fetchall() == [(WHEN,)]
    later = datetime(2026, 3, 5, 9, 0, tzinfo=timezone.utc)
    con.execute("UPDATE reviews SET created_at = ? WHERE review_id = 'ratemd:a'", [later])
    assert analyze_pending(con, settings).reviews_analyzed == 1
    assert con.execute(
        "SELECT DISTINCT created_at FROM (SELECT created_at FROM review_sentiment WHERE review_id = 'ratemd:a'"
        " UNION ALL SELECT created_at FROM mentions UNION ALL SELECT created_at FROM staff_mentions)"
    ).fetchall() == [(later,)]


def test_an_analysed_database_from_before_the_time_column_is_upgraded_in_place(settings, tmp_path, monkeypatch):
    """Migration 0007 on an existing database: every analysis row gets its review's time, rows are
    kept and stored in time order, and the next analysis finds nothing to redo."""
    import db

    times = [datetime(2026, 3, d, 12, 0, tzinfo=timezone.utc) for d in (9, 2, 5)]
    current = connect(tmp_path / "current.duckdb")
    save_import(current, TARGET, [
        Review(source_review_id=rid, text=text, rating=stars, created_at=when, updated_at=when)
        for rid, text, stars, when in (
            ("a", "Nobody answers the phone. Dr. Lee was lovely.", 2, times[0]),
            ("b", "They never called me back about my results.", 1, times[1]),
            ("c", "Lovely nurse, no wait at all.", 5, times[2]),
        )
    ], lambda r: "main")
    analyze_pending(current, settings)
    tables = ("reviews", "review_versions", "review_sentiment", "review_sentences", "mentions", "staff_mentions", "theme_flags")
    counts = {t: current.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    assert counts["mentions"] >= 3 and counts["staff_mentions"] >= 1
    current.close()

    # The same data in a database that has every migration before 0007, analysis rows in review_id order.
    older = [m for m in db.list_migrations() if m[0] < 7]
    with monkeypatch.context() as patch:
        patch.setattr(db, "list_migrations", lambda: older)
        old = connect(settings.database_path)
    old.execute(f"ATTACH '{tmp_path / 'current.duckdb'}' AS cur (READ_ONLY)")
    for table in tables:
        has_time = table in ("review_sentiment", "mentions", "staff_mentions")
        old.execute(f"INSERT INTO {table} SELECT * {'EXCLUDE (created_at)' if has_time else ''} FROM cur.{table}"
                    f" ORDER BY {'review_id' if table != 'theme_flags' else 'ALL'}")
    old.execute("DETACH cur")
    old.close()

    upgraded = connect(settings.database_path)
    try:
        assert {t: upgraded.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables} == counts
        for table in ("review_sentiment", "mentions", "staff_mentions"):
            assert upgraded.execute(
                f"SELECT count(*) FROM {table} a JOIN reviews r USING (review_id) WHERE a.created_at = r.created_at"
            ).fetchone()[0] == counts[table], table
            stored = [t for (t,) in upgraded.execute(f"SELECT created_at FROM {table} ORDER BY rowid").fetchall()]
            assert stored == sorted(stored), table
        assert analyze_pending(upgraded, settings).reviews_analyzed == 0
    finally:
        upgraded.close()
