"""write_reports(): the static site's pages, links, safety, and idempotent re-runs."""

from __future__ import annotations

import json
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from report_fixtures import NOW, WEEK, build_database, build_settings, local, review_id
from reports.paths import review_anchor
from reports.site import write_reports


class _Page(HTMLParser):
    """Collects links, ids, tags and attribute names of one page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name == "id":
                self.ids.add(value)
            if name == "href":
                self.links.append(value)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _write_site(folder: Path):
    con = build_database(folder)
    settings = build_settings(folder)
    return con, settings, write_reports(con, settings, now=NOW)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A site written once, for the tests that only read it."""
    con, settings, run = _write_site(tmp_path_factory.mktemp("site"))
    yield con, settings, run
    con.close()


@pytest.fixture
def site(tmp_path):
    """A site of its own, for tests that change the database and write again."""
    con, settings, run = _write_site(tmp_path)
    yield con, settings, run
    con.close()


def week_pages(site_dir: Path) -> list[Path]:
    return sorted(site_dir.glob("20*-W*/*.html"))


def test_one_page_per_finished_week_and_location_an_index_and_theme_pages(written):
    con, settings, run = written
    root = settings.site_dir

    # Weeks from the first review (2025-W40) to the last finished one (2026-W09): 22 weeks, 3 pages each.
    weeks = sorted({p.parent.name for p in week_pages(root)})
    assert (weeks[0], weeks[-1], len(weeks)) == ("2025-W40", "2026-W09", 22)
    assert sorted(p.name for p in (root / "2026-W09").glob("*.html")) == ["index.html", "location-east.html", "location-main.html"]
    assert not (root / "2026-W10").exists()  # the current week is not finished
    assert {"phone_access", "billing", "callbacks", "front_desk", "wait_time", "provider_manner"} <= {p.stem for p in (root / "themes").glob("*.html")}
    assert run.newest == root / "2026-W09" / "index.html"
    assert set(run.pages) == set(week_pages(root)) | set((root / "themes").glob("*.html")) | {root / "index.html"}
    assert str(run).startswith(f"reports: wrote {len(run.pages)} page(s), 0 unchanged, in {root}")
    summary = json.loads((root / "2026-W09" / "index.email.json").read_text(encoding="utf-8"))
    assert summary["subject"] == "Riverside Family Medicine: reviews week 2026-W09 – 5 new, 2 flagged themes, 4 awaiting a reply"


def test_every_relative_link_and_anchor_resolves(written):
    _, settings, _ = written
    assert count_resolved_links(settings.site_dir) > 500


def count_resolved_links(root: Path) -> int:
    """Check that every link of every page resolves, anchors included; return how many there are."""
    pages = {p: parse(p) for p in root.rglob("*.html")}
    checked = 0
    for path, page in pages.items():
        for href in page.links:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, f"{path.name}: external link {href}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target in pages, f"{path.relative_to(root)}: broken link {href}"
            if parts.fragment:
                assert parts.fragment in pages[target].ids, f"{path.relative_to(root)}: missing anchor {href}"
            checked += 1
    return checked


def test_busy_weeks_show_the_first_reviews_and_quotes_and_link_the_rest_where_they_are(tmp_path, monkeypatch):
    import reports.context
    import reports.overview

    # Limits this small make the fixture's weeks "busy" (a real page shows 100 reviews and 10 quotes).
    for module in (reports.context, reports.overview):
        monkeypatch.setattr(module, "WEEK_REVIEWS_SHOWN", 2)
    monkeypatch.setattr(reports.context, "NEEDS_REPLY_SHOWN", 1)
    monkeypatch.setattr(reports.context, "QUOTES_PER_THEME", 1)
    con, settings, run = _write_site(tmp_path)
    html = run.newest.read_text(encoding="utf-8")

    assert "This week's reviews (5)</h2>" in html and "The first 2 are listed here" in html
    assert html.count('<blockquote class="review" id="r-') == 2
    assert "Reviews that need a reply (4)</h2>" in html and "the oldest 1 are shown" in html
    assert 'the others are on <a href="../themes/phone_access.2026-Q1.html">' in html
    assert count_resolved_links(settings.site_dir) > 500  # quotes and replies link to pages that list them
    con.close()


def test_pages_are_self_contained_and_review_text_is_inert(written):
    _, settings, _ = written
    page = settings.site_dir / "2026-W09" / "index.html"
    html = page.read_text(encoding="utf-8")
    parsed = parse(page)

    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not {a for a in parsed.attributes if a.startswith("on")} and "src" not in parsed.attributes
    assert "&lt;script&gt;window.__pwned = 1; alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    assert "&lt;b&gt;Eve&lt;/b&gt; Attacker" in html
    assert "\u202e" not in html
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert "<mark>I called five times and nobody answered the phone.</mark>" in html
    # The quote links to the review's anchor on the theme's page of its quarter, built from the review id only.
    assert f'href="../themes/phone_access.2026-Q1.html#{review_anchor(review_id("m1"))}"' in html
    assert "@media print" in html


def test_a_rerun_rewrites_only_the_pages_whose_inputs_changed(site):
    con, settings, first = site
    root = settings.site_dir
    before = {p: p.stat().st_mtime_ns for p in week_pages(root)}

    everything = {p: p.stat().st_mtime_ns for p in root.rglob("*.html")}
    again = write_reports(con, settings, now=NOW)
    assert again.pages == []  # nothing changed: no page rewritten, not even the index or a theme page
    assert set(again.unchanged) == set(everything)
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.html")} == everything

    # The owner answers m5 (main, 2026-W08) and the next export brings the reply: that week and the
    # next (whose 12 weeks include it) change, for the practice and for Main Street, but not East Side
    # or earlier weeks.
    import_reply(con, review_id("m5"), local(WEEK, 8))
    changed = write_reports(con, settings, now=NOW)
    assert sorted(str(p.relative_to(root)) for p in changed.pages if p in before) == [
        "2026-W08/index.html", "2026-W08/location-main.html", "2026-W09/index.html", "2026-W09/location-main.html",
    ]
    # Pages of every week (the index, each theme's trend page) and the quarter pages of its quarter only.
    themes = {p.stem for p in (root / "themes").glob("*.html") if "." not in p.stem}
    assert {str(p.relative_to(root)) for p in changed.pages if p not in before} == {"index.html"} | {
        f"themes/{t}.html" for t in themes} | {f"themes/{t}.2026-Q1.html" for t in themes}
    assert review_anchor(review_id("m5")) not in _needs_reply_section(root / "2026-W09" / "index.html")


def import_reply(con, review: str, at) -> None:
    """What an import of a later export does when it brings an owner's reply: update the review, record the import."""
    (import_id,) = con.execute(
        "INSERT INTO imports (source, source_type, origin, started_at, finished_at, status, rows_seen, rows_updated)"
        " VALUES ('google', 'google', 'reviews.json', ?, ?, 'ok', 1, 1) RETURNING import_id", [at, at]).fetchone()
    con.execute("UPDATE reviews SET reply_at = ?, reply_text = 'Sorry', content_hash = content_hash || '+reply',"
                " last_import_id = ? WHERE review_id = ?", [at, import_id, review])


def test_a_run_when_nothing_was_imported_or_analysed_reads_no_review_and_no_page(site, monkeypatch):
    import reports.site

    con, settings, first = site
    root = settings.site_dir

    def refuse(*args, **kwargs):
        raise AssertionError("digested the reviews although nothing changed")

    monkeypatch.setattr(reports.site, "_Fingerprints", refuse)
    monkeypatch.setattr(reports.site, "_read_fingerprint", refuse)
    again = write_reports(con, settings, now=NOW)

    assert again.pages == [] and sorted(again.unchanged) == sorted(first.pages)
    assert again.newest == first.newest

    # A page deleted from the folder is written again, and only that page.
    (root / "2026-W05" / "location-east.html").unlink()
    monkeypatch.undo()
    assert write_reports(con, settings, now=NOW).pages == [root / "2026-W05" / "location-east.html"]


def _needs_reply_section(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    return html[html.index('id="needs-reply"'):html.index('id="praise"')]


def test_a_new_finished_week_adds_its_pages_and_links_the_previous_one_forward(site):
    con, settings, _ = site
    root = settings.site_dir
    assert "2026-W10" not in (root / "2026-W09" / "index.html").read_text(encoding="utf-8")

    run = write_reports(con, settings, now=NOW + timedelta(weeks=1))

    assert run.newest == root / "2026-W10" / "index.html"
    assert (root / "2026-W09" / "index.html") in run.pages  # its "next week" link changed
    assert 'href="../2026-W10/index.html"' in (root / "2026-W09" / "index.html").read_text(encoding="utf-8")
    assert (root / "2026-W08" / "index.html") not in run.pages


def test_explicit_weeks_write_only_those_weeks(tmp_path):
    con = build_database(tmp_path)
    settings = build_settings(tmp_path)

    run = write_reports(con, settings, weeks=[WEEK], now=NOW)

    assert week_pages(settings.site_dir) == sorted((settings.site_dir / "2026-W09").glob("*.html"))
    assert run.newest == settings.site_dir / "2026-W09" / "index.html"
    with pytest.raises(ValueError, match="Monday"):
        write_reports(con, settings, weeks=[date(2026, 2, 24)], now=NOW)
    con.close()


def test_before_analysis_the_pages_show_review_figures_and_say_themes_are_not_analysed(tmp_path):
    con = build_database(tmp_path, analysed=False)
    settings = build_settings(tmp_path)

    run = write_reports(con, settings, now=NOW)

    html = run.newest.read_text(encoding="utf-8")
    assert 'id="not-analysed"' in html and "Themes are not analysed yet" in html
    assert '<div class="big">5</div>' in html  # new reviews
    assert '<div class="big">3.00 ★</div>' in html  # average rating
    assert 'id="not-analysed"' in (settings.site_dir / "index.html").read_text(encoding="utf-8")
    con.close()


def test_an_empty_database_writes_just_the_index(tmp_path):
    import db

    con = db.connect(tmp_path / "empty.duckdb")
    settings = build_settings(tmp_path)

    run = write_reports(con, settings, now=NOW)

    assert run.pages == [settings.site_dir / "index.html"] and run.newest is None
    assert "No finished week with reviews yet." in run.pages[0].read_text(encoding="utf-8")
    con.close()
