"""Shared fixtures: a practice configured in a temporary folder, and paths to the sample exports."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from config import Settings, load_settings

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

BASE_CONFIG = """\
practice = "Test Family Practice"
timezone = "America/Chicago"
data_dir = "state"

[[locations]]
id = "main"
name = "Main Street"
google_location_ids = ["1001"]
aliases = ["Main St"]

[[locations]]
id = "east"
name = "East Side"
google_location_ids = ["2002"]

[[sources]]
name = "google"
type = "google"
path = "exports/google"

[[sources]]
name = "platform"
type = "csv"
path = "exports/platform"
platform = "ratemd"
[sources.columns]
id = "Review ID"
location = "Clinic"
author = "Patient"
rating = "Stars"
date = "Date"
text = "Comment"
reply = "Response"
"""


def write_config(folder: Path, extra: str = "", base: str = BASE_CONFIG) -> Path:
    """Write reviewpulse.toml into `folder` (base settings plus `extra` TOML) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reviewpulse.toml"
    path.write_text(base + textwrap.dedent(extra), encoding="utf-8")
    return path


@pytest.fixture
def practice_dir(tmp_path: Path) -> Path:
    """A practice folder with a config and empty export folders."""
    write_config(tmp_path)
    (tmp_path / "exports" / "google").mkdir(parents=True)
    (tmp_path / "exports" / "platform").mkdir(parents=True)
    return tmp_path


@pytest.fixture
def settings(practice_dir: Path) -> Settings:
    return load_settings(practice_dir / "reviewpulse.toml", environ={})


def copy_fixture(name: str, dest: Path) -> Path:
    """Copy a file or folder from tests/fixtures to `dest` (a folder) and return the copy."""
    src = FIXTURES / name
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / src.name
    if src.is_dir():
        shutil.copytree(src, target)
    else:
        shutil.copy(src, target)
    return target
