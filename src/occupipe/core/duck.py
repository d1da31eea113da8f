"""DuckDB helpers shared by every stage: bounded connections, quoting, comments, errors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

# DuckDB takes 80% of RAM by default; a bound keeps a run's memory flat as corpora grow
# (DuckDB spills to disk beyond it, and keeps the warehouse's blocks cached up to it). 512MB
# rather than 1GB: the stages stream, so the lower bound lowers the peak at no cost in time.
# The build's database gets 512MB: with 256MB its models and data tests read evicted blocks
# back again and again, slower and with more system time, for a lower peak. The in-memory
# instances that only stream (the published Parquet's, the replay's) keep 256MB.
# OCCUPIPE_DUCKDB_MEMORY overrides both. Figures in benchmarks/HISTORY.md.
DEFAULT_MEMORY_LIMIT = "512MB"
STREAMING_MEMORY_LIMIT = "256MB"


MEMORY_ENV = "OCCUPIPE_DUCKDB_MEMORY"
MIN_MEMORY_BYTES = 64 * 2**20
_DUCKDB_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def memory_limit(streaming: bool = False) -> str:
    """DuckDB's budget: $OCCUPIPE_DUCKDB_MEMORY if set (and not empty), else 512MB for a
    build's database and 256MB for an in-memory instance that streams (`streaming`)."""
    default = STREAMING_MEMORY_LIMIT if streaming else DEFAULT_MEMORY_LIMIT
    return os.environ.get(MEMORY_ENV) or default


def describe_duckdb_error(exc: duckdb.Error) -> str:
    """A DuckDB error's first line; running out of the build's budget says how to raise it
    (at the default budget, a record with a title of megabytes filled it in a report)."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        return (
            f"DuckDB needed more than its memory budget of {memory_limit()}; set {MEMORY_ENV}"
            " higher (e.g. 1GB) and run again"
        )
    return str(exc).splitlines()[0]


def check_memory_limit(value: str) -> None:
    """Raise ValueError unless DuckDB reads `value` as a budget of at least 64 MiB (a typo is
    caught before a run starts, not after its extraction)."""
    problem = f"{MEMORY_ENV}={value!r} is not a memory size of at least 64MB, like 512MB or 2GB"
    try:
        with duckdb.connect() as con:
            con.execute("set memory_limit = ?", [value])
            row = con.execute("select current_setting('memory_limit')").fetchone()
    except duckdb.Error:
        raise ValueError(problem) from None
    number, _, unit = str(row[0] if row else "0 bytes").partition(" ")
    if float(number) * _DUCKDB_UNITS.get(unit, 1) < MIN_MEMORY_BYTES:
        raise ValueError(problem)


def connect_for_build(
    database: Path | None = None, spill_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-write DuckDB connection with a bounded memory budget (spilling to disk): a
    build's database, or an in-memory instance that streams."""
    con = duckdb.connect(str(database) if database else ":memory:")
    con.execute("set memory_limit = ?", [memory_limit(streaming=database is None)])
    if spill_dir is not None:
        con.execute("set temp_directory = ?", [str(spill_dir)])
    return con


def sql_literal(value: str) -> str:
    """Quote a string as a SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """Quote a name for SQL (any column name is then valid)."""
    return '"' + name.replace('"', '""') + '"'


def describe_column(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str, description: str
) -> None:
    """Say what one column holds (`duckdb_columns()` shows it); any name may be quoted."""
    target = ".".join(quote_identifier(name) for name in (schema, table, column))
    con.execute(f"comment on column {target} is {sql_literal(description)}")


def describe_table(con: duckdb.DuckDBPyConnection, relation: str, description: str) -> None:
    """Say what one row of a table is (`duckdb_tables()` shows it; columns are described
    after the models are built, from the layers' `_schema.toml`)."""
    con.execute(f"comment on table {relation} is {sql_literal(description)}")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows into a table in one statement (executemany is row by row: slow)."""
    if not rows:
        return
    columns = [f"c{i}" for i in range(len(rows[0]))]
    batch = pa.table(
        {
            name: pa.array(list(values))
            for name, values in zip(columns, zip(*rows, strict=True), strict=True)
        }
    )
    con.register("occupipe_rows", batch)
    try:
        con.execute(f"insert into {table} select * from occupipe_rows")
    finally:
        con.unregister("occupipe_rows")
