"""Settings: one TOML file plus secrets from the environment, validated once at the edge.

`load_settings()` is called by the CLI and the scheduler only; every library function receives the
resulting `Settings` (or the pieces of it it needs) as an argument and never reads the environment.
Relative paths in the file are resolved against the file's own folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator,
                      model_validator)

from errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent
DEMO_CONFIG = PROJECT_ROOT / "examples" / "demo" / "reviewpulse.toml"
CONFIG_ENV = "REVIEWPULSE_CONFIG"
# Secrets: only ever read from these environment variables, never from the file.
GBP_TOKEN_ENV = "REVIEWPULSE_GBP_TOKEN"
SMTP_PASSWORD_ENV = "REVIEWPULSE_SMTP_PASSWORD"

SourceType = Literal["google", "gbp_api", "csv", "outscraper", "survey", "widget", "wordpress"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    # Google Business Profile location ids (the `location-*` Takeout folder or `locations/{id}`).
    google_location_ids: list[str] = []
    # Other spellings of the location found in CSV exports.
    aliases: list[str] = []


class StaffMember(_Strict):
    name: str
    nicknames: list[str] = []
    role: str | None = None
    location: str | None = None


class Columns(_Strict):
    """Which CSV column holds which field; only `text` is required."""

    text: str
    author: str | None = None
    rating: str | None = None
    date: str | None = None
    reply: str | None = None
    reply_date: str | None = None
    id: str | None = None
    location: str | None = None
    question: str | None = None


class Source(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    type: SourceType
    # Reviews without a recognisable location in the data go to this configured location.
    location: str | None = None
    # A file, folder or glob read in place (files are never moved; their sha256 makes re-reads free).
    path: Path | None = None
    url: str | None = None
    # The platform name stored in reviews.source; defaults by type ("google" for Google exports).
    platform: str | None = None
    columns: Columns | None = None
    dayfirst: bool = False
    encoding: str | None = None
    # True when each delivery is a complete snapshot, so missing reviews are marked removed.
    snapshot: bool | None = None
    # Collection schedule for `serve`: an interval in minutes (fractions allowed: 0.5 = 30 seconds),
    # or a crontab line; neither: every 60 minutes.
    every_minutes: float | None = Field(default=None, gt=0)
    cron: str | None = None
    # Google Business Profile API: accounts/{a}/locations/{l} names to list.
    gbp_locations: list[str] = []
    # The API's base URL (tests point it at a local server).
    api_base: str = "https://mybusiness.googleapis.com"
    # WordPress comments: authors whose replies are the practice's (besides the post's author).
    owner_names: list[str] = []

    @model_validator(mode="after")
    def _check_shape(self) -> "Source":
        if self.type == "csv" and self.columns is None:
            raise ValueError("a csv source needs a [sources.columns] table (at least text = \"...\")")
        if self.type == "gbp_api":
            if not self.gbp_locations:
                raise ValueError("a gbp_api source needs gbp_locations = [\"accounts/.../locations/...\"]")
        elif self.path is None and self.url is None:
            raise ValueError("needs either path or url")
        if self.cron is not None and self.every_minutes is not None:
            raise ValueError("give either every_minutes or cron, not both")
        if self.url is not None and not self.url.lower().startswith(("http://", "https://")):
            raise ValueError(f"url must be http(s), got {self.url!r}")
        if not self.api_base.lower().startswith(("http://", "https://")):
            raise ValueError(f"api_base must be http(s), got {self.api_base!r}")
        return self

    @property
    def platform_name(self) -> str:
        return self.platform or {"google": "google", "gbp_api": "google", "outscraper": "google"}.get(
            self.type, self.name
        )


class Email(_Strict):
    recipients: list[str]
    sender: str
    smtp_host: str
    smtp_port: int = 587
    starttls: bool = True
    smtp_user: str | None = None


class Reports(_Strict):
    dir: Path = Path("site")
    # When the weekly report runs (crontab fields, in the practice's time zone).
    cron: str = "0 6 * * mon"
    mask_names: bool = False
    email: Email | None = None


class Settings(_Strict):
    practice: str
    timezone: str = "UTC"
    data_dir: Path = Path("data")
    inbox: Path | None = None
    # How often `serve` looks into the inbox (a directory listing; the database is opened only when
    # files are waiting).
    inbox_every_minutes: float = Field(default=1, gt=0)
    locations: list[Location] = Field(min_length=1)
    sources: list[Source] = []
    staff: list[StaffMember] = []
    reports: Reports = Reports()
    # DuckDB's memory for a job (collect, analyze, report); larger work spills to disk.
    memory_limit: str = Field(default="512MB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    # Extra or overriding themes, in the same TOML shape as analysis/themes.toml.
    themes_file: Path | None = None
    config_path: Path | None = None
    gbp_token: SecretStr | None = None
    smtp_password: SecretStr | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'America/Chicago')") from None
        return value

    @model_validator(mode="after")
    def _check_references(self) -> "Settings":
        ids = [loc.id for loc in self.locations]
        if len(set(ids)) != len(ids):
            raise ValueError(f"location ids must be unique, got {ids}")
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique, got {names}")
        for source in self.sources:
            if source.location is not None and source.location not in ids:
                raise ValueError(f"source {source.name!r}: location {source.location!r} is not one of {ids}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "reviewpulse.duckdb"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "reviewpulse.lock"

    @property
    def inbox_dir(self) -> Path:
        return self.inbox if self.inbox is not None else self.data_dir / "inbox"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def site_dir(self) -> Path:
        return self.reports.dir

    def source(self, name: str) -> Source:
        for src in self.sources:
            if src.name == name:
                return src
        raise ConfigError(f"unknown source {name!r}; configured: {[s.name for s in self.sources]}")


def find_config(explicit: Path | None, environ: Mapping[str, str]) -> Path:
    """Pick the settings file: --config, then $REVIEWPULSE_CONFIG, ./reviewpulse.toml, else the demo."""
    if explicit is not None:
        return explicit
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    local = Path("reviewpulse.toml")
    if local.exists():
        return local
    return DEMO_CONFIG


def _resolve(base: Path, value: Path | None) -> Path | None:
    if value is None:
        return None
    value = value.expanduser()
    return value if value.is_absolute() else (base / value).resolve()


def _format_error(path: Path, error: ValidationError) -> str:
    first = error.errors()[0]
    loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in first["loc"]).replace(".[", "[")
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{path}: {loc or 'settings'}: {message}{more}"


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, validate and resolve the settings file; secrets come from `environ` only."""
    environ = os.environ if environ is None else environ
    path = find_config(path, environ)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: settings file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    for secret in ("gbp_token", "smtp_password"):
        if secret in data:
            raise ConfigError(
                f"{path}: {secret}: secrets are read only from the environment "
                f"({GBP_TOKEN_ENV}, {SMTP_PASSWORD_ENV}), remove it from the file"
            )
    if "config_path" in data:
        raise ConfigError(f"{path}: config_path: set by ReviewPulse to this file's path, remove it from the file")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from None
    base = path.resolve().parent
    sources = [s.model_copy(update={"path": _resolve(base, s.path)}) for s in settings.sources]
    reports = settings.reports.model_copy(update={"dir": _resolve(base, settings.reports.dir)})
    return settings.model_copy(
        update={
            "data_dir": _resolve(base, settings.data_dir),
            "inbox": _resolve(base, settings.inbox),
            "themes_file": _resolve(base, settings.themes_file),
            "sources": sources,
            "reports": reports,
            "config_path": path.resolve(),
            "gbp_token": SecretStr(environ[GBP_TOKEN_ENV]) if environ.get(GBP_TOKEN_ENV) else None,
            "smtp_password": SecretStr(environ[SMTP_PASSWORD_ENV]) if environ.get(SMTP_PASSWORD_ENV) else None,
        }
    )
