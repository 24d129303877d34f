"""The literal scan in C (analysis/_scan.c, tables from analysis/automaton.py) gives exactly the scan
pyahocorasick's matches give: the same found bits and the same start bits at the same positions.

Checked on the analyzer's own literals (the cue lists and the themes) over benchmark clauses, real
patient feedback and tricky texts, and on generated literal sets whose matches overlap, nest and
repeat, with characters outside Latin-1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from analysis import automaton
from analysis.analyzer import Analyzer
from analysis.literals import fold
from analysis.matcher import LiteralScan
from analysis.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_perf_equivalence import TRICKY_CLAUSES, _clauses, _real_clauses  # noqa: E402

pytestmark = pytest.mark.skipif(
    not automaton.native_available(), reason="analysis/_scan.c is not built: reinstall with a C compiler (pip install -e .)")


def _pair(found_bits: dict[str, int], start_bits: dict[str, int]) -> tuple[LiteralScan, LiteralScan]:
    """The same literals scanned in C and by pyahocorasick."""
    scans = LiteralScan(native=True), LiteralScan(native=False)
    for scan in scans:
        scan._found_bits, scan._start_bits, scan._built = dict(found_bits), dict(start_bits), False
    return scans


def test_the_analyzer_scans_in_c():
    analyzer = Analyzer(load_taxonomy())
    scan = analyzer.index._scan
    scan.scan("nobody called me back")
    assert scan._compiled is not None and scan._automaton is None


def test_c_scan_equals_the_automaton_scan_on_the_analyzers_literals():
    analyzer = Analyzer(load_taxonomy())
    literals = analyzer.index._scan
    native, python = _pair(literals._found_bits, literals._start_bits)
    texts = _clauses(400, seed=41) + _real_clauses(800) + TRICKY_CLAUSES + [
        "£600 upfront!!", "€50 deposit", "ring ring ring ring", "callcallcall back back", "x" * 5000]
    found = starts = 0
    for text in texts:
        expected = python.scan(text)
        assert native.scan(text) == expected, text
        found += expected[0] != 0
        starts += len(expected[1])
    assert found > len(texts) * 0.9 and starts > 10 * len(texts)  # the literals occur: the check compares something


@settings(max_examples=300, deadline=None)
@given(
    literals=st.dictionaries(
        st.text(alphabet="abcé€ ", min_size=1, max_size=5),
        st.tuples(st.integers(0, 2**140 - 1), st.integers(0, 2**90 - 1)),
        min_size=1, max_size=25,
    ),
    texts=st.lists(st.text(alphabet="abcdé€ \U0001f600", max_size=60), min_size=1, max_size=8),
)
def test_c_scan_equals_the_automaton_scan_on_overlapping_literals(literals, texts):
    native, python = _pair({k: f for k, (f, _) in literals.items()}, {k: s for k, (_, s) in literals.items() if s})
    for text in texts:
        assert native.scan(text) == python.scan(text), (literals, text)


def test_tables_that_do_not_fit_are_refused():
    good = automaton.compile_automaton({"ab": (1, 2)})
    assert good.scan(fold("xaby")) == (1, [(1, 2)])
    with pytest.raises(ValueError, match="transitions"):
        automaton._scan.Automaton("ab", b"\x05\x00\x00\x00" * 9, b"\xff\xff\xff\xff" * 3, b"", 1, bytes(24), b"", b"", 1)
    with pytest.raises(ValueError, match="chars"):
        automaton._scan.Automaton("ba", bytes(36), b"\xff\xff\xff\xff" * 3, b"", 1, bytes(24), b"", b"", 1)
