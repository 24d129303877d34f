"""The demo practice's database, built once per test session by the real collect and analysis stages.

Used by the analyst tests (example queries, exports, `reviewpulse sql`): they need a database with
every table filled the way production fills it, not hand-made rows.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import db
from config import DEMO_CONFIG, Settings, load_settings

_built: dict[str, Settings] = {}


def build_demo_database(folder: Path) -> Settings:
    """Collect and analyse the demo exports into `folder`; return the demo settings pointing there."""
    from analysis.pipeline import analyze_pending
    from ingest.collect import collect_all

    settings = load_settings(DEMO_CONFIG, environ={})
    settings = settings.model_copy(
        update={"data_dir": folder, "reports": settings.reports.model_copy(update={"dir": folder / "site"})}
    )
    with db.open_job(settings) as con:
        results = collect_all(con, settings)
        assert [r.status for r in results if r.status == "failed"] == [], [r.error for r in results]
        analyze_pending(con, settings, workers=1)
    return settings


def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session's demo database (built on first use). Tests must only read it."""
    if "demo" not in _built:
        if not DEMO_CONFIG.exists():
            pytest.fail(f"{DEMO_CONFIG} is missing: the analyst tests run against the demo practice")
        _built["demo"] = build_demo_database(tmp_path_factory.mktemp("demo"))
    return _built["demo"]


def write_cli_config(settings: Settings, folder: Path) -> Path:
    """A settings file for the CLI that points at `settings`' database; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reviewpulse.toml"
    locations = "".join(
        f'\n[[locations]]\nid = "{loc.id}"\nname = "{loc.id}"\n' for loc in settings.locations
    )
    path.write_text(
        textwrap.dedent(f"""\
            practice = "Analyst test"
            timezone = "{settings.timezone}"
            data_dir = "{settings.data_dir.as_posix()}"
        """) + locations,
        encoding="utf-8",
    )
    return path
