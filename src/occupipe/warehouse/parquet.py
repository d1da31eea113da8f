"""Write the published Parquet from the part files: one zstd file per table, fixed groups."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from occupipe.core.duck import connect_for_build
from occupipe.core.lifetime import lower_thread_priority
from occupipe.ingest.tables import TABLES, Table
from occupipe.warehouse.load import read_parts_sql

ROW_GROUP_ROWS = 100_000


# rows that carry long text (a section its markdown, an occupation its summary and citations)
# get smaller groups, so their writers hold less at a time: the sections and occupations
# writers peak lower, in the same time (benchmarks/HISTORY.md)
ROW_GROUP_ROWS_OF = {"sections": 20_000, "occupations": 20_000}


def write_final_table(
    con: duckdb.DuckDBPyConnection, table: Table, parts_dir: Path, out_dir: Path, excluded: set[int]
) -> int:
    """Write one table's rows (minus excluded inputs) as one zstd Parquet file.

    Rows keep the order of the parts, which is the order of the input files (batches are runs
    of the sorted file list): no sort, so the stage streams in bounded memory (sorting the
    sections by key was slow and spilled). `con` must run on one thread, which keeps the scan
    in file order (and was faster than reading the parts with pyarrow). pyarrow writes the
    declared schema in row groups of a fixed size, one chunk per column, so the file is the
    same bytes however the work was batched.
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


# the published tables in two groups written side by side: `sections` holds most of the bytes
# (and takes most of the writing's CPU time), so it is a group of its own
PUBLISH_GROUPS = (("sections",), tuple(t.name for t in TABLES if t.name != "sections"))


# how much lower the writers' threads run than the rest of the run (nice steps): see
# `publish_tables`
WRITER_NICENESS = 5


def writer_threads(count: int, name: str) -> ThreadPoolExecutor:
    """Threads for writing that runs beside the load, the models and the data tests: at a
    lower priority (`WRITER_NICENESS`), they take the CPU those leave idle."""
    return ThreadPoolExecutor(
        count,
        thread_name_prefix=name,
        initializer=lower_thread_priority,
        initargs=(WRITER_NICENESS,),
    )


def publish_tables(parts_dir: Path, tables_dir: Path, excluded: set[int]) -> dict[str, int]:
    """Write every normalized table as one zstd Parquet file, rows in input order; row counts.

    The groups of `PUBLISH_GROUPS` are written on threads of their own, each table's scan on
    one DuckDB thread (which keeps the parts' order), at a lower priority (`writer_threads`).
    """
    spill = tables_dir.parent / "spill"  # not the working folder, DuckDB's default
    try:
        with connect_for_build(spill_dir=spill) as con:
            con.execute("set threads = 1")
            with writer_threads(len(PUBLISH_GROUPS), "publish") as pool:
                futures = [
                    pool.submit(write_final_tables, con, names, parts_dir, tables_dir, excluded)
                    for names in PUBLISH_GROUPS
                ]
                rows = {name: n for future in futures for name, n in future.result().items()}
        return {t.name: rows[t.name] for t in TABLES}
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def write_final_tables(
    con: duckdb.DuckDBPyConnection,
    names: Sequence[str],
    parts_dir: Path,
    tables_dir: Path,
    excluded: set[int],
) -> dict[str, int]:
    """Write some of the tables, on a connection of their own; row counts."""
    with con.cursor() as own:
        return {
            t.name: write_final_table(own, t, parts_dir, tables_dir, excluded)
            for t in TABLES
            if t.name in names
        }
