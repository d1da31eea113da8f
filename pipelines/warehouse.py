"""Publish the normalized Parquet tables and load them into a DuckDB warehouse file."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.extract import Rejection
from pipelines.normalize import INPUT_COLUMN
from pipelines.sectionspec import read_sections_spec
from pipelines.tables import TABLES, Table

RAW_SCHEMA = "raw"
# DuckDB takes 80% of RAM by default; a bound keeps a run's memory flat as corpora grow
# (DuckDB spills to disk beyond it, and keeps the warehouse's blocks cached up to it). At 100k
# records 512MB peaked 350 MB lower than 1GB in the same time (the stages stream). The build's
# database gets 512MB: with 256MB its models and data tests read evicted blocks back again and
# again (100k records, alternated: models 2.5-2.8 s against 2.7-3.7, data tests 0.9-1.0
# against 1.1-1.4, a third of the system time); 256MB peaked 0.2 GB lower there (0.58 against
# 0.79 GB). The in-memory instances that only stream (the published Parquet's, the replay's)
# keep 256MB. OCCUPIPE_DUCKDB_MEMORY overrides both.
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


ROW_GROUP_ROWS = 100_000
# rows that carry long text (a section its markdown, an occupation its summary and citations:
# 0.7-0.9 KB a row encoded, more as Arrow) get smaller groups, which keeps each writer near 30 MB
# a group: at 100k records the sections writer peaks 130 MB lower, and at 200k the occupations
# writer (100k-row groups held 330 MB) about 160 MB lower, in the same time
ROW_GROUP_ROWS_OF = {"sections": 20_000, "occupations": 20_000}


def list_parts(parts_dir: Path, table_name: str) -> list[Path]:
    """One table's part files of a build, in batch order."""
    return sorted((parts_dir / table_name).glob("*.parquet"))


def read_parts_sql(table: Table, parts_dir: Path, excluded: set[int]) -> str | None:
    """A query over one table's part files, minus excluded inputs (None: no parts)."""
    parts = list_parts(parts_dir, table.name)
    if not parts:
        return None
    files = "[" + ", ".join(sql_literal(str(p)) for p in parts) + "]"
    skip = ", ".join(map(str, sorted(excluded)))
    where = f" where {INPUT_COLUMN} not in ({skip})" if excluded else ""
    return f"select {', '.join(table.column_names)} from read_parquet({files}){where}"


def write_final_table(
    con: duckdb.DuckDBPyConnection, table: Table, parts_dir: Path, out_dir: Path, excluded: set[int]
) -> int:
    """Write one table's rows (minus excluded inputs) as one zstd Parquet file.

    Rows keep the order of the parts, which is the order of the input files (batches are runs
    of the sorted file list): no sort, so the stage streams in bounded memory (sorting 100k
    records' sections by key took 10 s and spilled). `con` must run on one thread, which keeps
    the scan in file order (and was faster than reading the parts with pyarrow: 8 s against
    13 s at 100k). pyarrow writes the declared schema in row groups of a fixed size, one chunk
    per column, so the file is the same bytes however the work was batched.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{table.name}.parquet"
    query = read_parts_sql(table, parts_dir, excluded)
    group_rows = ROW_GROUP_ROWS_OF.get(table.name, ROW_GROUP_ROWS)
    rows = 0
    with pq.ParquetWriter(target, table.schema, compression="zstd") as writer:
        if query is None:
            writer.write_table(table.schema.empty_table())
            return 0
        reader = con.sql(query).to_arrow_reader(group_rows)
        for group in fixed_size_groups(reader, group_rows):
            # one chunk per column: pyarrow cuts pages at chunk boundaries, which vary
            whole = group.cast(table.schema).combine_chunks()
            writer.write_table(whole, row_group_size=group_rows)
            rows += group.num_rows
    return rows


class GroupCutter:
    """Record batches re-cut, as they come, into tables of exactly `size` rows (`add` gives the
    groups each batch completes, `rest` the last, shorter one): the same groups however the
    rows were batched."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0

    def add(self, batch: pa.RecordBatch) -> list[pa.Table]:
        self.pending.append(batch)
        self.pending_rows += batch.num_rows
        groups = []
        while self.pending_rows >= self.size:
            joined = pa.Table.from_batches(self.pending)
            groups.append(joined.slice(0, self.size))
            rest = joined.slice(self.size)
            self.pending, self.pending_rows = rest.to_batches(), rest.num_rows
        return groups

    def rest(self) -> pa.Table | None:
        return pa.Table.from_batches(self.pending) if self.pending_rows else None


def fixed_size_groups(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.Table]:
    """Re-cut a stream of record batches into tables of exactly `size` rows (the last shorter)."""
    cutter = GroupCutter(size)
    for batch in batches:
        yield from cutter.add(batch)
    last = cutter.rest()
    if last is not None:
        yield last


def load_raw_tables(
    con: duckdb.DuckDBPyConnection, parts_dir: Path, excluded: set[int]
) -> dict[str, int]:
    """Copy each table's part files (minus excluded inputs) into the warehouse's `raw` schema;
    return row counts.

    From the parts, not the published Parquet: so loading runs while that is being written.
    """
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    # zstd for text: DuckDB's default (dictionary or FSST, chosen per segment) takes twice as
    # long on section markdown and stores it 2.4x larger (10k records: 2.2 s and 68 MB, against
    # 1.1 s and 28 MB); queries read both about as fast. Rows may be stored out of file order
    # (every model orders what it needs): loading then uses both cores, twice as fast at 100k.
    con.execute("pragma force_compression = 'zstd'")
    con.execute("set preserve_insertion_order = false")
    try:
        return {table.name: load_raw_table(con, parts_dir, excluded, table) for table in TABLES}
    finally:
        con.execute("pragma force_compression = 'auto'")
        con.execute("reset preserve_insertion_order")


def load_raw_table(
    con: duckdb.DuckDBPyConnection, parts_dir: Path, excluded: set[int], table: Table
) -> int:
    """Copy one table's parts into `raw`, with its declared types and comments; row count."""
    relation = f"{RAW_SCHEMA}.{table.name}"
    query = read_parts_sql(table, parts_dir, excluded)
    if query is None:  # no input loaded: the table is empty, with its declared columns
        con.from_arrow(table.schema.empty_table()).create(relation)
    else:
        con.execute(f"create or replace table {relation} as {query}")
    comment_table(con, relation, table)
    return _count(con, relation)


def comment_table(con: duckdb.DuckDBPyConnection, relation: str, table: Table) -> None:
    """Document a table and its columns in the warehouse (`duckdb_columns()` shows them)."""
    describe_table(con, relation, table.description)
    schema, _, name = relation.rpartition(".")
    for column in table.columns:
        describe_column(con, schema, name, column.name, column.description)


def describe_column(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str, description: str
) -> None:
    """Say what one column holds (`duckdb_columns()` shows it); any name may be quoted."""
    target = ".".join(quote_identifier(name) for name in (schema, table, column))
    con.execute(f"comment on column {target} is {sql_literal(description)}")


def describe_table(con: duckdb.DuckDBPyConnection, relation: str, description: str) -> None:
    """Say what one row of a table is (`duckdb_tables()` shows it; columns are described
    after the models are built, from `sql/columns.toml`)."""
    con.execute(f"comment on table {relation} is {sql_literal(description)}")


def load_reference_tables(con: duckdb.DuckDBPyConnection, sections_spec: Path) -> None:
    """Load the canonical section spec (`sections.json`) as `raw.canonical_sections`."""
    rows = [
        (position, *section) for position, section in enumerate(read_sections_spec(sections_spec))
    ]
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        f"create or replace table {RAW_SCHEMA}.canonical_sections "
        "(position integer, heading varchar, is_required boolean, min_words integer)"
    )
    insert_rows(con, f"{RAW_SCHEMA}.canonical_sections", rows)
    describe_table(
        con,
        f"{RAW_SCHEMA}.canonical_sections",
        "The canonical sections of a record (sections.json), in their order.",
    )


def load_run_tables(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    as_of: dt.date,
    rejections: Iterable[Rejection],
    input_counts: dict[str, int],
    started_at: str = "",
) -> None:
    """Record the run's parameters, its input accounting and its quarantine."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        f"create or replace table {RAW_SCHEMA}.run_params"
        " (run_id varchar, as_of date, started_at timestamp)"
    )
    con.execute(
        f"insert into {RAW_SCHEMA}.run_params values (?, ?, ?)",
        [run_id, as_of, started_at or None],
    )
    describe_table(con, f"{RAW_SCHEMA}.run_params", "The run that built this release: one row.")
    con.execute(
        "create or replace table run_inputs (run_id varchar, outcome varchar, inputs bigint)"
    )
    insert_rows(con, "run_inputs", [(run_id, outcome, n) for outcome, n in input_counts.items()])
    describe_table(con, "run_inputs", "The run's input documents by outcome: one row per outcome.")
    con.execute(
        "create or replace table quarantine (run_id varchar, source_file varchar, stage varchar,"
        " reason varchar, content_hash varchar)"
    )
    insert_rows(
        con,
        "quarantine",
        [(run_id, r.source_file, r.stage, r.reason, r.content_hash) for r in rejections],
    )
    describe_table(con, "quarantine", "Documents the run did not load, each with the reason.")


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


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    # fetchall, not fetchone: a result read to its end leaves the connection free for
    # `register`, which refuses to run beside an unfinished result
    ((count,),) = con.execute(f"select count(*) from {relation}").fetchall()
    return int(count)
