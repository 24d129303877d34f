"""The performance benchmark rewrites only its figures in benchmarks/README.md and names what it measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import pipeline  # noqa: E402

README = """# Benchmarks

## Quality

Quality figures.

## Performance

<!-- performance:begin -->
| old | table |
<!-- performance:end -->

### Notes on the figures, run by run

- A note written by hand about an earlier run.
"""


def test_write_section_replaces_only_the_figures_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")

    pipeline.write_section("| new | table |\n\nNotes on the figures:\n\n- generated\n", readme)

    assert readme.read_text(encoding="utf-8") == README.replace(
        "| old | table |", "| new | table |\n\nNotes on the figures:\n\n- generated")


def test_write_section_refuses_a_readme_without_markers_and_leaves_it_alone(tmp_path):
    readme = tmp_path / "README.md"
    text = README.replace("<!-- performance:end -->\n", "")
    readme.write_text(text, encoding="utf-8")

    with pytest.raises(SystemExit, match=r"README\.md: needs one <!-- performance:begin --> \.\.\. <!-- performance:end -->"):
        pipeline.write_section("| new | table |", readme)

    assert readme.read_text(encoding="utf-8") == text


def test_the_project_readme_has_the_markers():
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    assert text.count(pipeline.BEGIN) == text.count(pipeline.END) == 1
    assert text.index("## Performance") < text.index(pipeline.BEGIN) < text.index(pipeline.END)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin:/usr/local/bin",
                        "HOME": str(cwd)})


def test_describe_commit_names_the_commit_and_a_changed_work_tree(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n", encoding="utf-8")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "one")
    head = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=tmp_path, check=True, capture_output=True,
                          text=True).stdout.strip()

    assert pipeline.describe_commit(tmp_path) == head
    (tmp_path / "a.txt").write_text("two\n", encoding="utf-8")
    assert pipeline.describe_commit(tmp_path) == f"{head}-dirty"


def test_describe_commit_outside_a_checkout(tmp_path):
    assert pipeline.describe_commit(tmp_path) == "not recorded"
