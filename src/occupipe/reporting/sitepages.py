"""The docs site's other pages: the index, data dictionary, data tests, quarantine, runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from occupipe.core.runs import DataTestResult
from occupipe.reporting.charts import esc, exact
from occupipe.reporting.groups import runs_chart
from occupipe.reporting.lineage import dictionary_anchor
from occupipe.reporting.pages import NAVIGATION, Page, Reports, figures, query_table, table

TOTALS = {  # stats.json's totals, as the index names them
    "souls": "records",
    "federated": "federated records",
    "kinds": "kinds",
    "categories": "categories",
    "edges": "graph edges",
    "words": "words",
    "avgWords": "mean words per record",
    "avgReadingTime": "mean reading time (minutes)",
    "tags": "distinct tags",
    "contributors": "contributors",
    "graphDensity": "graph density",
    "stableShare": "stable share",
    "verified": "verified records",
    "verifiedShare": "verified share",
}
ABOUT = {
    "coverage.html": "records by category and kind, canonical sections, metadata, the graph",
    "review.html": "review status by provenance, the review queue, stale records, reviewers",
    "wordcount.html": "words per record, by category, kind and section; the extremes",
    "graph.html": "degrees, the graph's measures, the most linked records",
    "health.html": "runs per week, failure rate, time to restore, this run's inputs",
    "dictionary.html": "every table and view, every column, from the warehouse's comments",
    "lineage.html": "sources, staging, marts and reports, each with its SQL",
    "tests.html": "every data test's result; sample rows of those that warn or fail",
    "quarantine.html": "the inputs not loaded, with the stage and the reason",
    "runs.html": "the runs over time: records, quarantined inputs, shares",
}


def outcome(result: DataTestResult) -> str:
    if result.passed:
        return '<span class="pass">pass</span>'
    return (
        '<span class="warn">warn</span>'
        if result.severity == "warn"
        else '<span class="fail">fail</span>'
    )


def headline(r: Reports, release: str) -> str:
    """The index's opening: the release, the date its figures are as of, stats.json's totals."""
    columns, rows = r.view("stats_totals")
    totals = dict(zip(columns, rows[0], strict=True)) if rows else {}
    cards = [(TOTALS[k], exact(v), f"totals.{k}") for k, v in totals.items() if k in TOTALS]
    day = r.column("stats_figures", "generatedFor")
    return (
        f"<p>Release <strong>{esc(release)}</strong>, figures as of"
        f' <span data-stat="generatedFor">{esc(day[0] if day else "")}</span>.</p>' + figures(cards)
    )


def index_page(
    opening: str, gates: Mapping[str, Mapping[str, Any]], results: Sequence[DataTestResult]
) -> Page:
    """The headline (`headline`), the release's gates and data tests, links to every page."""
    gate_rows = [
        (name, "passed" if g.get("passed") else "failed", g.get("detail"))
        for name, g in gates.items()
    ]
    failing = [r for r in results if not r.passed]
    tests = (
        f"<p>{len(results)} data tests: {len(results) - len(failing)} pass,"
        f" {sum(r.severity == 'warn' for r in failing)} warn,"
        f" {sum(r.severity != 'warn' for r in failing)} fail"
        ' (<a href="tests.html">results</a>).</p>'
    )
    links = "".join(
        f'<li><a href="{esc(file)}">{esc(title)}</a>: {esc(ABOUT.get(file, ""))}</li>'
        for file, title in NAVIGATION[1:]
    )
    body = (
        opening
        + "<h2>Gates</h2>"
        + table(["gate", "result", "detail"], gate_rows)
        + "<h2>Data tests</h2>"
        + tests
        + f"<h2>Pages</h2><ul>{links}</ul>"
    )
    return Page("index.html", "Overview", body)


def dictionary_page(r: Reports) -> Page:
    """Every table and view of the warehouse and every column, with the warehouse's comments."""
    con = r.con
    relations = con.execute(
        "select schema_name, table_name, 'table', comment from duckdb_tables()"
        " where database_name = current_database() and not temporary"
        " union all select schema_name, view_name, 'view', comment from duckdb_views()"
        " where database_name = current_database() and not internal and not temporary"
        " order by 1, 2"
    ).fetchall()
    columns: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for schema, name, column, kind, nullable, comment in con.execute(
        "select schema_name, table_name, column_name, data_type, is_nullable, comment"
        " from duckdb_columns() where database_name = current_database() and not internal"
        " order by schema_name, table_name, column_index"
    ).fetchall():
        columns.setdefault((schema, name), []).append((column, kind, nullable, comment))
    contents = "".join(
        f'<li><a href="#{esc(dictionary_anchor(s, n))}">{esc(s)}.{esc(n)}</a> ({esc(k)})</li>'
        for s, n, k, _ in relations
    )
    sections = "".join(
        f'<h2 id="{esc(dictionary_anchor(s, n))}">{esc(s)}.{esc(n)} <small>({esc(k)})</small></h2>'
        f"<p>{esc(comment or '')}</p>"
        + table(["column", "type", "null?", "description"], columns.get((s, n), []))
        for s, n, k, comment in relations
    )
    intro = (
        f"<p>{len(relations)} tables and views, described by the comments the build gives"
        " them (<code>duckdb_tables()</code>, <code>duckdb_views()</code>,"
        " <code>duckdb_columns()</code>).</p>"
    )
    return Page("dictionary.html", "Data dictionary", intro + f"<ul>{contents}</ul>" + sections)


def tests_page(results: Sequence[DataTestResult]) -> Page:
    """Every data test's outcome; the sample rows of each that warns or fails."""
    ordered = sorted(results, key=lambda r: (r.passed, r.severity != "error", r.name))
    head = "<tr><th>test</th><th>severity</th><th>failing rows</th><th>outcome</th></tr>"
    body_rows = "".join(
        f"<tr><td>{_test_link(r)}</td><td>{esc(r.severity)}</td>"
        f'<td class="n">{r.failures}</td><td>{outcome(r)}</td></tr>'
        for r in ordered
    )
    samples = "".join(
        f'<h2 id="{esc(r.name)}">{esc(r.name)} ({esc(r.severity)}, {r.failures} rows)</h2>'
        f"<p>The first {len(r.sample)} failing rows, in sort order:</p>"
        + table(r.columns, r.sample)
        for r in ordered
        if not r.passed
    )
    listing = (
        f'<div class="scroll"><table><thead>{head}</thead><tbody>{body_rows}</tbody></table></div>'
    )
    return Page("tests.html", "Data tests", listing + samples)


def _test_link(result: DataTestResult) -> str:
    return (
        esc(result.name)
        if result.passed
        else f'<a href="#{esc(result.name)}">{esc(result.name)}</a>'
    )


def quarantine_page(r: Reports) -> Page:
    """The inputs that were not loaded, with the stage that stopped them and why."""
    con = r.con
    found = con.execute("select count(*) from quarantine").fetchone()
    count = found[0] if found else 0
    said = "1 input was" if count == 1 else f"{count} inputs were"
    body = f"<p>{said} quarantined by this run.</p>" + query_table(
        con,
        "select source_file, stage, reason, content_hash from quarantine order by source_file",
        1000,
    )
    return Page("quarantine.html", "Quarantine", body)


def runs_page(r: Reports) -> Page:
    """The runs over time (as the release's run history holds them)."""
    body = (
        runs_chart(r)
        + "<h2>Every run and rollback</h2>"
        + query_table(
            r.con,
            "select started_at, finished_at, event, status, release_id, records, quarantined,"
            " verified_share, mean_completeness, words, reason from run_history"
            " order by started_at desc",
            500,
        )
    )
    return Page("runs.html", "Runs", body)
