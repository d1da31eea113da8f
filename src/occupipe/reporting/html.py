"""A self-contained HTML report with charts (inline SVG: no scripts, no network needed), drawn
by the docs site's chart functions (`charts.py`) with the site's axis titles and colours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from occupipe.core.files import write_bytes_atomically
from occupipe.reporting.charts import (
    PALETTE,
    STATUS_COLOURS,
    Series,
    esc,
    floats,
    hbar_chart,
    heat_map,
    histogram,
    line_chart,
    pivot,
    texts,
    vbar_chart,
)

REPORT_NAME = "report.html"
STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}section{margin-bottom:2em}"
    "figure{margin:0}h2{font-size:1.1em}svg.chart{max-width:100%;height:auto}"
)


def render_report(con: duckdb.DuckDBPyConnection, title: str = "occupipe warehouse report") -> str:
    """The whole page, from the warehouse's marts and report views."""
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
    shares = {(str(c), str(s)): float(v) for c, s, v in heat}
    review = con.execute(
        "select provenance, status, records from review_status_provenance order by all"
    ).fetchall()
    provenances, by_status = pivot(review, list(STATUS_COLOURS))
    words = floats([r[0] for r in con.execute("select word_count from occupations").fetchall()])
    degrees = con.execute(
        "select degree, count(*) from graph_nodes group by degree order by degree"
    ).fetchall()
    runs = con.execute(
        "select strftime(started_at, '%m-%d %H:%M:%S'), records, coalesce(quarantined, 0)"
        " from run_history where event = 'run' and status = 'published'"
        " and records is not null order by started_at"
    ).fetchall()  # a hand-written history line may leave a run's records out
    totals = con.execute(
        "select count(*), sum(word_count), count(*) filter (where is_verified) from occupations"
    ).fetchone() or (0, 0, 0)
    figures = [
        ("Coverage: share of authored records meeting each canonical section's minimum",
         heat_map(sorted({c for c, _ in shares}), sections, shares, "coverage heat map")),
        ("Review status by provenance", hbar_chart(
            provenances, [Series(s, by_status[s], c) for s, c in STATUS_COLOURS.items()],
            "records (count)", "review status by provenance",
        )),
        ("Word count per record", histogram(
            words, 20, ("words per record (lower bound of bin)", "records (count)"),
            "word-count distribution", "#5ab4ac",
        )),
        ("Graph degree distribution (authored records)", vbar_chart(
            texts([d for d, _ in degrees]), floats([c for _, c in degrees]),
            ("degree (links in and out)", "records (count)"), "graph degree distribution",
            "#8c510a",
        )),
        ("Records over runs", line_chart(
            texts([r[0] for r in runs]),
            [Series("records", floats([r[1] for r in runs]), PALETTE[0]),
             Series("quarantined", floats([r[2] for r in runs]), PALETTE[3])],
            ("published run (start, UTC)", "documents (count)"), "records over runs",
        )),
    ]  # fmt: skip
    body = "".join(
        f"<section><h2>{esc(heading)}</h2><figure>{chart}</figure></section>"
        for heading, chart in figures
    )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
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
