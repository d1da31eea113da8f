"""Results of queries and reports, printed in parts or written to a file batch by batch."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from occupipe.core.files import write_atomically
from pipelines.cli.common import Format, TextFormat, fail, out
from pipelines.cli.output import TEXT_WRITERS, print_table, write_json_object

# rows fetched at a time when a result is written to a file: at most one such batch is in
# memory, whatever the result's size (fetched whole, a large result's memory grew with it)
RESULT_BATCH_ROWS = 50_000


def emit(
    fmt: TextFormat | Format, parts: list[tuple[str, list[str], list[tuple[Any, ...]]]]
) -> None:
    """Print one or more result sets in the chosen format."""
    if fmt != "table":
        print_parts(fmt, [(name, columns, [rows]) for name, columns, rows in parts], len(parts))
        return
    for name, columns, rows in parts:
        print_table(out, name if len(parts) > 1 else None, columns, rows)


def print_parts(
    fmt: str, parts: Iterable[tuple[str, list[str], Iterable[Sequence[Any]]]], count: int
) -> None:
    """Print `count` named results as csv or json, each chunk of rows as it comes: one part as
    it is, several as one JSON object (name -> rows) or as CSV blocks under `# name`."""
    if fmt == "json" and count > 1:
        write_json_object(sys.stdout, parts)
        return
    for index, (name, columns, chunks) in enumerate(parts):
        prefix = f"# {name}\n" if fmt == "csv" and count > 1 else ""
        sys.stdout.write(("\n" if index else "") + prefix)
        TEXT_WRITERS[fmt](sys.stdout, columns, chunks)


def fetch_for_table(cursor: duckdb.DuckDBPyConnection, limit: int) -> tuple[list[Any], bool]:
    """At most `limit` rows of a result, and whether it has more."""
    rows = cursor.fetchmany(limit)
    return rows, len(rows) == limit and cursor.fetchone() is not None


def describe_cut(limit: int, part: str | None = None) -> str:
    """The note under a table cut at `limit` rows (of one report part, if named)."""
    shown = f"{limit} rows" if limit > 1 else "row"
    where = f"{part}: " if part else ""
    return f"({where}showing the first {shown}; use --limit or --format csv for more)"


def chunks_of(cursor: duckdb.DuckDBPyConnection) -> Iterator[list[Any]]:
    """A result's rows, `RESULT_BATCH_ROWS` at a time."""
    return iter(lambda: cursor.fetchmany(RESULT_BATCH_ROWS), [])


def write_parquet_result(relation: duckdb.DuckDBPyRelation, output: Path) -> None:
    """Write a query's result as Parquet, batch by batch (`write_result_file`)."""

    def write(path: Path) -> None:
        reader = relation.to_arrow_reader(RESULT_BATCH_ROWS)
        with pq.ParquetWriter(path, reader.schema, compression="zstd") as writer:
            while batch := read_next_batch(reader):
                writer.write_batch(batch)

    try:
        write_result_file(output, write)
    except pa.ArrowException as exc:
        first = str(exc).splitlines()[0]
        raise fail(f"the result cannot be written as Parquet ({first}); try csv or json") from None


def read_next_batch(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    """The next batch of a query's result (None at its end). The query failing midway comes
    through Arrow as an OSError: raised here as the DuckDB error it is, not as a write fault."""
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None
    except (OSError, pa.ArrowException) as exc:
        raise duckdb.Error(str(exc)) from None


def write_text_result(
    fmt: TextFormat | Format, columns: list[str], cursor: duckdb.DuckDBPyConnection, output: Path
) -> int:
    """Write a query's result as csv or json, batch by batch (`write_result_file`); rows."""
    chunks = chunks_of(cursor)
    written = 0

    def write(path: Path) -> None:
        nonlocal written
        with path.open("w", encoding="utf-8", newline="") as stream:
            written = TEXT_WRITERS[fmt](stream, columns, chunks)

    write_result_file(output, write)
    return written


def write_result_file(output: Path, write: Callable[[Path], None]) -> None:
    """Write a file through a temporary one beside it: a failure, or a query that fails
    midway, leaves whatever was at `output` before."""
    try:
        write_atomically(output, write)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}") from None
