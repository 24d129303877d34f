"""The demo's weekly report in headless Chromium, driven over the DevTools protocol.

The demo practice (examples/demo) is collected and analysed into a temporary database, with one
extra hostile review whose text carries `<script>` and `<img onerror>` payloads; its newest weekly
report is opened in Debian's /usr/bin/chromium. The test checks that nothing runs, nothing is
fetched, nothing is logged to the console, the flagged themes and their highlighted quotes are
visible, and saves docs/report.png (the README's screenshot). Installs nothing: skipped when
Chromium is absent (the test command installs it).
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

import db
from config import DEMO_CONFIG, load_settings
from ingest.model import Review
from ingest.store import ImportTarget, save_import
from reports.context import build_context
from reports.site import write_reports

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / "docs" / "report.png"
DEMO_WEEK = date(2026, 11, 9)  # 2026-W46, the demo's last week
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)
HOSTILE = (
    "Nobody answers the phone, I called nine times this week. "
    "<script>window.__pwned = 1; alert('script')</script> "
    "<img src=x onerror=\"window.__pwned = 2; alert('img')\"> "
    "<a href=\"javascript:alert(3)\">call us</a>"
)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium (the test command installs it)"),
    pytest.mark.skipif(not DEMO_CONFIG.exists(), reason="the demo practice (examples/demo) is missing"),
]


class DevTools:
    """A minimal Chrome DevTools protocol client over one websocket (flat sessions)."""

    def __init__(self, url: str):
        from websockets.sync.client import connect

        self.ws = connect(url, max_size=None, open_timeout=30)
        self.events: list[dict] = []
        self._next = 0

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            data = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if data.get("id") == self._next:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data["result"]
            self.events.append(data)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def pump(self, seconds: float) -> None:
        """Collect the events that arrive within `seconds` (late errors, delayed requests)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium with a fresh profile and the DevTools endpoint on a free loopback port."""
    profile = tempfile.mkdtemp(prefix="reviewpulse-chromium-")
    process = subprocess.Popen(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio", f"--user-data-dir={profile}",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    endpoint = None
    deadline = time.monotonic() + 60
    while endpoint is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if "DevTools listening on " in line:
            endpoint = line.split("DevTools listening on ", 1)[1].strip()
    if endpoint is None:
        process.kill()
        pytest.fail("chromium did not report its DevTools endpoint within 60 s")
    client = DevTools(endpoint)
    yield client
    client.close()
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo practice collected, with one hostile review added, analysed and reported (week 2026-W46)."""
    from analysis.pipeline import analyze_pending
    from ingest.collect import collect_all

    folder = tmp_path_factory.mktemp("demo")
    settings = load_settings(DEMO_CONFIG, environ={})
    settings = settings.model_copy(update={
        "data_dir": folder / "state", "inbox": folder / "inbox",
        "reports": settings.reports.model_copy(update={"dir": folder / "site", "email": None}),
    })
    con = db.connect(settings.database_path, timezone=settings.timezone)
    collect_all(con, settings)
    hostile = Review(
        source_review_id="hostile-1", text=HOSTILE, rating=1, author="<img src=x onerror=alert(4)>",
        # The week before the report's: it shows among the reviews needing a reply, not in the screenshot.
        created_at=datetime(2026, 11, 4, 17, 0, tzinfo=timezone.utc), location_ref=settings.locations[1].id,
    )
    save_import(con, ImportTarget("browser-test", "csv", "browser-test", "hostile.csv"), [hostile], lambda r: r.location_ref)
    analyze_pending(con, settings, workers=1)
    run = write_reports(con, settings, weeks=[DEMO_WEEK], now=NOW)
    expected = build_context(con, settings, None, DEMO_WEEK)
    con.close()
    return run, expected


def open_page(browser: DevTools, page: Path) -> tuple[str, list[dict]]:
    """Open `page` in a new tab; return its session and the events it caused."""
    target = browser.call("Target.createTarget", url="about:blank")["targetId"]
    session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable", session)
    browser.call("Emulation.setDeviceMetricsOverride", session, width=1100, height=900, deviceScaleFactor=1, mobile=False)
    start = len(browser.events)
    browser.call("Page.navigate", session, url=page.as_uri())
    browser.wait_for("Page.loadEventFired")
    browser.pump(1.0)
    return session, [e for e in browser.events[start:] if e.get("sessionId") == session]


INSPECT = """
(() => {
  const shown = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
                        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  return JSON.stringify({
    pwned: window.__pwned === undefined ? null : window.__pwned,
    active: document.querySelectorAll('script, img, iframe, object, embed, [onerror], [onload], a[href^="javascript:"]').length,
    payloadShownAsText: document.body.innerText.includes("<script>window.__pwned = 1; alert('script')</script>")
                        && document.body.innerText.includes('<img src=x onerror='),
    flagged: [...document.querySelectorAll('#flagged article.theme')].map(a => ({
      theme: a.dataset.theme, shown: shown(a), heading: a.querySelector('h3').innerText,
      marks: [...a.querySelectorAll('mark')].filter(shown).map(m => m.innerText)})),
    figures: [...document.querySelectorAll('[data-figure]')].filter(shown).map(f => f.dataset.figure),
  });
})()
"""


def test_the_demo_report_is_inert_offline_and_shows_flagged_themes_with_quotes(chromium, demo):
    run, expected = demo
    page = run.newest
    assert page is not None and page.parent.name == "2026-W46"

    session, events = open_page(chromium, page)
    state = json.loads(chromium.call("Runtime.evaluate", session, expression=INSPECT, returnByValue=True)["result"]["value"])

    methods = [e["method"] for e in events]
    assert "Page.javascriptDialogOpening" not in methods  # no alert() ran
    console = [e["params"] for e in events if e["method"] in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown")]
    errors = [e["params"]["entry"] for e in events if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
    assert console == [] and errors == []
    requested = {e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"}
    assert requested == {page.as_uri()}  # the page itself, nothing else
    assert "browser-test:hostile-1" in [q.review_id for q in expected.needs_reply]
    assert state["pwned"] is None and state["active"] == 0 and state["payloadShownAsText"]
    assert state["figures"] == ["new_reviews", "average_rating", "share_negative", "sentiment", "reply_rate", "median_reply_hours"]
    assert expected.flagged, "the demo's last week should flag the rising phone and call-back complaints"
    assert [f["theme"] for f in state["flagged"]] == [f.theme for f in expected.flagged]
    for shown, theme in zip(state["flagged"], expected.flagged):
        assert shown["shown"] and theme.label in shown["heading"]
        assert len(shown["marks"]) >= len(theme.quotes)  # every quote shows its highlighted evidence
    assert state["flagged"][0]["marks"]

    metrics = chromium.call("Page.getLayoutMetrics", session)
    height = min(int(metrics["cssContentSize"]["height"]), 1700)
    shot = chromium.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": 1100, "height": height, "scale": 1})
    import base64

    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.write_bytes(base64.b64decode(shot["data"]))
    assert SCREENSHOT.stat().st_size > 20_000


def test_theme_and_index_pages_load_without_errors_or_requests(chromium, demo):
    run, expected = demo
    site = run.newest.parent.parent
    for page in [site / "index.html", site / "themes" / f"{expected.flagged[0].theme}.html"]:
        session, events = open_page(chromium, page)
        bad = [e for e in events if e["method"] in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Page.javascriptDialogOpening")
               or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
        requested = {e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"}
        assert (bad, requested) == ([], {page.as_uri()}), page.name
        count = chromium.call("Runtime.evaluate", session, expression="document.querySelectorAll('script, img').length", returnByValue=True)
        assert count["result"]["value"] == 0
