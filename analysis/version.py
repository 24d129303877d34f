"""The analyzer version stored in every analysis row: code version + taxonomy + staff roster.

When any of the three changes, stored results no longer match and `analyze_pending` re-analyses
the affected reviews (all of them, in practice); `--rescore` forces it even when nothing changed.
Bump CODE_VERSION whenever a change to the analysis code changes its results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

from analysis.taxonomy import Taxonomy
from config import StaffMember

CODE_VERSION = "2"


def _vader_version() -> str:
    try:
        return version("vaderSentiment")
    except PackageNotFoundError:  # running from a source tree without package metadata
        return "unknown"


def compute_analyzer_version(taxonomy: Taxonomy, staff: Iterable[StaffMember] = ()) -> str:
    """Return e.g. "a1-3f2c9e0b7d41": CODE_VERSION, then a hash of VADER's version, taxonomy and roster."""
    roster = [m.model_dump(mode="json") for m in staff]
    payload = json.dumps(
        {"vader": _vader_version(), "taxonomy": taxonomy.digest, "staff": roster}, sort_keys=True, ensure_ascii=False
    )
    return f"a{CODE_VERSION}-{hashlib.sha256(payload.encode('utf-8')).hexdigest()[:12]}"
