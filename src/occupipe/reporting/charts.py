"""SVG chart primitives for the docs site: bars, histograms, lines and heat maps, with axes."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PALETTE = ("#4575b4", "#fc8d59", "#1a9850", "#d73027", "#984ea3", "#8c510a", "#35978f")
STATUS_COLOURS = {"stub": "#d73027", "draft": "#fc8d59", "review": "#91bfdb", "stable": "#4575b4"}
AXIS = "#444"
CHAR_WIDTH = 6.5  # of an 11px sans-serif character, roughly: for label widths


def esc(value: object) -> str:
    """Any value as HTML text, quotes included (safe in attributes too)."""
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class Series:
    """One named series of values, drawn in one colour (and named in the legend)."""

    name: str
    values: Sequence[float]
    colour: str


def number(value: float) -> str:
    """A value as a short label: integers with thousands separators, others to 3 digits."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def exact(value: object) -> str:
    """A figure as the stats document has it: integers with thousands separators, the rest
    as stored (a share to its 3 decimals, a density to its 5)."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    return str(value)


def percent(value: float) -> str:
    return f"{value:.0%}"


def nice_ticks(low: float, high: float, count: int = 5, whole: bool = False) -> list[float]:
    """Round tick values from at or below `low` to at or above `high`, about `count` steps
    (`whole`: steps of at least 1, for counts)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if whole:
        step = max(1, math.ceil(step))
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def text(x: float, y: float, content: object, size: int = 11, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{esc(content)}</text>"
    )


def rect(x: float, y: float, width: float, height: float, fill: str, tip: str) -> str:
    return (
        f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}"'
        f' height="{max(height, 0):.1f}" fill="{fill}"><title>{esc(tip)}</title></rect>'
    )


def line(x1: float, y1: float, x2: float, y2: float, colour: str = AXIS) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"'
        ' stroke-width="1"/>'
    )


def svg(width: float, height: float, body: str, label: str) -> str:
    """A chart: scales down to its container (viewBox), never wider than its natural size."""
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}"'
        f' height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img"'
        f' aria-label="{esc(label)}"><title>{esc(label)}</title>{body}</svg>'
    )


def legend(items: Sequence[tuple[str, str]], x: float, y: float, width: float = 400) -> str:
    """Colour swatches with their names, in rows of at most `width` from (x, y) (rows of 16)."""
    parts, left = [], x
    for name, colour in items:
        size = 24 + len(name) * CHAR_WIDTH
        if x > left and x + size > left + width:
            x, y = left, y + 16
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(text(x + 14, y, name))
        x += size
    return '<g class="legend">' + "".join(parts) + "</g>"


def legend_rows(items: Sequence[tuple[str, str]], width: float = 400) -> int:
    """How many rows `legend` takes for `items`."""
    rows, used = 1, 0.0
    for name, _ in items:
        size = 24 + len(name) * CHAR_WIDTH
        if used and used + size > width:
            rows, used = rows + 1, 0.0
        used += size
    return rows


def floats(values: Sequence[Any]) -> list[float]:
    return [float(v) if v is not None else 0.0 for v in values]


def texts(values: Sequence[Any]) -> list[str]:
    return [str(v) for v in values]


def pivot(
    found: Sequence[tuple[Any, ...]], keys: Sequence[str]
) -> tuple[list[str], dict[str, list[float]]]:
    """(label, key, value) rows as labels in order of first appearance and a series per key."""
    labels = list(dict.fromkeys(str(r[0]) for r in found))
    by_key = {key: [0.0] * len(labels) for key in keys}
    for label, key, value in found:
        by_key.setdefault(str(key), [0.0] * len(labels))[labels.index(str(label))] = float(value)
    return labels, by_key


def is_whole(values: Sequence[float]) -> bool:
    return all(float(v).is_integer() for v in values)


def label_width(labels: Sequence[str], most: float = 190) -> float:
    return min(most, 12 + max((len(s) for s in labels), default=4) * CHAR_WIDTH)


def no_data(label: str) -> str:
    return svg(320, 40, text(10, 25, f"{label}: no data"), label)


def hbar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    value_title: str,
    label: str,
    fmt: Callable[[float], str] = number,
) -> str:
    """Horizontal bars, one per label, the series stacked; the total at each bar's end."""
    if not labels:
        return no_data(label)
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    ticks = nice_ticks(0, max(totals, default=1) or 1, whole=is_whole(totals))
    left, width, row = label_width(labels), 360.0, 22
    keys = [(s.name, s.colour) for s in series]
    top = 12 + 16 * legend_rows(keys, width)
    scale = width / ticks[-1]
    bottom = top + row * len(labels)
    parts = [legend(keys, left, 14, width)]
    for tick in ticks:
        x = left + tick * scale
        parts += [line(x, top, x, bottom, "#ddd"), text(x, bottom + 14, fmt(tick), 10, "middle")]
    for i, name in enumerate(labels):
        y, x = top + i * row + 3, left
        parts.append(text(left - 6, y + 12, name, anchor="end"))
        for s in series:
            size = s.values[i] * scale
            parts.append(
                rect(x, y, size, row - 6, s.colour, f"{name}, {s.name}: {fmt(s.values[i])}")
            )
            x += size
        parts.append(text(x + 4, y + 12, fmt(totals[i]), 10))
    parts += [line(left, top, left, bottom), line(left, bottom, left + width, bottom)]
    parts.append(text(left + width / 2, bottom + 32, value_title, anchor="middle"))
    return svg(left + width + 60, bottom + 42, "".join(parts), label)


def vbar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    axis_titles: tuple[str, str],
    label: str,
    colour: str = PALETTE[0],
) -> str:
    """Vertical bars (a distribution): ticks on the value axis, each bar's value above it."""
    if not labels:
        return no_data(label)
    ticks = nice_ticks(0, max(values, default=1) or 1, whole=is_whole(values))
    left, top, height, width = 56.0, 30.0, 180.0, 480.0
    bar, scale, bottom = width / len(labels), height / ticks[-1], top + height
    parts = [legend([(axis_titles[1], colour)], left, 14)]
    for tick in ticks:
        y = bottom - tick * scale
        parts += [
            line(left, y, left + width, y, "#ddd"),
            text(left - 6, y + 4, number(tick), 10, "end"),
        ]
    every = max(1, math.ceil(len(labels) / 10))
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * bar
        parts.append(
            rect(
                x + 1,
                bottom - value * scale,
                bar - 2,
                value * scale,
                colour,
                f"{name}: {number(value)}",
            )
        )
        if value and bar >= 14:
            parts.append(text(x + bar / 2, bottom - value * scale - 3, number(value), 9, "middle"))
        if i % every == 0:
            parts.append(text(x + bar / 2, bottom + 14, name, 10, "middle"))
    parts += axes(left, top, width, height, axis_titles)
    return svg(left + width + 20, bottom + 42, "".join(parts), label)


def axes(
    left: float, top: float, width: float, height: float, titles: tuple[str, str]
) -> list[str]:
    """The two axes of a plot area and their titles (the value axis's turned upright)."""
    bottom, middle = top + height, top + height / 2
    return [
        line(left, top, left, bottom),
        line(left, bottom, left + width, bottom),
        text(left + width / 2, bottom + 32, titles[0], anchor="middle"),
        f'<text x="14" y="{middle:.1f}" font-size="11" text-anchor="middle"'
        f' transform="rotate(-90 14 {middle:.1f})">{esc(titles[1])}</text>',
    ]


def histogram(
    values: Sequence[float], bins: int, axis_titles: tuple[str, str], label: str, colour: str
) -> str:
    """Counts of values in equal-width bins, each bin named by its lower bound."""
    if not values:
        return no_data(label)
    low, high = min(values), max(values)
    step = (high - low) / bins or 1.0
    counts = [0.0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / step))] += 1
    names = [number(round(low + i * step)) for i in range(bins)]
    return vbar_chart(names, counts, axis_titles, label, colour)


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    axis_titles: tuple[str, str],
    label: str,
    fmt: Callable[[float], str] = number,
) -> str:
    """Lines over ordered points (runs), each point with its value; a legend per series."""
    if not x_labels or not series:
        return no_data(label)
    every_value = [v for s in series for v in s.values]
    ticks = nice_ticks(min(every_value), max(every_value), whole=is_whole(every_value))
    left, top, height, width = 64.0, 30.0, 170.0, 460.0
    bottom, span = top + height, (ticks[-1] - ticks[0]) or 1.0
    step = width / max(1, len(x_labels) - 1)

    def at(i: int, value: float) -> tuple[float, float]:
        x = left + (i * step if len(x_labels) > 1 else width / 2)
        return x, bottom - (value - ticks[0]) / span * height

    parts = [legend([(s.name, s.colour) for s in series], left, 14)]
    for tick in ticks:
        y = bottom - (tick - ticks[0]) / span * height
        parts += [
            line(left, y, left + width, y, "#ddd"),
            text(left - 6, y + 4, fmt(tick), 10, "end"),
        ]
    every = max(1, math.ceil(len(x_labels) / 6))
    for i, name in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1:
            parts.append(text(at(i, ticks[0])[0], bottom + 14, name, 10, "middle"))
    for s in series:
        coords = [at(i, v) for i, v in enumerate(s.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"/>'
        )
        for (x, y), value, name in zip(coords, s.values, x_labels, strict=False):
            parts.append(
                f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{s.colour}">'
                f"<title>{esc(name)}, {esc(s.name)}: {esc(fmt(value))}</title></circle>"
            )
            if len(coords) <= 12:
                parts.append(text(x, y - 7, fmt(value), 9, "middle"))
    parts += axes(left, top, width, height, axis_titles)
    return svg(left + width + 30, bottom + 42, "".join(parts), label)


def heat_colour(share: float) -> str:
    """White (0) to dark teal (1)."""
    level = max(0.0, min(1.0, share))
    red, green, blue = (round(255 - (255 - c) * level) for c in (1, 102, 94))
    return f"rgb({red},{green},{blue})"


def heat_map(
    rows: Sequence[str], columns: Sequence[str], shares: dict[tuple[str, str], float], label: str
) -> str:
    """Rows x columns, each cell coloured and labelled by its share (0-100%), a colour legend."""
    if not rows or not columns:
        return no_data(label)
    cell, left, top = 26, label_width(rows, 150), 10 + 6 * max(len(c) for c in columns)
    parts = []
    for j, name in enumerate(columns):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text x="{x:.1f}" y="{top - 6}" font-size="10"'
            f' transform="rotate(-60 {x:.1f} {top - 6})">{esc(name)}</text>'
        )
    for i, name in enumerate(rows):
        y = top + i * cell
        parts.append(text(left - 6, y + 17, name, anchor="end"))
        for j, column in enumerate(columns):
            value = shares.get((name, column), 0.0)
            tip = f"{name}, {column}: {percent(value)}"
            parts.append(rect(left + j * cell, y, cell - 1, cell - 1, heat_colour(value), tip))
            ink = "#fff" if value > 0.6 else "#222"
            parts.append(
                f'<text x="{left + j * cell + cell / 2:.1f}" y="{y + 16:.1f}" font-size="8"'
                f' text-anchor="middle" fill="{ink}">{round(value * 100)}</text>'
            )
    bottom = top + len(rows) * cell + 12
    scale = "".join(
        rect(left + k * 30, bottom, 30, 12, heat_colour(k / 10), f"{k * 10}%") for k in range(11)
    )
    ticks = "".join(
        text(left + k * 30 + 15, bottom + 26, f"{k * 10}", 9, "middle") for k in range(0, 11, 2)
    )
    title = text(left, bottom + 42, "share of records meeting the minimum (%); cells show %")
    longest = max(len(c) for c in columns) * CHAR_WIDTH / 2  # a column name's run to the right
    width = max(left + len(columns) * cell + longest + 10, left + 360)
    return svg(width, bottom + 50, "".join(parts) + scale + ticks + title, label)
