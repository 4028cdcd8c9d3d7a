"""Small static charts as inline SVG, drawn in Python: the PDF report needs no script and no network.

Each function returns markup-safe SVG text (every label is escaped here) that scales to the width of
its container; the page's CSS decides the size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from coach_core.formatting import clock
from coach_core.schema import Series

# Units are about one point at the printed size of a half-width chart (~88 mm), so text reads at ~7 pt.
WIDTH = 320.0
WIDE_WIDTH = 640.0
HEIGHT = 115.0
PAD_LEFT = 34.0
PAD_RIGHT = 8.0
PAD_TOP = 6.0
PAD_BOTTOM = 18.0
FONT = 8.0
LINE_COLOUR = "#2b6cb0"
GRID_COLOUR = "#e2e8f0"
TEXT_COLOUR = "#4a5568"


@dataclass(frozen=True)
class Band:
    """A shaded stretch of time on a chart (a long pause, a stress spike, face out of view)."""

    start: float
    end: float
    colour: str
    label: str = ""


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering ``low..high`` (1, 2 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _fmt(value: float) -> str:
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def _tick_label(value: float, ticks: Sequence[float]) -> str:
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    digits = 0 if step >= 1 else 1 if step >= 0.1 else 2
    return f"{value:.{digits}f}"


def _runs(series: Series, scale: float) -> list[list[tuple[float, float]]]:
    """The series split into continuous runs at its gaps (``None`` values)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for t, v in zip(series.t, series.values, strict=False):
        if v is None or not math.isfinite(v):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((t, v * scale))
    return [r for r in runs if r]


def line_chart(
    series: Series,
    *,
    title: str,
    unit: str = "",
    duration_s: float | None = None,
    bands: Sequence[Band] = (),
    scale: float = 1.0,
    y_range: tuple[float, float] | None = None,
    floor: float | None = None,
    colour: str = LINE_COLOUR,
    wide: bool = False,
) -> Markup:
    """One time series as a line (broken at gaps) over time in seconds, with optional shaded bands.

    Args:
        series: values sampled at ``series.t`` seconds; ``None`` values break the line.
        title: shown above the plot and used as the SVG's accessible name.
        unit: appended to the title.
        duration_s: the x axis runs from 0 to this (defaults to the last sample).
        bands: stretches of time to shade behind the line.
        scale: multiply values by this before plotting (e.g. 100 for a share shown in %).
        y_range: fixed y axis limits; otherwise they follow the data.
        floor: the y axis starts no lower than this (e.g. -60 dBFS, so silence does not squash speech).
        colour: the line's colour.
        wide: draw for the full page width instead of half of it (same text size).
    """
    runs = _runs(series, scale)
    points = [p for run in runs for p in run]
    end = duration_s if duration_s else (series.t[-1] if series.t else 1.0)
    end = max(end, 1.0)
    if y_range is not None:
        y_ticks = nice_ticks(*y_range)
    elif points:
        ys = [p[1] for p in points]
        low = min(ys) if floor is None else max(min(ys), floor)
        y_ticks = nice_ticks(low, max(max(ys), low))
    else:
        y_ticks = [0.0, 1.0]
    y_low, y_high = y_ticks[0], y_ticks[-1]
    if y_high == y_low:
        y_high = y_low + 1.0
    width = WIDE_WIDTH if wide else WIDTH
    plot_w = width - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(t: float) -> float:
        return PAD_LEFT + plot_w * min(max(t, 0.0), end) / end

    def y(v: float) -> float:
        v = min(max(v, y_low), y_high)
        return PAD_TOP + plot_h * (1 - (v - y_low) / (y_high - y_low))

    name = f"{title} ({unit})" if unit else title
    out = [  # data-*: where the time axis lies, for a playback cursor drawn over the chart (the replay)
        f'<svg class="chart" viewBox="0 0 {width:.0f} {HEIGHT:.0f}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" aria-label="{escape(name)}" data-x0="{PAD_LEFT:.1f}" data-x1="{width - PAD_RIGHT:.1f}" '
        f'data-end="{end:.2f}" data-y0="{PAD_TOP:.1f}" data-y1="{PAD_TOP + plot_h:.1f}">'
    ]
    for band in bands:
        x0, x1 = x(band.start), x(band.end)
        out.append(
            f'<rect x="{x0:.1f}" y="{PAD_TOP:.1f}" width="{max(x1 - x0, 1.5):.1f}" height="{plot_h:.1f}" '
            f'fill="{escape(band.colour)}" fill-opacity="0.25"><title>{escape(band.label)}</title></rect>'
        )
    for tick in y_ticks:
        ty = y(tick)
        out.append(
            f'<line x1="{PAD_LEFT:.1f}" x2="{width - PAD_RIGHT:.1f}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{PAD_LEFT - 4:.1f}" y="{ty + 3:.1f}" text-anchor="end" font-size="{FONT:.0f}" '
            f'fill="{TEXT_COLOUR}">{escape(_tick_label(tick, y_ticks))}</text>'
        )
    for tick in nice_ticks(0.0, end, count=10 if wide else 6):
        if tick > end + 1e-6:
            continue
        tx = x(tick)
        out.append(
            f'<text x="{tx:.1f}" y="{HEIGHT - 5:.1f}" text-anchor="middle" font-size="{FONT:.0f}" '
            f'fill="{TEXT_COLOUR}">{escape(clock(tick))}</text>'
        )
    out.append(
        f'<line x1="{PAD_LEFT:.1f}" x2="{width - PAD_RIGHT:.1f}" y1="{PAD_TOP + plot_h:.1f}" '
        f'y2="{PAD_TOP + plot_h:.1f}" stroke="#a0aec0" stroke-width="1"/>'
    )
    for run in runs:
        if len(run) == 1:
            t, v = run[0]
            out.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2" fill="{escape(colour)}"/>')
            continue
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{escape(colour)}" stroke-width="1.8" '
            f'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    if not points:
        out.append(
            f'<text x="{PAD_LEFT + plot_w / 2:.1f}" y="{PAD_TOP + plot_h / 2:.1f}" text-anchor="middle" '
            f'font-size="{FONT + 1:.0f}" fill="{TEXT_COLOUR}">no data</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(items: Sequence[tuple[str, float]], *, unit: str = "", max_value: float | None = None) -> Markup:
    """Horizontal bars, one per (label, value), e.g. filler counts by word."""
    row_h = 14.0
    label_w = 80.0
    height = max(row_h * len(items) + 4, row_h)
    top = max((v for _, v in items), default=1.0)
    top = max(max_value or top, 1e-9)
    bar_w = WIDTH - label_w - 40
    out = [f'<svg class="bars" viewBox="0 0 {WIDTH:.0f} {height:.0f}" xmlns="http://www.w3.org/2000/svg" role="img">']
    for i, (label, value) in enumerate(items):
        y0 = 2 + i * row_h
        w = bar_w * max(value, 0.0) / top
        out.append(
            f'<text x="{label_w - 5:.1f}" y="{y0 + 10:.1f}" text-anchor="end" font-size="{FONT + 1:.0f}" '
            f'fill="{TEXT_COLOUR}">{escape(label)}</text>'
        )
        out.append(f'<rect x="{label_w:.1f}" y="{y0 + 2:.1f}" width="{max(w, 1):.1f}" height="10" fill="#e53e3e"/>')
        out.append(
            f'<text x="{label_w + w + 4:.1f}" y="{y0 + 10:.1f}" font-size="{FONT + 1:.0f}" '
            f'fill="{TEXT_COLOUR}">{escape(_fmt(value))}{escape(unit)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))
