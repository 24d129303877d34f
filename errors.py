"""The exception hierarchy. The CLI turns any ReviewPulseError into one line and a non-zero exit."""

from __future__ import annotations


class ReviewPulseError(Exception):
    """Base class of every error ReviewPulse reports to a user."""


class ConfigError(ReviewPulseError):
    """The settings file or environment is invalid; the message names the key."""


class ParseError(ReviewPulseError):
    """An export could not be parsed. `where` names the record or line, e.g. "line 12" or "reviews[3]"."""

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None):
        self.file = file
        self.where = where
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [p for p in (self.file, self.where) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.detail}" if prefix else self.detail

    def in_file(self, file: str) -> "ParseError":
        """Return the same error, naming `file` when the parser did not know it."""
        if self.file is None:
            self.file = file
            self.args = (self._format(),)
        return self


class FetchError(ReviewPulseError):
    """A URL or API could not be fetched (after retries); the message names the URL and the cause."""


class LockedError(ReviewPulseError):
    """Another ReviewPulse process holds the write lock."""


class TaxonomyError(ReviewPulseError):
    """The theme taxonomy file is invalid; the message names the theme and field."""
