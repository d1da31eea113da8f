"""The docs site's page per report group: coverage, review, word count, graph, pipeline health."""

from __future__ import annotations

from collections.abc import Callable

from occupipe.reporting.charts import (
    PALETTE,
    STATUS_COLOURS,
    Series,
    exact,
    floats,
    hbar_chart,
    heat_map,
    histogram,
    line_chart,
    percent,
    pivot,
    texts,
    vbar_chart,
)
from occupipe.reporting.pages import Page, Reports, figure, figures, query_table


def bars(labels: list[str], values: list[float], colour: str, *titles: str) -> str:
    """One series of horizontal bars: (value axis title, chart label)."""
    return hbar_chart(labels, [Series(titles[1], values, colour)], titles[0], titles[1])


def share_bars(
    labels: list[str], shares: list[float], titles: tuple[str, str], caption: str
) -> str:
    """A figure of shares as horizontal bars, in percent: (value axis title, chart label)."""
    chart = hbar_chart(labels, [Series(titles[1], shares, PALETTE[2])], *titles, percent)
    return figure(chart, caption)


def coverage_page(r: Reports) -> Page:
    """Records by category and kind, the section heat map, section presence; every part."""
    by_kind = sorted(r.pick("coverage_by_category_kind", "category", "kind", "records"))
    kinds = sorted({str(k) for _, k, _ in by_kind})
    labels, values = pivot(by_kind, kinds)
    series = [Series(k, values[k], PALETTE[i % len(PALETTE)]) for i, k in enumerate(kinds)]
    sections = texts(r.column("coverage_sections", "section"))
    heat = r.rows(
        "select o.category, s.canonical_heading, avg(s.meets_minimum::integer)"
        " from occupation_sections s join occupations o using (slug)"
        " where not o.is_federated group by all"
    )
    shares = {(str(c), str(s)): float(v) for c, s, v in heat}
    categories = sorted({c for c, _ in shares})
    present = floats(r.column("coverage_sections", "present_share"))
    body = (
        figure(
            hbar_chart(labels, series, "records (count)", "records by category and kind"),
            "Records by category, stacked by kind.",
        )
        + figure(
            heat_map(categories, sections, shares, "coverage heat map"),
            "Authored records: share meeting each canonical section's minimum, by category.",
        )
        + share_bars(
            sections,
            present,
            ("share of records with the section (%)", "section presence"),
            "Share of records in which each canonical section is present.",
        )
        + r.sections("coverage_")
    )
    return Page("coverage.html", "Coverage", body)


def review_page(r: Reports) -> Page:
    """Review status by provenance, verified shares; every part."""
    found = sorted(r.pick("review_status_provenance", "provenance", "status", "records"))
    labels, values = pivot(found, list(STATUS_COLOURS))
    series = [Series(s, values[s], colour) for s, colour in STATUS_COLOURS.items()]
    verified = r.pick("review_verified", "provenance", "records", "verified")
    shares = floats(r.column("review_verified", "verified_share"))
    overall = [(row, share) for row, share in zip(verified, shares, strict=True) if row[0] == "all"]
    headline = figures(
        [
            item
            for (_, records, count), share in overall
            for item in (
                ("records", exact(records), "totals.souls"),
                ("verified", exact(count), "totals.verified"),
                ("verified share", exact(share), "totals.verifiedShare"),
            )
        ]
    )
    body = (
        headline
        + figure(
            hbar_chart(labels, series, "records (count)", "review status by provenance"),
            "Records by provenance, stacked by review status.",
        )
        + share_bars(
            texts([v[0] for v in verified]),
            shares,
            ("verified share of records (%)", "verified share by provenance"),
            "Share of records verified, overall and by provenance.",
        )
        + r.sections("review_")
    )
    return Page("review.html", "Review status", body)


def wordcount_page(r: Reports) -> Page:
    """The word-count distribution, words by category; every part."""
    columns, totals = r.view("wordcount_totals")
    total = dict(zip(columns, totals[0], strict=True)) if totals else {}
    words = floats([row[0] for row in r.rows("select word_count from occupations")])
    named = {"records": "totals.souls", "words": "totals.words"}
    headline = figures(
        [(k.replace("_", " "), exact(v), named.get(k, "")) for k, v in total.items()]
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
            bars(
                texts(r.column("wordcount_by_category", "category")),
                floats(r.column("wordcount_by_category", "mean_words")),
                PALETTE[5],
                "mean words per record (words)",
                "mean words by category",
            ),
            "Mean words per record, by category.",
        )
        + r.sections("wordcount_")
    )
    return Page("wordcount.html", "Word count", body)


def graph_page(r: Reports) -> Page:
    """Degrees, the graph's measures, the most central records."""
    degrees = r.rows("select degree, count(*) from graph_nodes group by degree order by degree")
    measures = texts(r.column("coverage_graph", "measure"))
    values = r.column("coverage_graph", "value")
    edges = [
        ("graph edges (authored to authored)", exact(value), "totals.edges")
        for measure, value in zip(measures, values, strict=True)
        if measure.startswith("graph edges")
    ]
    body = (
        figures(edges)
        + figure(
            vbar_chart(
                texts([d for d, _ in degrees]),
                floats([c for _, c in degrees]),
                ("degree (links in and out)", "records (count)"),
                "graph degree distribution",
                "#8c510a",
            ),
            "Authored records by degree.",
        )
        + figure(
            bars(
                measures,
                floats(values),
                PALETTE[0],
                "count (edges, references, nodes or records)",
                "graph measures",
            ),
            "The graph's measures (coverage_graph).",
        )
        + '<h2 id="central">The 25 records of highest degree</h2>'
        + query_table(
            r.con,
            "select n.slug, n.title, n.category, n.degree, n.neighbour_categories,"
            " round(b.betweenness, 4) as betweenness from graph_nodes n"
            " left join graph_betweenness b using (slug)"
            " order by n.degree desc, b.betweenness desc nulls last, n.slug limit 25",
        )
        + r.section("coverage_graph")
    )
    return Page("graph.html", "Graph", body)


def health_page(r: Reports) -> Page:
    """DORA-style health of the pipeline and the inputs of the run."""
    weeks = r.rows(
        "select strftime(date_trunc('week', started_at), '%Y-%m-%d'),"
        " count(*) filter (where status = 'published'),"
        " count(*) filter (where status <> 'published')"
        " from run_history where event = 'run' group by 1 order by 1"
    )
    inputs = r.rows("select outcome, inputs from run_inputs order by outcome")
    published = Series("published", floats([w[1] for w in weeks]), PALETTE[2])
    other = Series("failed or other", floats([w[2] for w in weeks]), PALETTE[3])
    body = (
        figure(
            hbar_chart(
                texts([w[0] for w in weeks]), [published, other], "runs (count)", "runs per week"
            ),
            "Runs per week (by the Monday that starts it), by outcome.",
        )
        + figure(
            bars(
                texts([i[0] for i in inputs]),
                floats([i[1] for i in inputs]),
                PALETTE[0],
                "input documents (count)",
                "this run's inputs",
            ),
            "This release's input documents by outcome.",
        )
        + r.section("health_dora")
        + r.section("trend_runs")
    )
    return Page("health.html", "Pipeline health", body)


def runs_chart(r: Reports) -> str:
    """Records and quarantined inputs over the published runs; verified share and completeness."""
    found = r.rows(
        "select strftime(started_at, '%m-%d %H:%M:%S'), records, coalesce(quarantined, 0),"
        " verified_share, mean_completeness from trend_runs"
        " where status = 'published' and records is not null order by started_at"
    )
    labels = texts([row[0] for row in found])
    records, quarantined, verified, complete = (
        floats([row[i] for row in found]) for i in range(1, 5)
    )
    axis = "published run (start, UTC)"
    return figure(
        line_chart(
            labels,
            [
                Series("records", records, PALETTE[0]),
                Series("quarantined", quarantined, PALETTE[3]),
            ],
            (axis, "documents (count)"),
            "records over runs",
        ),
        "Records loaded and inputs quarantined, per published run.",
    ) + figure(
        line_chart(
            labels,
            [
                Series("verified share", verified, PALETTE[2]),
                Series("mean completeness", complete, PALETTE[4]),
            ],
            (axis, "share of records (%)"),
            "shares over runs",
            percent,
        ),
        "Verified share and mean completeness, per published run.",
    )


GROUP_PAGES: tuple[Callable[[Reports], Page], ...] = (
    coverage_page,
    review_page,
    wordcount_page,
    graph_page,
    health_page,
)
