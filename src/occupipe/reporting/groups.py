"""The docs site's page per report group: coverage, review, word count, graph, pipeline health."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from occupipe.reporting.charts import (
    PALETTE,
    Series,
    exact,
    hbar_chart,
    heat_map,
    histogram,
    line_chart,
    percent,
    vbar_chart,
)
from occupipe.reporting.pages import Page, figure, figures, query_table, view_section

STATUS_COLOURS = {"stub": "#d73027", "draft": "#fc8d59", "review": "#91bfdb", "stable": "#4575b4"}


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def tables_of(con: duckdb.DuckDBPyConnection, prefix: str) -> str:
    """Every report view of the group (`coverage_*`, in name order), as a table of its rows."""
    found = rows(
        con,
        "select view_name, comment from duckdb_views() where not internal and view_name like"
        f" '{prefix}%' order by view_name",
    )
    return "".join(view_section(con, str(view), str(comment or "")) for view, comment in found)


def pivot(
    found: list[tuple[object, ...]], keys: list[str]
) -> tuple[list[str], dict[str, list[float]]]:
    """(label, key, value) rows as labels in order of first appearance and a series per key."""
    labels = list(dict.fromkeys(str(r[0]) for r in found))
    by_key = {key: [0.0] * len(labels) for key in keys}
    for label, key, value in found:
        by_key[str(key)][labels.index(str(label))] = float(str(value))
    return labels, by_key


def coverage_page(con: duckdb.DuckDBPyConnection) -> Page:
    """Records by category and kind, the section heat map, section presence; every part."""
    kinds = [
        str(r[0])
        for r in rows(con, "select distinct kind from coverage_by_category_kind order by 1")
    ]
    by_kind = rows(
        con,
        "select category, kind, records from coverage_by_category_kind"
        " order by sum(records) over (partition by category) desc, category, kind",
    )
    labels, values = pivot(by_kind, kinds)
    series = [Series(k, values[k], PALETTE[i % len(PALETTE)]) for i, k in enumerate(kinds)]
    sections = [
        str(r[0])
        for r in rows(con, "select section from coverage_sections order by canonical_position")
    ]
    heat = rows(
        con,
        "select o.category, s.canonical_heading, avg(s.meets_minimum::integer)"
        " from occupation_sections s join occupations o using (slug)"
        " where not o.is_federated group by all",
    )
    shares = {(str(c), str(s)): float(str(v)) for c, s, v in heat}
    categories = sorted({c for c, _ in shares})
    present = rows(
        con, "select section, present_share from coverage_sections order by canonical_position"
    )
    body = (
        figure(
            hbar_chart(labels, series, "records (count)", "records by category and kind"),
            "Records by category, stacked by kind.",
        )
        + figure(
            heat_map(categories, sections, shares, "coverage heat map"),
            "Authored records: share meeting each canonical section's minimum, by category.",
        )
        + figure(
            hbar_chart(
                [str(r[0]) for r in present],
                [Series("present", [float(str(r[1])) for r in present], PALETTE[2])],
                "share of records with the section (%)",
                "section presence",
                percent,
            ),
            "Share of records in which each canonical section is present.",
        )
        + tables_of(con, "coverage_")
    )
    return Page("coverage.html", "Coverage", body)


def review_page(con: duckdb.DuckDBPyConnection) -> Page:
    """Review status by provenance, verified shares; every part."""
    found = rows(
        con,
        "select provenance, status, records from review_status_provenance"
        " order by provenance, status",
    )
    labels, values = pivot(found, list(STATUS_COLOURS))
    series = [Series(s, values[s], colour) for s, colour in STATUS_COLOURS.items()]
    verified = rows(
        con, "select provenance, records, verified, verified_share from review_verified"
    )
    overall = next((r for r in verified if r[0] == "all"), None)
    headline = figures(
        [
            ("records", exact(overall[1]), "totals.souls"),
            ("verified", exact(overall[2]), "totals.verified"),
            ("verified share", exact(overall[3]), "totals.verifiedShare"),
        ]
        if overall
        else []
    )
    body = (
        headline
        + figure(
            hbar_chart(labels, series, "records (count)", "review status by provenance"),
            "Records by provenance, stacked by review status.",
        )
        + figure(
            hbar_chart(
                [str(r[0]) for r in verified],
                [Series("verified", [float(str(r[3])) for r in verified], PALETTE[2])],
                "verified share of records (%)",
                "verified share by provenance",
                percent,
            ),
            "Share of records verified, overall and by provenance.",
        )
        + tables_of(con, "review_")
    )
    return Page("review.html", "Review status", body)


def wordcount_page(con: duckdb.DuckDBPyConnection) -> Page:
    """The word-count distribution, words by category; every part."""
    totals = con.execute(
        "select records, words, mean_words, median_words from wordcount_totals"
    ).fetchone()
    words = [float(str(r[0])) for r in rows(con, "select word_count from occupations")]
    by_category = rows(
        con, "select category, mean_words from wordcount_by_category order by mean_words desc"
    )
    headline = figures(
        [
            ("records", exact(totals[0]), "totals.souls"),
            ("words", exact(totals[1]), "totals.words"),
            ("mean words", exact(totals[2]), ""),
            ("median words", exact(totals[3]), ""),
        ]
        if totals
        else []
    )
    body = (
        headline
        + figure(
            histogram(
                words,
                20,
                ("words per record (lower bound of bin)", "records (count)"),
                "word-count distribution",
                "#5ab4ac",
            ),
            "Records by word count, in 20 equal bins.",
        )
        + figure(
            hbar_chart(
                [str(r[0]) for r in by_category],
                [Series("mean words", [float(str(r[1])) for r in by_category], PALETTE[5])],
                "mean words per record (words)",
                "mean words by category",
            ),
            "Mean words per record, by category.",
        )
        + tables_of(con, "wordcount_")
    )
    return Page("wordcount.html", "Word count", body)


def graph_page(con: duckdb.DuckDBPyConnection) -> Page:
    """Degrees, the graph's measures, the most central records."""
    degrees = rows(con, "select degree, count(*) from graph_nodes group by degree order by degree")
    measures = rows(con, "select measure, value from coverage_graph")
    edges = [
        ("graph edges (authored to authored)", exact(value), "totals.edges")
        for measure, value in measures
        if str(measure).startswith("graph edges")
    ]
    body = (
        figures(edges)
        + figure(
            vbar_chart(
                [str(d) for d, _ in degrees],
                [float(str(c)) for _, c in degrees],
                ("degree (links in and out)", "records (count)"),
                "graph degree distribution",
                "#8c510a",
            ),
            "Authored records by degree.",
        )
        + figure(
            hbar_chart(
                [str(m) for m, _ in measures],
                [Series("value", [float(str(v)) for _, v in measures], PALETTE[0])],
                "count (edges, references, nodes or records)",
                "graph measures",
            ),
            "The graph's measures (coverage_graph).",
        )
        + '<h2 id="central">The 25 records of highest degree</h2>'
        + query_table(
            con,
            "select n.slug, n.title, n.category, n.degree, n.neighbour_categories,"
            " round(b.betweenness, 4) as betweenness from graph_nodes n"
            " left join graph_betweenness b using (slug)"
            " order by n.degree desc, b.betweenness desc nulls last, n.slug limit 25",
        )
        + view_section(con, "coverage_graph")
    )
    return Page("graph.html", "Graph", body)


def health_page(con: duckdb.DuckDBPyConnection) -> Page:
    """DORA-style health of the pipeline and the inputs of the run."""
    weeks = rows(
        con,
        "select strftime(date_trunc('week', started_at), '%Y-%m-%d'),"
        " count(*) filter (where status = 'published'),"
        " count(*) filter (where status <> 'published')"
        " from run_history where event = 'run' group by 1 order by 1",
    )
    inputs = rows(con, "select outcome, inputs from run_inputs order by outcome")
    body = (
        figure(
            hbar_chart(
                [str(w[0]) for w in weeks],
                [
                    Series("published", [float(str(w[1])) for w in weeks], PALETTE[2]),
                    Series("failed or other", [float(str(w[2])) for w in weeks], PALETTE[3]),
                ],
                "runs (count)",
                "runs per week",
            ),
            "Runs per week (by the Monday that starts it), by outcome.",
        )
        + figure(
            hbar_chart(
                [str(r[0]) for r in inputs],
                [Series("inputs", [float(str(r[1])) for r in inputs], PALETTE[0])],
                "input documents (count)",
                "this run's inputs",
            ),
            "This release's input documents by outcome.",
        )
        + view_section(con, "health_dora")
        + view_section(con, "trend_runs")
    )
    return Page("health.html", "Pipeline health", body)


def runs_chart(con: duckdb.DuckDBPyConnection) -> str:
    """Records and quarantined inputs over the published runs; verified share and completeness."""
    found = rows(
        con,
        "select strftime(started_at, '%m-%d %H:%M:%S'), records, coalesce(quarantined, 0),"
        " verified_share, mean_completeness from trend_runs"
        " where status = 'published' and records is not null order by started_at",
    )
    labels = [str(r[0]) for r in found]

    def column(i: int) -> list[float]:
        return [float(str(r[i])) if r[i] is not None else 0.0 for r in found]

    return figure(
        line_chart(
            labels,
            [
                Series("records", column(1), PALETTE[0]),
                Series("quarantined", column(2), PALETTE[3]),
            ],
            ("published run (start, UTC)", "documents (count)"),
            "records over runs",
        ),
        "Records loaded and inputs quarantined, per published run.",
    ) + figure(
        line_chart(
            labels,
            [
                Series("verified share", column(3), PALETTE[2]),
                Series("mean completeness", column(4), PALETTE[4]),
            ],
            ("published run (start, UTC)", "share of records (%)"),
            "shares over runs",
            percent,
        ),
        "Verified share and mean completeness, per published run.",
    )


GROUP_PAGES: tuple[Callable[[duckdb.DuckDBPyConnection], Page], ...] = (
    coverage_page,
    review_page,
    wordcount_page,
    graph_page,
    health_page,
)
