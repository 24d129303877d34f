"""ISO weeks in the practice's time zone: the unit every report is written for.

A week is identified by the date of its Monday (local calendar of the practice); its label is the
ISO week name such as "2026-W05".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo


def start_of_week(day: date) -> date:
    """The Monday of the ISO week that contains `day`."""
    return day - timedelta(days=day.weekday())


def week_of(moment: datetime, zone: tzinfo) -> date:
    """The Monday of the week an aware instant falls in, on the practice's local calendar."""
    return start_of_week(moment.astimezone(zone).date())


def label_week(week_start: date) -> str:
    """The ISO name of the week starting on `week_start`, e.g. "2026-W05"."""
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def shift_week(week_start: date, weeks: int) -> date:
    return week_start + timedelta(weeks=weeks)


def list_weeks(first: date, last: date) -> list[date]:
    """Every week start from the week of `first` to the week of `last`, inclusive, oldest first."""
    week, end = start_of_week(first), start_of_week(last)
    found = []
    while week <= end:
        found.append(week)
        week += timedelta(weeks=1)
    return found


def bound_week(week_start: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The week as a half-open interval of aware instants [Monday 00:00, next Monday 00:00) local."""
    start = datetime.combine(week_start, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(week_start + timedelta(weeks=1), datetime.min.time(), tzinfo=zone)
    return start, end


def label_quarter(week_start: date) -> str:
    """The quarter a week belongs to (by its Monday), e.g. "2026-Q1": theme pages list reviews per quarter."""
    return f"{week_start.year}-Q{(week_start.month - 1) // 3 + 1}"
