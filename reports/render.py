"""Rendering: the one Jinja2 environment (autoescape on) and the filters that format figures.

Templates only format what `build_context()` computed; the filters here turn numbers into text
("4.3 ★", "+12 %", "5.0 h") and never touch the database.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reports import paths

MINUS = "\u2212"


def format_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace("-", MINUS)


def format_percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f} %"


def format_hours(hours: float | None) -> str:
    """Reply times: hours below two days, days above."""
    if hours is None:
        return "–"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def format_value(value: float | None, unit: str) -> str:
    """A headline figure in its unit."""
    if value is None:
        return "–"
    match unit:
        case "count":
            return f"{value:,.0f}" if float(value).is_integer() else format_number(value)
        case "stars":
            return f"{value:.2f} ★"
        case "share":
            return format_percent(value)
        case "score":
            return format_number(value, 2)
        case "hours":
            return format_hours(value)
    return str(value)


def format_change(change: float | None, unit: str) -> str:
    """A signed change in the figure's unit: "+3", "−0.25 ★", "+12 pts", "−4.0 h"."""
    if change is None:
        return "–"
    sign = "+" if change > 0 else (MINUS if change < 0 else "±")
    size = abs(change)
    match unit:
        case "count":
            body = f"{size:.0f}" if float(size).is_integer() else f"{size:.1f}"
        case "stars":
            body = f"{size:.2f} ★"
        case "share":
            body = f"{size * 100:.0f} pts"
        case "score":
            body = f"{size:.2f}"
        case "hours":
            body = format_hours(size)
        case _:
            body = str(size)
    return sign + body


def judge_change(change: float | None, better: str | None) -> str:
    """CSS class of a change: "good", "bad" or "flat" (also spelled out in text for print)."""
    if change is None or better is None or abs(change) < 1e-9:
        return "flat"
    return "good" if (change > 0) == (better == "higher") else "bad"


def format_date(value: date | datetime | None, pattern: str = "%a %d %b %Y") -> str:
    return "–" if value is None else value.strftime(pattern)


def link_week(root: str, iso_week: str, location_id: str | None = None, anchor: str | None = None) -> str:
    href = root + str(paths.week_page(iso_week, location_id))
    return f"{href}#{anchor}" if anchor else href


def link_theme(root: str, theme: str, anchor: str | None = None, quarter: str | None = None) -> str:
    href = root + str(paths.theme_page(theme, quarter))
    return f"{href}#{anchor}" if anchor else href


def link_mention(root: str, theme: str, review) -> str:
    """Link to a review on the theme's page of the quarter it was written in (where its anchor is)."""
    return link_theme(root, theme, review.anchor, review.quarter)


@lru_cache(maxsize=1)
def build_environment() -> Environment:
    """The report's Jinja2 environment: package templates, autoescape for .html, strict undefined."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        number=format_number,
        percent=format_percent,
        hours=format_hours,
        value=format_value,
        change=format_change,
        judge=judge_change,
        day=format_date,
    )
    env.globals.update(link_week=link_week, link_theme=link_theme, link_mention=link_mention)
    return env


def render_page(template: str, **context: Any) -> str:
    """Render one template of reports/templates with `context`."""
    return build_environment().get_template(template).render(**context)
