"""`occupipe query`: a read-only SQL query, printed or written to a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import duckdb
import pyarrow as pa
import typer

from pipelines.cli.common import (
    EXIT_USAGE,
    Format,
    LimitOption,
    QueryFormatOption,
    WarehouseOption,
    connect_read_only,
    err,
    fail,
    say,
)
from pipelines.cli.output import TEXT_WRITERS
from pipelines.cli.results import (
    chunks_of,
    describe_cut,
    emit,
    fetch_for_table,
    write_parquet_result,
    write_text_result,
)


def query(
    sql: Annotated[str, typer.Argument(help="A SQL query (read-only).")],
    fmt: QueryFormatOption = Format.table,
    limit: LimitOption = 100,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the result to this file.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Run a read-only SQL query against the warehouse (parquet needs --out)."""
    if fmt is Format.parquet and output is None:
        raise fail("--format parquet needs --out FILE.", EXIT_USAGE)
    if fmt is Format.table and output is not None:
        raise fail("--out writes csv, json or parquet: choose one with --format.", EXIT_USAGE)
    con = connect_read_only(warehouse)
    empty = "the query is empty: give a SQL statement to run."
    try:
        if fmt is Format.parquet:
            assert output is not None
            relation = con.sql(sql)
            if relation is None:
                raise fail(empty, EXIT_USAGE)
            check_distinct_names(relation.columns, fmt)
            write_parquet_result(relation, output)
            say(f"wrote {output}")
            return
        cursor = con.execute(sql)
        if cursor is None:  # only whitespace or comments
            raise fail(empty, EXIT_USAGE)
        columns = [d[0] for d in cursor.description or []]
        if fmt is Format.json:
            check_distinct_names(columns, fmt)
        if output is not None:
            written = write_text_result(fmt, columns, cursor, output)
            say(f"wrote {written} rows to {output}")
            return
        if fmt is not Format.table:  # printed as the rows come, like a file (`write_text_result`)
            TEXT_WRITERS[fmt](sys.stdout, columns, chunks_of(cursor))
            return
        rows, more = fetch_for_table(cursor, limit)
    except (duckdb.Error, pa.ArrowException) as exc:
        raise fail(f"the query failed: {str(exc).splitlines()[0]}") from None
    emit(fmt, [("query", columns, rows)])
    if more:
        err.print(describe_cut(limit))


def check_distinct_names(columns: list[str], fmt: Format) -> None:
    """JSON objects and Parquet schemas keep one column per name: a result naming two columns
    alike would lose one (JSON) or make a file readers refuse (Parquet)."""
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        names = ", ".join(repeated)
        raise fail(
            f"the result has more than one column named {names}: give each its own name"
            f" (`as`) for --format {fmt.value}.",
            EXIT_USAGE,
        )
