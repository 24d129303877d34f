"""The literals of `analysis.matcher.LiteralScan` compiled into the tables `analysis/_scan.c` walks.

`compile_automaton(literals)` takes each literal's (found bits, start bits) and returns the C
module's `Automaton`, or None when the module is not built (an install without a C compiler): the
scan then stays with pyahocorasick. The tables are a deterministic Aho-Corasick automaton:

- `chars`: the literals' distinct characters, sorted; character k is class k + 1, and class 0 stands
  for every character no literal holds (reading one always leads back to the root).
- `transitions`: for each state (0 is the root) and class, the next state, failure links already
  followed, so the scan reads each character of the text once.
- `found`: for each state, the OR of the found bits of every literal ending there (the literal the
  state spells and those its failure links reach), as an index into `found_pool`, or -1.
- `outputs`: for each state, (offset, count) of its entries in `start_list`: (length, index into
  `start_pool`) for every such literal with start bits, so that a match ending at position i starts
  at i - length + 1.

Literals are matched as the scan is given them: `LiteralScan` folds both the literals and the text.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping

try:
    from analysis import _scan
except ImportError:  # built without a C compiler
    _scan = None


def native_available() -> bool:
    return _scan is not None


def _pool(values: list[int], words: int) -> bytes:
    return b"".join(value.to_bytes(words * 8, "little") for value in values)


def _words(values) -> int:
    return max(1, (max(values, default=0).bit_length() + 63) // 64)


def compile_automaton(literals: Mapping[str, tuple[int, int]]):
    """`analysis._scan.Automaton` over `literals` (literal -> (found bits, start bits)), or None
    without the C module. Empty literals are left out: they occur nowhere a scan looks."""
    if _scan is None:
        return None
    literals = {literal: bits for literal, bits in literals.items() if literal}
    chars = sorted({ch for literal in literals for ch in literal})
    klass = {ch: k + 1 for k, ch in enumerate(chars)}
    width = len(chars) + 1
    children: list[dict[int, int]] = [{}]
    own: list[tuple[int, int, int] | None] = [None]  # (length, found, starts) of the literal a state spells
    for literal in sorted(literals):
        state = 0
        for ch in literal:
            step = klass[ch]
            nxt = children[state].get(step)
            if nxt is None:
                nxt = len(children)
                children[state][step] = nxt
                children.append({})
                own.append(None)
            state = nxt
        found, starts = literals[literal]
        own[state] = (len(literal), found, starts)

    count = len(children)
    transitions = array("i", bytes(4 * count * width))
    fail = [0] * count
    found_of = [0] * count
    starts_of: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    queue = [0]
    for state in queue:  # breadth first: a state's failure target is shallower, so it is done
        back = fail[state]  # the root's is itself, whose row and outputs are still empty here
        transitions[state * width:(state + 1) * width] = transitions[back * width:(back + 1) * width]
        for step, child in children[state].items():
            fail[child] = transitions[back * width + step]  # read before the root's own step is set
            transitions[state * width + step] = child
            queue.append(child)
        found_of[state] = found_of[back]
        starts_of[state] = list(starts_of[back])
        if own[state] is not None:
            length, found, starts = own[state]
            found_of[state] |= found
            if starts:
                starts_of[state].insert(0, (length, starts))

    found_values = sorted({f for f in found_of if f})
    found_index = {value: k for k, value in enumerate(found_values)}
    start_values = sorted({bits for outs in starts_of for _, bits in outs})
    start_index = {value: k for k, value in enumerate(start_values)}
    found_words, start_words = _words(found_values), _words(start_values)
    outputs, start_list = array("i"), array("i")
    for outs in starts_of:
        outputs.extend((len(start_list) // 2, len(outs)))
        for length, bits in outs:
            start_list.extend((length, start_index[bits]))
    return _scan.Automaton(
        "".join(chars), transitions.tobytes(),
        array("i", [found_index[f] if f else -1 for f in found_of]).tobytes(),
        _pool(found_values, found_words), found_words,
        outputs.tobytes(), start_list.tobytes(), _pool(start_values, start_words), start_words,
    )
