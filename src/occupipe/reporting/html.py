"""A self-contained HTML report with charts (inline SVG: no scripts, no network needed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb

from occupipe.core.files import write_bytes_atomically
from occupipe.reporting.charts import STATUS_COLOURS, esc, text

REPORT_NAME = "report.html"


def heat_colour(share: float) -> str:
    """White (0) to dark teal (1)."""
    level = max(0.0, min(1.0, share))
    red, green, blue = (int(255 - (255 - c) * level) for c in (1, 102, 94))
    return f"rgb({red},{green},{blue})"


def rect(css: str, x: float, y: float, width: float, height: float, fill: str, tip: str) -> str:
    return (
        f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}"'
        f' fill="{fill}"><title>{esc(tip)}</title></rect>'
    )


def svg(width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}">{body}</svg>'
    )


def heat_map(
    rows: Sequence[tuple[str, str, float]], categories: list[str], sections: list[str]
) -> str:
    """Category x canonical section: share of records meeting the section's minimum."""
    cell, left, top = 22, 130, 150
    share = {(c, s): v for c, s, v in rows}
    parts = []
    for j, section in enumerate(sections):
        x = left + j * cell + cell // 2
        parts.append(
            f'<text x="{x}" y="{top - 6}" transform="rotate(-60 {x} {top - 6})"'
            f' font-size="10">{esc(section)}</text>'
        )
    for i, category in enumerate(categories):
        y = top + i * cell
        parts.append(text(left - 6, y + 15, category, anchor="end"))
        for j, section in enumerate(sections):
            value = share.get((category, section), 0.0)
            tip = f"{category}, {section}: {value:.0%}"
            parts.append(
                rect("cell", left + j * cell, y, cell - 1, cell - 1, heat_colour(value), tip)
            )
    width, height = left + len(sections) * cell + 90, top + len(categories) * cell + 10
    return svg(width, height, "".join(parts), "coverage heat map")


def stacked_bars(rows: Sequence[tuple[str, str, int]]) -> str:
    """Records by provenance, stacked by review status."""
    groups: dict[str, dict[str, int]] = {}
    for provenance, status, count in rows:
        groups.setdefault(provenance, {})[status] = count
    biggest = max((sum(g.values()) for g in groups.values()), default=1)
    parts, bar_height, left, width = [], 26, 110, 420
    for i, (provenance, counts) in enumerate(sorted(groups.items())):
        y, x = 10 + i * (bar_height + 8), float(left)
        parts.append(text(left - 6, y + 17, provenance, anchor="end"))
        for status, colour in STATUS_COLOURS.items():
            size = counts.get(status, 0) / biggest * width
            if size:
                tip = f"{provenance} {status}: {counts[status]}"
                parts.append(rect("bar", x, y, size, bar_height, colour, tip))
                x += size
    legend = "".join(
        f'<rect x="{left + k * 90}" y="{14 + len(groups) * 34}" width="10" height="10" fill="{c}"/>'
        f'<text x="{left + k * 90 + 14}" y="{23 + len(groups) * 34}" font-size="11">{s}</text>'
        for k, (s, c) in enumerate(STATUS_COLOURS.items())
    )
    return svg(
        left + width + 20,
        40 + len(groups) * 34,
        "".join(parts) + legend,
        "review status by provenance",
    )


def histogram(values: Sequence[float], bins: int, label: str, colour: str) -> str:
    """Counts of values in equal-width bins, with the range on the axis."""
    if not values:
        return svg(300, 40, '<text x="10" y="25">no data</text>', label)
    low, high = min(values), max(values)
    step = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / step))] += 1
    return bar_chart([f"{low + i * step:.0f}" for i in range(bins)], counts, label, colour)


def bar_chart(labels: Sequence[str], counts: Sequence[int], label: str, colour: str) -> str:
    width, height, bottom = 520, 200, 170
    top = max(counts, default=1) or 1
    bar = width / max(1, len(counts))
    parts = [
        rect(
            "bar",
            i * bar,
            bottom - c / top * 150,
            bar - 2,
            c / top * 150,
            colour,
            f"{labels[i]}: {c}",
        )
        for i, c in enumerate(counts)
    ]
    every = max(1, len(labels) // 8)
    parts += [
        f'<text x="{i * bar:.1f}" y="{bottom + 14}" font-size="10">{esc(text)}</text>'
        for i, text in enumerate(labels)
        if i % every == 0
    ]
    return svg(width, height, "".join(parts), label)


def line_chart(points: Sequence[tuple[str, float]], label: str) -> str:
    """Values over runs (one point per published run)."""
    if len(points) < 2:
        return "<p>Trends appear after two published runs.</p>" + (
            f"<p>Records in the only run: {points[0][1]:.0f}</p>" if points else ""
        )
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    coords = [
        (20 + i * 480 / (len(points) - 1), 150 - (v - low) / span * 130)
        for i, (_, v) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in coords)
    body = f'<polyline points="{path}" fill="none" stroke="#01665e" stroke-width="2"/>{dots}'
    body += f'<text x="20" y="175" font-size="10">{low:.0f} .. {high:.0f}</text>'
    return svg(520, 185, body, label)


def render_report(con: duckdb.DuckDBPyConnection, title: str = "occupipe warehouse report") -> str:
    """The whole page, from the warehouse's marts and report views."""
    categories = [
        r[0] for r in con.execute("select distinct category from occupations order by 1").fetchall()
    ]
    sections = [
        r[0]
        for r in con.execute(
            "select canonical_heading from stg_canonical_sections order by canonical_position"
        ).fetchall()
    ]
    heat = con.execute(
        "select o.category, s.canonical_heading, avg(s.meets_minimum::integer)"
        " from occupation_sections s join occupations o using (slug)"
        " where not o.is_federated group by all"
    ).fetchall()
    review = con.execute(
        "select provenance, status, records from review_status_provenance"
    ).fetchall()
    words = [float(r[0]) for r in con.execute("select word_count from occupations").fetchall()]
    degrees = con.execute(
        "select degree, count(*) from graph_nodes group by degree order by degree"
    ).fetchall()
    runs = con.execute(
        "select started_at::varchar, records from run_history"
        " where event = 'run' and status = 'published' and records is not null"
        " order by started_at"
    ).fetchall()  # a hand-written history line may leave a run's records out
    totals = con.execute(
        "select count(*), sum(word_count), count(*) filter (where is_verified) from occupations"
    ).fetchone() or (0, 0, 0)
    figures = [
        ("Coverage: share of authored records meeting each canonical section's minimum",
         heat_map(heat, categories, sections)),
        ("Review status by provenance", stacked_bars(review)),
        ("Word count per record", histogram(words, 20, "word-count distribution", "#5ab4ac")),
        ("Graph degree distribution (authored records)", bar_chart(
            [str(d) for d, _ in degrees], [int(c) for _, c in degrees], "degrees", "#8c510a"
        )),
        ("Records over runs", line_chart([(t, float(r)) for t, r in runs], "records over runs")),
    ]  # fmt: skip
    body = "".join(
        f"<section><h2>{esc(heading)}</h2><figure>{chart}</figure></section>"
        for heading, chart in figures
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>body{{font-family:sans-serif;margin:2em;color:#222}}"
        "section{margin-bottom:2em}figure{margin:0}h2{font-size:1.1em}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>{totals[0]} records, {totals[1]} words, {totals[2]} verified."
        f" Generated {generated}.</p>{body}</body></html>\n"
    )


def write_report(database: Path, out: Path) -> Path:
    """Render the report of a warehouse file into `out`."""
    with duckdb.connect(str(database), read_only=True) as con:
        page = render_report(con)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(out, page.encode("utf-8"))
    return out
