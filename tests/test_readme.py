"""The README's promises: every source type is listed with a config example that really loads."""

from __future__ import annotations

import re
import typing

import pytest

from config import SourceType, load_settings

from conftest import REPO

ROW = re.compile(r"^\| `(?P<type>[a-z_]+)` \| .* \| `(?P<example>\{.*\})` \|$")


def readme_sources() -> dict[str, str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Supported sources", 1)[1].split("\n## ", 1)[0]
    return {m["type"]: m["example"] for m in map(ROW.match, section.splitlines()) if m}


def test_every_source_type_is_listed():
    assert sorted(readme_sources()) == sorted(typing.get_args(SourceType))


@pytest.mark.parametrize(("kind", "example"), sorted(readme_sources().items()))
def test_each_one_line_example_is_a_valid_source(tmp_path, kind, example):
    config = tmp_path / "reviewpulse.toml"
    config.write_text(
        'practice = "Example Practice"\n'
        f"sources = [ {example} ]\n"
        '[[locations]]\nid = "main"\nname = "Main"\n',
        encoding="utf-8",
    )
    (source,) = load_settings(config, environ={}).sources
    assert source.type == kind
