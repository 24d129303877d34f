"""The theme taxonomy: loading, validating and compiling `themes.toml` (and a practice's own file).

The taxonomy is data. The built-in `analysis/themes.toml` holds named word lists (`[words]`, usable
in any expression as `{name}`; a trailing `*` matches any word ending), the sentiment cue lists
(`[cues]`) and one `[themes.<id>]` table per theme with:

- `name` (required): what the theme is, for people;
- `keywords`: plain words or phrases that make a clause about the theme (matched as whole words,
  case-insensitively, any run of spaces between words);
- `patterns`: regular expressions that do the same, for what plain words cannot say;
- `exclude`: regular expressions that cancel a `keywords`/`patterns` hit in the same clause
  ("called an ambulance" is not about reaching the practice by phone);
- `complaint`, `praise`: regular expressions that are themselves a complaint (or praise) about the
  theme, and decide the polarity of a mention in their clause.

A practice's `themes_file` has the same shape: a `[themes.<id>]` table there replaces the built-in
theme of that id or adds a new one; with `extend = true` its lists are appended to the built-in
theme's instead. Its `[words]` and `[cues]` tables extend the built-in lists. Every problem is reported as
one TaxonomyError naming the file, the theme and the field.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from analysis.regex_fast import combine_alternatives
from errors import TaxonomyError

BUILTIN_NAME = "themes.toml"
THEME_ID = re.compile(r"^[a-z][a-z0-9_]*$")
LIST_FIELDS = ("keywords", "patterns", "exclude", "complaint", "praise")
THEME_FIELDS = frozenset(("name", "description", "extend", *LIST_FIELDS))
CUE_FIELDS = frozenset(
    ("negated_problem", "complaint", "counterfactual", "courtesy", "safety", "non_informative", "praise_idiom")
)


@functools.lru_cache(maxsize=8192)
def _regex(source: str) -> re.Pattern[str]:
    """Compile once per process: loading is validated and then compiled, and workers reload it."""
    return re.compile(source, re.IGNORECASE)


@dataclass(frozen=True)
class Rules:
    """One field's expressions: a combined regex to test quickly; the single ones name the hit."""

    sources: tuple[str, ...]
    regexes: tuple[str, ...]  # the sources with {word lists} expanded
    combined: re.Pattern[str] | None

    def find(self, text: str) -> tuple[int, re.Match[str]] | None:
        """Return (index, match) of the first expression that matches `text`, or None."""
        if self.combined is None or self.combined.search(text) is None:
            return None
        for index, regex in enumerate(self.regexes):
            match = _regex(regex).search(text)
            if match is not None:
                return index, match
        return None

    def any(self, text: str) -> bool:
        return self.combined is not None and self.combined.search(text) is not None


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    keywords: Rules
    patterns: Rules
    exclude: Rules
    complaint: Rules
    praise: Rules


@dataclass(frozen=True)
class Taxonomy:
    themes: tuple[Theme, ...]
    cues: dict[str, Rules]
    # Canonical JSON of the merged definitions; part of the analyzer version.
    content: str

    @property
    def theme_ids(self) -> list[str]:
        return [t.id for t in self.themes]

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()


_WORD_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _word_body(word: str) -> str:
    prefix = word.endswith("*")
    body = r"\s+".join(re.escape(part) for part in word.rstrip("*").split())
    return body + (r"\w*" if prefix else "")


def _keyword_regex(word: str) -> str:
    return rf"(?<!\w){_word_body(word)}(?!\w)"


def _expand(where: str, field: str, index: int, regex: str, words: dict[str, list[str]]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in words:
            raise TaxonomyError(
                f"{where}: {field}[{index}]: unknown word list {{{name}}} (defined: {', '.join(sorted(words)) or 'none'})"
            )
        return r"(?<!\w)(?:" + "|".join(_word_body(w) for w in words[name]) + r")(?!\w)"

    return _WORD_REF.sub(replace, regex)


def _compile(where: str, field: str, sources: list[str], words: dict[str, list[str]], *, keywords: bool = False) -> Rules:
    if keywords:
        regexes = [_keyword_regex(s) for s in sources]
    else:
        regexes = [_expand(where, field, i, s, words) for i, s in enumerate(sources)]
    if not regexes:
        return Rules((), (), None)
    try:
        # Same matches as "|".join(f"(?:{r})" ...), searched faster (see analysis/regex_fast.py).
        combined = _regex(combine_alternatives(regexes))
    except re.error as exc:
        for index, regex in enumerate(regexes):
            try:
                _regex(regex)
            except re.error as single:
                raise TaxonomyError(
                    f"{where}: {field}[{index}]: invalid regular expression {sources[index]!r}: {single}"
                ) from None
        raise TaxonomyError(f"{where}: {field}: the expressions cannot be combined: {exc}") from None
    return Rules(tuple(sources), tuple(regexes), combined)


def _check_list(where: str, field: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaxonomyError(f"{where}: {field}: must be a list of strings, got {type(value).__name__}")
    for index, item in enumerate(value):
        if not item.strip():
            raise TaxonomyError(f"{where}: {field}[{index}]: empty string")
    return value


def _check_theme(origin: str, theme_id: str, table: Any, words: dict[str, list[str]], *, partial: bool) -> dict[str, Any]:
    where = f"{origin}: theme {theme_id!r}"
    if not THEME_ID.match(theme_id):
        raise TaxonomyError(f"{where}: theme ids are lower_snake_case (letters, digits, _), starting with a letter")
    if not isinstance(table, dict):
        raise TaxonomyError(f"{where}: must be a table ([themes.{theme_id}])")
    unknown = sorted(set(table) - THEME_FIELDS)
    if unknown:
        raise TaxonomyError(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(THEME_FIELDS))})")
    if "extend" in table and not isinstance(table["extend"], bool):
        raise TaxonomyError(f"{where}: extend: must be true or false")
    checked: dict[str, Any] = {}
    for field in ("name", "description"):
        if field in table:
            if not isinstance(table[field], str) or not table[field].strip():
                raise TaxonomyError(f"{where}: {field}: must be a non-empty string")
            checked[field] = table[field]
    if "name" not in checked and not partial:
        raise TaxonomyError(f"{where}: name: required")
    for field in LIST_FIELDS:
        checked[field] = _check_list(where, field, table.get(field, []))
        _compile(where, field, checked[field], words, keywords=field == "keywords")
    if not partial and not any(checked[f] for f in ("keywords", "patterns", "complaint", "praise")):
        raise TaxonomyError(f"{where}: needs at least one of keywords, patterns, complaint or praise")
    return checked


def _read(path: Path | None, text: str | None = None) -> tuple[str, dict[str, Any]]:
    origin = str(path) if path is not None else BUILTIN_NAME
    try:
        if text is None:
            assert path is not None
            text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise TaxonomyError(f"{origin}: themes file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{origin}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - {"words", "cues", "themes"})
    if unknown:
        raise TaxonomyError(f"{origin}: unknown table {unknown[0]!r} (allowed: words, cues, themes)")
    return origin, data


@dataclass
class _Definitions:
    words: dict[str, list[str]]
    cues: dict[str, list[str]]
    themes: dict[str, dict[str, Any]]


def _merge(into: _Definitions, origin: str, data: dict[str, Any]) -> None:
    """Validate one file's tables and merge them into `into` (words and cues extend, themes replace)."""
    raw_words = data.get("words", {})
    if not isinstance(raw_words, dict):
        raise TaxonomyError(f"{origin}: words: must be a table ([words])")
    for name, value in raw_words.items():
        if not re.match(r"^[a-z_][a-z0-9_]*$", name):
            raise TaxonomyError(f"{origin}: words: {name!r}: word list names are lower_snake_case")
        into.words[name] = into.words.get(name, []) + _check_list(f"{origin}: words", name, value)
    raw_cues = data.get("cues", {})
    if not isinstance(raw_cues, dict):
        raise TaxonomyError(f"{origin}: cues: must be a table ([cues])")
    for field, value in raw_cues.items():
        if field not in CUE_FIELDS:
            raise TaxonomyError(f"{origin}: cues: unknown field {field!r} (allowed: {', '.join(sorted(CUE_FIELDS))})")
        items = _check_list(f"{origin}: cues", field, value)
        _compile(f"{origin}: cues", field, items, into.words)
        into.cues[field] = into.cues.get(field, []) + items
    themes = data.get("themes", {})
    if not isinstance(themes, dict):
        raise TaxonomyError(f"{origin}: themes: must be tables ([themes.<id>])")
    for theme_id, table in themes.items():
        extend = isinstance(table, dict) and table.get("extend") is True
        if extend and theme_id not in into.themes:
            raise TaxonomyError(f"{origin}: theme {theme_id!r}: extend = true but there is no such theme to extend")
        checked = _check_theme(origin, theme_id, table, into.words, partial=extend)
        if extend:
            old = into.themes[theme_id]
            merged = {f: old[f] + checked[f] for f in LIST_FIELDS}
            merged["name"] = checked.get("name", old["name"])
            into.themes[theme_id] = merged
        else:
            into.themes[theme_id] = {"name": checked["name"], **{f: checked[f] for f in LIST_FIELDS}}


def load_taxonomy(themes_file: Path | None = None, *, builtin_text: str | None = None) -> Taxonomy:
    """Load the built-in taxonomy, apply a practice's `themes_file` on top, validate and compile it.

    Raises TaxonomyError naming the file, theme and field of the first problem found.
    """
    found = _Definitions({}, {}, {})
    if builtin_text is None:
        builtin_text = resources.files("analysis").joinpath(BUILTIN_NAME).read_text(encoding="utf-8")
    origin, data = _read(None, builtin_text)
    _merge(found, origin, data)
    if not found.themes:
        raise TaxonomyError(f"{origin}: no themes defined")
    if themes_file is not None:
        origin, data = _read(Path(themes_file))
        _merge(found, origin, data)
    themes = tuple(
        Theme(
            id=theme_id,
            name=d["name"],
            keywords=_compile(theme_id, "keywords", d["keywords"], found.words, keywords=True),
            **{f: _compile(theme_id, f, d[f], found.words) for f in ("patterns", "exclude", "complaint", "praise")},
        )
        for theme_id, d in found.themes.items()
    )
    compiled_cues = {field: _compile("cues", field, found.cues.get(field, []), found.words) for field in sorted(CUE_FIELDS)}
    content = json.dumps({"words": found.words, "themes": found.themes, "cues": found.cues}, sort_keys=True, ensure_ascii=False)
    return Taxonomy(themes, compiled_cues, content)
