"""`occupipe report`: a report's SQL views printed as tables, json or csv, or all as HTML."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer

from pipelines.cli.common import (
    EXIT_USAGE,
    AsOfOption,
    FormatOption,
    LimitOption,
    TextFormat,
    WarehouseOption,
    connect_read_only,
    err,
    fail,
    parse_date,
    say,
)
from pipelines.cli.results import chunks_of, describe_cut, emit, fetch_for_table, print_parts

REPORTS_HELP = "coverage, review, wordcount or stats (or any report view's full name)."


def report(
    name: Annotated[str | None, typer.Argument(help=REPORTS_HELP)] = None,
    fmt: FormatOption = TextFormat.table,
    as_of: AsOfOption = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML report with charts here.")
    ] = None,
    limit: LimitOption = 100,
    warehouse: WarehouseOption = None,
) -> None:
    """Print a report computed by the SQL models in sql/reports (or --html FILE: charts)."""
    day = parse_date(as_of)
    if html_file is not None and name is not None:
        raise fail("--html writes every chart at once: leave out the report name.", EXIT_USAGE)
    con = connect_read_only(warehouse)
    if day:
        con.execute("set variable as_of = ?", [day])
    if html_file is not None:
        from occupipe.reporting.html import render_report

        try:
            html_file.write_text(render_report(con), encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {html_file}: {exc.strerror or exc}") from None
        say(f"wrote {html_file}")
        return
    if name is None:
        raise fail(f"name a report: {REPORTS_HELP}", EXIT_USAGE)
    models = report_models(con, name)
    if not models:
        raise fail(f"there is no report called {name!r}; try {REPORTS_HELP}", EXIT_USAGE)
    if models == ["stats"]:
        if fmt == "csv":
            raise fail("stats is one JSON document: leave out --format csv.", EXIT_USAGE)
        row = con.execute("select stats::varchar from stats").fetchone()
        sys.stdout.write((row[0] if row else "{}") + "\n")
        return
    if fmt != "table":
        print_report_parts(con, models, fmt)
        return
    parts, cut = [], []
    for model in models:  # at 100k records review_queue alone has 50k rows to draw
        cursor = con.execute(f"select * from {model}")
        columns = [d[0] for d in cursor.description or []]
        rows, more = fetch_for_table(cursor, limit)
        if more:
            cut.append(model)
        parts.append((model, columns, rows))
    emit(fmt, parts)
    for model in cut:
        err.print(describe_cut(limit, model if len(parts) > 1 else None))


def print_report_parts(con: duckdb.DuckDBPyConnection, models: list[str], fmt: str) -> None:
    """Print report parts as csv or json as their rows come (`chunks_of`): at 100k records a
    part holds up to 50k rows."""

    def parts() -> Iterator[tuple[str, list[str], Iterator[list[Any]]]]:
        for model in models:  # each part read to its end before the next is queried
            cursor = con.execute(f"select * from {model}")
            yield model, [d[0] for d in cursor.description or []], chunks_of(cursor)

    print_parts(fmt, parts(), len(models))


def report_models(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """The report views making up report NAME: the view NAME itself, or every NAME_* view."""
    from occupipe.api import report_views

    reports = report_views(con)
    if name in reports:
        return [name]
    return [v for v in reports if v.startswith(f"{name}_")]
