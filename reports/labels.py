"""Display names of themes, read from the taxonomy file(s) the analysis stage uses.

The taxonomy belongs to the analysis stage; the report only needs each theme's display name, so it
reads the `id` and name fields tolerantly and falls back to a title-cased id for unknown themes.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from config import Settings
from errors import TaxonomyError

_NAME_KEYS = ("name", "label", "title", "display_name")


def fallback_label(theme: str) -> str:
    """"phone_access" -> "Phone access"."""
    words = theme.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else theme


@lru_cache(maxsize=8)  # one parse per file content; a report run asks for every page
def _read_taxonomy(text: str, origin: str) -> dict[str, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{origin}: invalid TOML: {exc}") from None
    themes: Any = data.get("themes", data.get("theme", {}))
    labels: dict[str, str] = {}
    entries: list[tuple[str | None, Any]]
    if isinstance(themes, list):  # [[themes]] id = "...", name = "..."
        entries = [(t.get("id") if isinstance(t, dict) else None, t) for t in themes]
    elif isinstance(themes, dict):  # [themes.phone_access] name = "..."
        entries = [(key, value) for key, value in themes.items()]
    else:
        entries = []
    for theme_id, entry in entries:
        if not isinstance(theme_id, str) or not isinstance(entry, dict):
            continue
        name = next((entry[k] for k in _NAME_KEYS if isinstance(entry.get(k), str)), None)
        labels[theme_id] = name or fallback_label(theme_id)
    return labels


def load_theme_labels(settings: Settings) -> dict[str, str]:
    """Theme id -> display name from analysis/themes.toml and the practice's own themes file.

    Reads files only; a missing taxonomy gives an empty mapping (labels then fall back to the id).
    """
    labels: dict[str, str] = {}
    packaged = resources.files("analysis").joinpath("themes.toml")
    if packaged.is_file():
        labels.update(_read_taxonomy(packaged.read_text(encoding="utf-8"), "analysis/themes.toml"))
    extra: Path | None = settings.themes_file
    if extra is not None and extra.is_file():
        labels.update(_read_taxonomy(extra.read_text(encoding="utf-8"), str(extra)))
    return labels
