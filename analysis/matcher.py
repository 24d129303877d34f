"""Matching the taxonomy against a clause with one keyword pass instead of a search per expression.

Searching every theme's expressions in every clause is what analysis spends most of its time on,
although most clauses mention one or two themes. `TaxonomyIndex` puts the literals each expression
needs (analysis/literals.py) into one Aho-Corasick automaton; one pass over a clause finds which
expressions can possibly match. `TaxonomyIndex.narrow(text, masked)` returns a view of the taxonomy
holding only the themes with such expressions, whose rules try only those expressions, in their
order. `analysis.themes.find_theme_hits` runs unchanged on the view, so the matching logic stays in
one place and gives exactly the hits it gives on the whole taxonomy (an expression skipped cannot
match: the text lacks every literal it needs). An expression that is tried is matched only where one
of its leading literals occurs (`StartIndex`), not at every character of the clause. The cue lists
and the themes share one automaton (`LiteralScan`), so a clause is scanned once for all of them.
tests/test_perf_equivalence.py checks both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import ahocorasick

from analysis.automaton import compile_automaton
from analysis.literals import fold, leading_literals, required_literals
from analysis.taxonomy import LIST_FIELDS, Rules, Taxonomy

VIEW_CACHE_SIZE = 50_000


def too_common(literal: str) -> bool:
    """A single letter or digit occurs in nearly every clause: finding it costs more than the
    expressions it would rule out. A symbol ("$") is rare enough."""
    return len(literal) == 1 and literal.isalnum()


def indexed_literals(regex: str) -> list[frozenset[str]]:
    """The sets of `required_literals(regex)` worth indexing: those without a string `too_common`.
    An expression with no set left is always tried."""
    return [group for group in required_literals(regex) if not any(map(too_common, group))]


class LiteralScan:
    """The literals of several indexes in one Aho-Corasick automaton: one pass over a text tells every
    index which of its literal sets occur (`found` bits) and where its expressions' matches can start
    (`start` bits by position).

    Each index takes its bits from `found_bit`/`start_bit`, so the bits of two indexes never overlap
    and each reads only its own. The automaton is (re)built at the first scan after literals were
    added. The last few texts' scans are kept: a clause and its masked form are read by the cue
    lists, the theme index and the start index in turn. With `analysis/_scan.c` built, the scan runs
    in C over the same literals (analysis/automaton.py), without a Python object per match;
    pyahocorasick scans otherwise (and with `native=False`).
    """

    def __init__(self, native: bool = True):
        # native: scan with analysis/_scan.c when it is built (`_compiled`), pyahocorasick otherwise.
        self.native = native
        self._compiled = None
        self._found_bits: dict[str, int] = {}
        self._start_bits: dict[str, int] = {}
        self._next_found = self._next_start = 0
        self._automaton: ahocorasick.Automaton | None = None
        self._built = True
        self._scans: dict[str, tuple[int, list[tuple[int, int]]]] = {}

    def found_bit(self, literals: Iterable[str]) -> int:
        """A new bit, set in the scan of a text holding one of `literals`."""
        bit = 1 << self._next_found
        self._next_found += 1
        for literal in literals:
            self._found_bits[literal] = self._found_bits.get(literal, 0) | bit
        self._built = False
        return bit

    def start_bit(self, literals: Iterable[str]) -> int:
        """A new bit, set at each position of a text where one of `literals` starts."""
        bit = 1 << self._next_start
        self._next_start += 1
        for literal in literals:
            self._start_bits[literal] = self._start_bits.get(literal, 0) | bit
        self._built = False
        return bit

    def _build(self) -> None:
        self._automaton = self._compiled = None
        literals = self._found_bits.keys() | self._start_bits.keys()
        if literals and self.native:
            self._compiled = compile_automaton(
                {literal: (self._found_bits.get(literal, 0), self._start_bits.get(literal, 0)) for literal in literals})
        if literals and self._compiled is None:
            self._automaton = ahocorasick.Automaton()
            for literal in sorted(literals):
                self._automaton.add_word(
                    literal, (len(literal), self._found_bits.get(literal, 0), self._start_bits.get(literal, 0)))
            self._automaton.make_automaton()
        self._scans = {}
        self._built = True

    def scan(self, text: str) -> tuple[int, list[tuple[int, int]]]:
        """(the found bits of `text`, (start, start bits of the literals starting there) leftmost first)."""
        scanned = self._scans.get(text)
        if scanned is None:
            if not self._built:
                self._build()
            if self._compiled is not None:  # the same scan in C (analysis/_scan.c)
                scanned = self._compiled.scan(fold(text))
            else:
                scanned = self._scan_matches(fold(text))
            if len(self._scans) >= 4:
                self._scans.clear()
            self._scans[text] = scanned
        return scanned

    def _scan_matches(self, folded: str) -> tuple[int, list[tuple[int, int]]]:
        """`scan` from pyahocorasick's matches."""
        found = 0
        by_start: dict[int, int] = {}
        if self._automaton is not None:
            for end, (length, bits, starts) in self._automaton.iter(folded):
                found |= bits
                if starts:
                    start = end - length + 1
                    by_start[start] = by_start.get(start, 0) | starts
        return found, sorted(by_start.items())


class StartIndex:
    """Where matches of the indexed expressions can start in a text: where their leading literals are.

    `add(regex)` gives an expression a bit when every match of it starts with one of a few known
    strings (analysis/literals.py `leading_literals`); `search(regex, bit, text)` then tries
    `regex.match` at those strings' positions only, leftmost first, which finds exactly the match
    `regex.search` finds: a match cannot start anywhere else. A large alternation that `re` would try
    at every character ("kind|caring|friendly|...") is so tried at one or two places.
    """

    def __init__(self, scan: LiteralScan):
        self._scan = scan

    def add(self, regex: str) -> int:
        """The expression's bit, or 0 when where its matches start is not known well enough."""
        literals = leading_literals(regex)
        if literals is None or any(map(too_common, literals)):
            return 0
        return self._scan.start_bit(literals)

    def search(self, regex: re.Pattern[str], bit: int, text: str) -> re.Match[str] | None:
        """`regex.search(text)` for an expression added with `bit`; a plain search when `bit` is 0."""
        if not bit:
            return regex.search(text)
        for start, bits in self._scan.scan(text)[1]:
            if bits & bit:
                match = regex.match(text, start)
                if match is not None:
                    return match
        return None

    def find(self, tries: Iterable[tuple[int, re.Pattern[str], int]], text: str) -> tuple[int, re.Match[str]] | None:
        """(index, match) of the first of `tries` ((index, regex, bit) in order) matching `text`."""
        for index, regex, bit in tries:
            match = self.search(regex, bit, text)
            if match is not None:
                return index, match
        return None

    def any(self, tries: Iterable[tuple[int, re.Pattern[str], int]], text: str) -> bool:
        return any(self.search(regex, bit, text) is not None for _, regex, bit in tries)


class _RulesView:
    """A field's rules narrowed to the expressions that may match (indices in order)."""

    __slots__ = ("_rules", "_tries", "_starts")

    def __init__(self, rules: Rules, tries: list[tuple[int, re.Pattern[str], int]], starts: StartIndex):
        self._rules = rules
        self._tries = tries
        self._starts = starts

    def find(self, text: str) -> tuple[int, re.Match[str]] | None:
        """What `Rules.find` returns: (index, match) of the first expression matching `text`."""
        return self._starts.find(self._tries, text)

    def any(self, text: str) -> bool:
        return self._starts.any(self._tries, text)

    def __getattr__(self, name: str):  # sources, regexes, combined: those of the whole field
        return getattr(self._rules, name)


class _ThemeView:
    __slots__ = ("_theme", "id", "name", *LIST_FIELDS)

    def __init__(self, theme, fields: dict[str, _RulesView]):
        self._theme = theme
        self.id = theme.id
        self.name = theme.name
        for field in LIST_FIELDS:
            setattr(self, field, fields[field])

    def __getattr__(self, name: str):
        return getattr(self._theme, name)


class _TaxonomyView:
    __slots__ = ("_taxonomy", "themes")

    def __init__(self, taxonomy: Taxonomy, themes: tuple[_ThemeView, ...]):
        self._taxonomy = taxonomy
        self.themes = themes

    @property
    def cues(self):
        return self._taxonomy.cues

    def __getattr__(self, name: str):
        return getattr(self._taxonomy, name)


class LiteralBits:
    """The literal sets of several fields' expressions, found by one scan of a text (`LiteralScan`).

    Each expression's literal sets get bits (`add`); `found(text)` has the bits of the sets with a
    literal occurring in `text` set (and bits of other indexes sharing the scan, which no expression
    of these fields needs).
    """

    def __init__(self, scan: LiteralScan | None = None):
        self._scan = LiteralScan() if scan is None else scan
        self.starts = StartIndex(self._scan)  # where the same expressions' matches can start

    def add(self, regex: str) -> tuple[int, int]:
        """(bits the expression needs, those of them always set: sets without a known literal)."""
        need = always = 0
        for literals in indexed_literals(regex) or [None]:
            bit = self._scan.found_bit(literals or ())
            need |= bit
            if literals is None:
                always |= bit
        return need, always

    def found(self, text: str) -> int:
        return self._scan.scan(text)[0]


class RulesIndex:
    """One field's expressions (a cue list) indexed by their literals; `find`/`any` as `Rules` has them.

    Each call looks up the literals of the text it is given, so any text may be passed. Other
    attributes (`combined`, `regexes`, ...) are the field's own.
    """

    def __init__(self, rules: Rules, literals: LiteralBits | None = None):
        self._rules = rules
        self._always = 0
        self._entries: list[tuple[int, int, re.Pattern[str], int]] = []
        # Every expression needs at least the bit of its first literal set (always set when that set
        # has no known literal): a text with none of these bits cannot match any expression, which
        # rules out most clauses before looking at each expression.
        self._first_bits = 0
        self._literals = LiteralBits() if literals is None else literals
        self._starts = self._literals.starts
        for index, regex in enumerate(rules.regexes):
            need, always = self._literals.add(regex)
            self._always |= always
            self._first_bits |= need & -need
            self._entries.append((need, index, re.compile(regex, re.IGNORECASE), self._starts.add(regex)))

    def _tries(self, text: str) -> list[tuple[int, re.Pattern[str], int]]:
        found = self._always | self._literals.found(text)
        if not found & self._first_bits:
            return []
        return [(index, regex, bit) for need, index, regex, bit in self._entries if found & need == need]

    def may_match(self, text: str) -> bool:
        """False when no expression of the field can match `text` (so neither can `combined`)."""
        found = self._always | self._literals.found(text)
        return bool(found & self._first_bits) and any(found & need == need for need, *_ in self._entries)

    def find(self, text: str) -> tuple[int, re.Match[str]] | None:
        return self._starts.find(self._tries(text), text)

    def any(self, text: str) -> bool:
        return self._starts.any(self._tries(text), text)

    def __getattr__(self, name: str):
        return getattr(self._rules, name)


# Cue fields searched on a whole review rather than on its clauses: on a long text, a shared
# automaton would report every other field's literals too, so they keep their own.
WHOLE_TEXT_CUES = frozenset({"safety", "non_informative"})


def index_cues(cues: dict[str, Rules], scan: LiteralScan | None = None) -> dict[str, RulesIndex]:
    """Every cue field indexed; the clause-level ones share one automaton (one pass per clause), that
    of `scan` when given."""
    literals = LiteralBits(scan)
    return {
        field: RulesIndex(rules) if field in WHOLE_TEXT_CUES else RulesIndex(rules, literals)
        for field, rules in cues.items()
    }


class TaxonomyIndex:
    """The taxonomy's theme expressions indexed by the literals they need; built once per process."""

    def __init__(self, taxonomy: Taxonomy, scan: LiteralScan | None = None):
        self.taxonomy = taxonomy
        self._themes = taxonomy.themes
        self._scan = LiteralScan() if scan is None else scan
        # Expression e (numbered in taxonomy order: theme, field, index) owns the e-th of a run of
        # bits, set when a literal of its most selective set is found; its other sets get bits after
        # all of those. It may match only when every one of its bits is set.
        self._entries: list[tuple[int, str, int, re.Pattern[str], int]] = []
        self._start_bits: list[int] = []
        self._starts = StartIndex(self._scan)
        literals_of: list[list[frozenset[str] | None]] = []
        for theme_no, theme in enumerate(taxonomy.themes):
            for field in LIST_FIELDS:
                for index, regex in enumerate(getattr(theme, field).regexes):
                    self._entries.append((theme_no, field, index, re.compile(regex, re.IGNORECASE), 0))
                    self._start_bits.append(self._starts.add(regex))
                    literals_of.append(indexed_literals(regex) or [None])
        primaries = [self._scan.found_bit(groups[0] or ()) for groups in literals_of]
        self._first = primaries[0].bit_length() - 1 if primaries else 0
        self._primary = sum(primaries)
        if self._primary != ((1 << len(primaries)) - 1) << self._first:  # bits are taken one after another
            raise AssertionError("the expressions' bits are not one run")
        self._always = 0  # bits of expressions without known literals: always set
        self._mask = 0  # every bit of this index
        for e, groups in enumerate(literals_of):
            need = 0
            for g, literals in enumerate(groups):
                bit = primaries[e] if g == 0 else self._scan.found_bit(literals or ())
                need |= bit
                if literals is None:
                    self._always |= bit
            theme_no, field, index, regex, _ = self._entries[e]
            self._entries[e] = (theme_no, field, index, regex, need)
            self._mask |= need
        # Views are immutable, so clauses whose literals allow the same expressions share one:
        # by the literal bits found, and by the expressions those bits let through.
        self._by_found: dict[int, _TaxonomyView] = {}
        self._by_passing: dict[tuple[int, ...], _TaxonomyView] = {}
        self._never = [
            {field: _RulesView(getattr(theme, field), [], self._starts) for field in LIST_FIELDS} for theme in taxonomy.themes
        ]

    def possible(self, texts: Iterable[str]) -> int:
        """The bits of the literal sets found in `texts` (and of expressions without literals)."""
        found = 0
        for text in texts:
            found |= self._scan.scan(text)[0]
        return self._always | (found & self._mask)

    def narrow(self, text: str, masked: str | None = None) -> _TaxonomyView:
        """A view of the taxonomy for one clause (`masked`: the same clause with idioms masked).

        It holds only the themes with an expression that may match `text` or `masked`, and each
        field tries only those expressions, in order. Views are immutable and kept in bounded
        caches (the only side effect), so clauses with the same literals share one.
        """
        found = self.possible((text,) if masked is None or masked == text else (text, masked))
        view = self._by_found.get(found)
        if view is not None:
            return view
        candidates = found & self._primary
        passing = []
        if candidates:
            bits = bin(candidates >> self._first)[:1:-1]  # expression e's bit is character e
            entries = self._entries
            e = bits.find("1")
            while e >= 0:
                if found & entries[e][4] == entries[e][4]:
                    passing.append(e)
                e = bits.find("1", e + 1)
        key = tuple(passing)
        view = self._by_passing.get(key)
        if view is None:
            view = self._view(key)
            if len(self._by_passing) >= VIEW_CACHE_SIZE:
                self._by_passing.clear()
            self._by_passing[key] = view
        if len(self._by_found) >= VIEW_CACHE_SIZE:
            self._by_found.clear()
        self._by_found[found] = view
        return view

    def _view(self, passing: tuple[int, ...]) -> _TaxonomyView:
        """The view trying exactly the expressions numbered in `passing` (ascending)."""
        tries: dict[int, dict[str, list[tuple[int, re.Pattern[str], int]]]] = {}
        entries = self._entries
        for e in passing:
            theme_no, field, index, regex, _ = entries[e]
            tries.setdefault(theme_no, {}).setdefault(field, []).append((index, regex, self._start_bits[e]))
        themes = []
        for theme_no, fields in tries.items():
            views = dict(self._never[theme_no])
            for field, found_tries in fields.items():
                views[field] = _RulesView(views[field]._rules, found_tries, self._starts)
            themes.append(_ThemeView(self._themes[theme_no], views))
        return _TaxonomyView(self.taxonomy, tuple(themes))
