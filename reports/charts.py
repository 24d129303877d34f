"""Chart geometry for inline SVG: sparklines and weekly line charts.

Functions here compute coordinates only; the `_partials.html` macros draw them, so every chart is
plain SVG inside the page (no scripts, no external requests) and prints sharply. Colours are the
Okabe-Ito palette, which stays distinguishable for colour-blind readers; series also differ by
marker shape and dash pattern so they remain distinct in black-and-white print.
"""

from __future__ import annotations

from dataclasses import dataclass

# Okabe & Ito (2008), "Color Universal Design".
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
ORANGE = "#E69F00"
GREY = "#6b6b6b"


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True, slots=True)
class Sparkline:
    width: int
    height: int
    path: str  # SVG path data; gaps are not expected (weeks without data count 0)
    points: tuple[Point, ...]
    peak: float
    description: str  # text alternative for screen readers and tooltips


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    colour: str
    dash: str  # stroke-dasharray; "" for solid
    marker: str  # "circle" or "square"
    path: str  # SVG path data, broken where a week has no value
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class LineChart:
    title: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    series: tuple[Series, ...]
    zero: float | None  # y of a reference line (e.g. neutral sentiment), if inside the range
    description: str


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def build_sparkline(values: list[float], labels: list[str], *, width: int = 120, height: int = 28) -> Sparkline:
    """A small line of weekly counts, scaled to its own peak (at least 1)."""
    peak = max([1.0, *values])
    pad = 3.0
    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = tuple(
        Point(round(pad + i * step, 1), round(height - pad - (v / peak) * (height - 2 * pad), 1), v, label)
        for i, (v, label) in enumerate(zip(values, labels))
    )
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    description = ", ".join(f"{p.label}: {_fmt(p.value)}" for p in points)
    return Sparkline(width, height, path, points, peak, description)


def _series_path(points: list[Point | None]) -> str:
    parts, pen_down = [], False
    for point in points:
        if point is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{point.x},{point.y}")
        pen_down = True
    return " ".join(parts)


def build_line_chart(
    title: str,
    x_labels: list[str],
    series: list[tuple[str, list[float | None], str, str, str]],
    *,
    y_range: tuple[float, float],
    y_ticks: list[float],
    zero: float | None = None,
    width: int = 640,
    height: int = 200,
) -> LineChart:
    """A weekly line chart. `series` items are (name, values, colour, dash, marker); None is a gap."""
    left, right, top, bottom = 44.0, width - 12.0, 14.0, height - 28.0
    lo, hi = y_range
    step = (right - left) / max(1, len(x_labels) - 1)

    def x_at(i: int) -> float:
        return round(left + i * step, 1)

    def y_at(v: float) -> float:
        return round(bottom - (v - lo) / (hi - lo) * (bottom - top), 1)

    built = []
    for name, values, colour, dash, marker in series:
        points = [None if v is None else Point(x_at(i), y_at(v), v, x_labels[i]) for i, v in enumerate(values)]
        built.append(Series(name, colour, dash, marker, _series_path(points), tuple(p for p in points if p)))
    description = "; ".join(
        f"{s.name}: " + ", ".join(f"{p.label} {p.value:.2f}" for p in s.points) if s.points else f"{s.name}: no data"
        for s in built
    )
    return LineChart(
        title=title,
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        y_ticks=tuple(Tick(y_at(v), _fmt(v)) for v in y_ticks),
        x_ticks=tuple(Tick(x_at(i), label) for i, label in enumerate(x_labels)),
        series=tuple(built),
        zero=y_at(zero) if zero is not None and lo <= zero <= hi else None,
        description=description,
    )


def build_trend_charts(x_labels: list[str], ratings: list[float | None], sentiments: list[float | None]) -> tuple[LineChart, LineChart]:
    """The 12-week average rating chart (1-5 stars) and ReviewPulse sentiment chart (-1..1)."""
    rating = build_line_chart(
        "Average rating (stars)", x_labels, [("Average rating", ratings, BLUE, "", "circle")],
        y_range=(1, 5), y_ticks=[1, 2, 3, 4, 5],
    )
    sentiment = build_line_chart(
        "ReviewPulse sentiment (−1 to +1)", x_labels, [("Sentiment", sentiments, VERMILLION, "6 3", "square")],
        y_range=(-1, 1), y_ticks=[-1, -0.5, 0, 0.5, 1], zero=0,
    )
    return rating, sentiment
