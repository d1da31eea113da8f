"""Render query results as a terminal table, JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text


def to_jsonable(value: Any) -> Any:
    """Plain JSON types for DuckDB values: dates and times as ISO strings, decimals as floats,
    UUIDs and intervals as text, bytes as hex."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def rows_as_dicts(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts keyed by column name."""
    return [{c: to_jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows]


def render_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def csv_values(row: Sequence[Any]) -> list[Any]:
    """A row's CSV fields: lists and maps as JSON text, other values as `to_jsonable` gives."""
    return [
        json.dumps(to_jsonable(v)) if isinstance(v, list | dict) else to_jsonable(v) for v in row
    ]


def write_csv(
    out: TextIO, columns: Sequence[str], chunks: Iterable[Sequence[Sequence[Any]]]
) -> int:
    """Write a header and the rows of every chunk as CSV; the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for rows in chunks:
        writer.writerows(csv_values(row) for row in rows)
        count += len(rows)
    return count


def write_json(
    out: TextIO, columns: Sequence[str], chunks: Iterable[Sequence[Sequence[Any]]]
) -> int:
    """Write the rows of every chunk as one JSON array of objects, chunk by chunk, exactly as
    `render_json` renders the whole list (and a newline); the number of rows."""
    count = write_json_array(out, columns, chunks)
    out.write("\n")
    return count


def write_json_array(
    out: TextIO, columns: Sequence[str], chunks: Iterable[Sequence[Sequence[Any]]], depth: int = 0
) -> int:
    """Write the rows of every chunk as the JSON array `render_json` renders for the whole list
    at nesting `depth` (1: a value of a top-level object), without a final newline; the number
    of rows."""
    pad = "  " * depth
    count = 0
    for rows in chunks:
        if rows:
            # the chunk rendered as a list, without its brackets: the items as the whole
            # list's rendering has them (json.dumps escapes every newline inside a string, so
            # each line break is the layout's, and takes the nesting's indent)
            items = render_json(rows_as_dicts(columns, rows))[2:-2].replace("\n", "\n" + pad)
            out.write(("[\n" if count == 0 else ",\n") + pad + items)
            count += len(rows)
    out.write(f"\n{pad}]" if count else "[]")
    return count


def write_json_object(
    out: TextIO, parts: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Sequence[Any]]]]]
) -> None:
    """Write named results as one JSON object of arrays (name -> rows as objects), part by
    part and chunk by chunk, exactly as `render_json` renders the whole object (and a
    newline)."""
    written = 0
    for name, columns, chunks in parts:
        out.write(("{\n" if written == 0 else ",\n") + f"  {render_json(name)}: ")
        write_json_array(out, columns, chunks, depth=1)
        written += 1
    out.write("\n}\n" if written else "{}\n")


# csv and json written chunk by chunk, by format name
TEXT_WRITERS = {"csv": write_csv, "json": write_json}


def print_table(
    console: Console, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Rows as a terminal table; values shown as they are (text, never Rich markup: a
    `[a-z0-9]+` in the data stays in the table)."""
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(Text(column), overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if v is None else str(to_jsonable(v))) for v in row))
    console.print(table)
