"""The literal strings a regular expression cannot match without: a cheap necessary condition.

`required_literals(regex)` returns sets of strings such that every match of `regex` (searched with
re.IGNORECASE) contains one string of each set, once both are passed through `fold()`; an empty
list when nothing is known (the expression must then always be tried). "call(?:ed)?\\s+back" needs
"call" and "back"; "(?:book|schedul\\w*)" needs "book" or "schedul". A text lacking every string of
one set cannot match the expression, so searching it can be skipped without changing any result.

Exactness rests on case folding the way `re` compares under IGNORECASE: `re` lowers a character
with Unicode's simple lowercase mapping (one character to one) and treats a few more characters as
equal (re._casefix: "ſ" and "s", "ı" and "i", the Kelvin sign and "k", ...). `fold()` maps every
character to one representative of that equivalence, so a character matches a literal character
under IGNORECASE exactly when their folds are equal. The walk over the parsed expression is
conservative: anything it does not understand (character ranges, back-references, categories such
as \\w) counts as "no literal known", never as a literal.
"""

from __future__ import annotations

import re
from re import _casefix as sre_casefix
from re import _constants as sre
from re import _parser as sre_parse

import _sre

# Exact sets larger than this are turned into "contains one of" sets (keeps the walk small).
MAX_EXACT = 64


def _fold_table() -> dict[int, str]:
    """Code point -> its representative for every character that str.lower() does not already fold."""
    classes: dict[int, set[int]] = {}
    for lower, others in sre_casefix._EXTRA_CASES.items():
        members = {lower, *others}
        for member in list(members):
            members |= classes.get(member, set())
        for member in members:
            classes[member] = members
    table = {code: chr(min(members)) for code, members in classes.items() if min(members) != code}
    return table


_FOLD = _fold_table()
# The one character whose str.lower() is not re's one-character lowercase ("İ" -> "i" + dot).
_BEFORE_LOWER = {0x130: chr(_sre.unicode_tolower(0x130))}


def fold(text: str) -> str:
    """`text` case-folded the way re.IGNORECASE compares characters (one character to one)."""
    if text.isascii():
        return text.lower()
    return text.translate(_BEFORE_LOWER).lower().translate(_FOLD)


def _fold_char(code: int) -> str:
    lower = chr(_sre.unicode_tolower(code))
    return _FOLD.get(ord(lower), lower)


# A node's information: ("exact", S) - every match is one of the strings in S;
# ("all", [S1, S2, ...]) - every match contains one string of each set; ("all", []) - nothing known.
_UNKNOWN = ("all", ())
_EMPTY = ("exact", frozenset({""}))
MAX_GROUPS = 3  # sets kept per expression, the most selective ones


def _quality(strings: frozenset[str]) -> tuple[int, int, tuple[str, ...]]:
    """How selective a "contains one of" set is: its shortest string's letters, then fewer strings.

    Equal sets are then ordered by their strings, so the sets kept do not depend on the order a
    `frozenset` iterates in (which changes with each process's string hashing).
    """
    return min(sum(ch.isalnum() for ch in s) for s in strings), -len(strings), tuple(sorted(strings))


def _groups(info: tuple) -> list[frozenset[str]]:
    """The node's necessary sets ("the match contains one of these"), best first."""
    kind, value = info
    if kind == "exact":
        if "" in value:
            return []
        # A text containing "called" contains "call": the shorter strings say the same.
        return [frozenset(s for s in value if not any(t != s and t in s for t in value))]
    return list(value)


def _best(info: tuple) -> frozenset[str] | None:
    groups = _groups(info)
    return max(groups, key=_quality) if groups else None


def _all(groups: list[frozenset[str]]) -> tuple:
    unique = sorted(set(groups), key=_quality, reverse=True)
    return ("all", tuple(unique[:MAX_GROUPS]))


def _product(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    return frozenset(x + y for x in a for y in b)


def _sequence(items) -> tuple:
    groups: list[frozenset[str]] = []
    run: frozenset[str] = frozenset({""})
    exact = True
    for op, av in items:
        info = _node(op, av)
        kind, value = info
        if kind == "exact" and len(run) * len(value) <= MAX_EXACT:
            run = _product(run, value)
            continue
        exact = False
        groups += _groups(("exact", run))
        if kind == "exact":  # too many combinations: start a new run with this node
            run = value
        else:
            groups += _groups(info)
            run = frozenset({""})
    if exact:
        return ("exact", run)
    return _all(groups + _groups(("exact", run)))


def _node(op, av) -> tuple:
    if op is sre.LITERAL:
        return ("exact", frozenset({_fold_char(av)}))
    if op is sre.IN:
        chars = set()
        for item_op, item_av in av:
            if item_op is not sre.LITERAL:  # NEGATE, RANGE, CATEGORY: not worth expanding
                return _UNKNOWN
            chars.add(_fold_char(item_av))
        return ("exact", frozenset(chars))
    if op is sre.SUBPATTERN:
        return _sequence(av[3])
    if op is sre.ATOMIC_GROUP:
        return _sequence(av)
    if op is sre.BRANCH:
        infos = [_sequence(alternative) for alternative in av[1]]
        if all(kind == "exact" for kind, _ in infos):
            union = frozenset().union(*(s for _, s in infos))
            if len(union) <= MAX_EXACT:
                return ("exact", union)
        # One necessary set per alternative; their union is necessary for the branch.
        sets = [_best(info) for info in infos]
        if any(s is None for s in sets):
            return _UNKNOWN
        return ("all", (frozenset().union(*sets),))
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, high, item = av
        info = _sequence(item)
        kind, value = info
        if low == 0:
            if high == 1 and kind == "exact":
                return ("exact", value | {""})
            return _UNKNOWN
        if kind == "exact" and low == high and len(value) ** low <= MAX_EXACT:
            result = frozenset({""})
            for _ in range(low):
                result = _product(result, value)
            return ("exact", result)
        return _all(_groups(info))  # the item occurs at least once
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return _EMPTY  # zero-width: adds no characters to the match
    return _UNKNOWN  # ANY, NOT_LITERAL, GROUPREF, GROUPREF_EXISTS, ...


def required_literals(regex: str, flags: int = re.IGNORECASE) -> list[frozenset[str]]:
    """Sets of folded strings such that every match of `regex` contains one string of each set.

    At most MAX_GROUPS sets, the most selective first; an empty list when nothing is known.
    """
    try:
        parsed = sre_parse.parse(regex, flags)
    except (re.error, RecursionError):
        return []
    return _groups(_sequence(list(parsed)))


# -- where a match can start ----------------------------------------------------------------------

_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)


def _leading(items) -> frozenset[str] | None:
    """Folded strings one of which every match of the sequence `items` starts with (None: unknown)."""
    items = list(items)
    start = 0
    while start < len(items) and items[start][0] in _ZERO_WIDTH:
        start += 1  # assertions at the start consume nothing: the match still starts here
    if start == len(items):
        return None
    op, av = items[start]
    kind, value = _node(op, av)
    if kind != "exact" or "" in value:
        # Not a fixed set of strings: an alternation or group can still say how each of its
        # alternatives starts.
        if op is sre.SUBPATTERN:
            return _leading(av[3])
        if op is sre.BRANCH:
            starts = [_leading(alternative) for alternative in av[1]]
            if any(s is None for s in starts):
                return None
            return frozenset().union(*starts)  # type: ignore[arg-type]
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            return _leading(av[2])
        return None
    run = value
    # Lengthen the strings with what follows (longer is more selective): fixed strings, then how
    # the first item that is not fixed starts ("d" then "octor\w*|r" gives "doctor" and "dr").
    for op, av in items[start + 1:]:
        kind, value = _node(op, av)
        if kind != "exact" or "" in value:
            after = _leading([(op, av)])
            if after is not None and len(run) * len(after) <= MAX_EXACT:
                run = _product(run, after)
            break
        if len(run) * len(value) > MAX_EXACT:
            break
        run = _product(run, value)
    return run


def leading_literals(regex: str, flags: int = re.IGNORECASE) -> frozenset[str] | None:
    """Folded strings such that every match of `regex` starts with one of them (None: unknown).

    Where none of them occurs in `fold(text)`, no match of `regex` can start, so trying
    `pattern.match(text, pos)` at their positions only, leftmost first, finds exactly what
    `pattern.search(text)` finds (lookbehinds and `\\b` still see the text before `pos`).
    """
    try:
        parsed = sre_parse.parse(regex, flags)
    except (re.error, RecursionError):
        return None
    found = _leading(list(parsed))
    if not found or "" in found:
        return None
    # "kind" covers "kindly": a match starting with "kindly" starts with "kind".
    return frozenset(s for s in found if not any(t != s and s.startswith(t) for t in found))
