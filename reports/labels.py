"""Display names of themes, as the analysis stage's taxonomy defines them.

The taxonomy belongs to the analysis stage (analysis/themes.toml plus the practice's themes file);
the report reads it through the same loader, so a name shown is always a theme the analysis knows.
Themes no longer in the taxonomy (older rows) fall back to a title-cased id.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from analysis.taxonomy import load_taxonomy
from config import Settings


def fallback_label(theme: str) -> str:
    """"phone_access" -> "Phone access"."""
    words = theme.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else theme


@lru_cache(maxsize=8)  # one load per themes file version; a report run asks for every page
def _read_labels(themes_file: Path | None, version: int | None) -> dict[str, str]:
    return {theme.id: theme.name for theme in load_taxonomy(themes_file).themes}


def load_theme_labels(settings: Settings) -> dict[str, str]:
    """Theme id -> display name from the built-in taxonomy and the practice's own themes file.

    Raises TaxonomyError when the practice's themes file is invalid (as `analyze` does).
    """
    extra = settings.themes_file
    version = extra.stat().st_mtime_ns if extra is not None and extra.exists() else None
    return dict(_read_labels(extra, version))
