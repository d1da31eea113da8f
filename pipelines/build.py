"""The pipeline's stages as plain functions: discover, extract in batches, publish tables,
build the DuckDB warehouse, test it, and swap it into place. No Prefect here."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.batch import BatchResult, RecordKey
from pipelines.datatests import DataTestResult, load_data_tests, run_data_tests
from pipelines.dedupe import find_duplicate_losers
from pipelines.extract import Rejection, discover_inputs
from pipelines.graph import compute_betweenness
from pipelines.models import build_models, discover_models
from pipelines.tables import TABLES
from pipelines.warehouse import (
    insert_rows,
    load_raw_tables,
    load_reference_tables,
    load_run_tables,
    write_final_table,
)

DATABASE_NAME = "occupations.duckdb"
PARQUET_DIR = "parquet"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_SECTIONS_SPEC = PACKAGE_DIR / "sections.json"


class RunFailed(Exception):
    """The run could not complete; the previous warehouse is left as it was."""


@dataclass(frozen=True)
class Inputs:
    root: Path
    records: list[Path]
    ignored: list[Path]


@dataclass
class BuildResult:
    table_rows: dict[str, int] = field(default_factory=dict)
    model_seconds: dict[str, float] = field(default_factory=dict)
    test_results: list[DataTestResult] = field(default_factory=list)


def discover(source: Path) -> Inputs:
    """Find the record files under the source folder (sorted) and the files ignored."""
    records, ignored = discover_inputs(source)
    return Inputs(source, records, ignored)


def plan_batches(paths: Sequence[Path], batch_size: int) -> list[list[tuple[int, Path]]]:
    """Split the inputs into batches of (input index, path)."""
    indexed = list(enumerate(paths))
    return [indexed[i : i + batch_size] for i in range(0, len(indexed), batch_size)]


def load_canonical_headings(sections_spec: Path) -> frozenset[str]:
    """Headings of the canonical sections, from a `sections.json` spec."""
    import json

    spec = json.loads(sections_spec.read_text(encoding="utf-8"))
    return frozenset(s["heading"] for s in spec["sections"])


def collect_rejections(results: Sequence[BatchResult]) -> tuple[list[Rejection], set[int]]:
    """All rejections of a run, duplicates included; and the inputs to leave out of tables."""
    keys: list[RecordKey] = [k for r in results for k in r.keys]
    losers = find_duplicate_losers(keys)
    rejections = [rej for r in results for rej in r.rejections] + list(losers.values())
    return sorted(rejections, key=lambda r: r.source_file), set(losers)


def publish_tables(parts_dir: Path, tables_dir: Path, excluded: set[int]) -> dict[str, int]:
    """Write every normalized table as one sorted zstd Parquet file; return row counts."""
    with duckdb.connect() as con:
        return {t.name: write_final_table(con, t, parts_dir, tables_dir, excluded) for t in TABLES}


def build_database(
    database: Path,
    tables_dir: Path,
    sql_dir: Path,
    run_id: str,
    as_of: dt.date,
    rejections: list[Rejection],
    input_counts: dict[str, int],
    sections_spec: Path = DEFAULT_SECTIONS_SPEC,
) -> BuildResult:
    """Create a fresh DuckDB file: raw tables, SQL models, betweenness, data tests."""
    database.unlink(missing_ok=True)
    result = BuildResult()
    models = discover_models(sql_dir)
    with duckdb.connect(str(database)) as con:
        result.table_rows = load_raw_tables(con, tables_dir)
        load_reference_tables(con, sections_spec)
        load_run_tables(con, run_id, as_of, rejections, input_counts)
        result.model_seconds.update(build_models(con, models, "staging"))
        result.model_seconds.update(build_models(con, models, "marts"))
        load_betweenness(con)
        result.model_seconds.update(build_models(con, models, "reports"))
        result.test_results = run_data_tests(con, load_data_tests(sql_dir / "tests"))
        con.execute("checkpoint")
    return result


def load_betweenness(con: duckdb.DuckDBPyConnection) -> None:
    """Compute betweenness over the authored graph and store it as `graph_betweenness`."""
    nodes = [row[0] for row in con.execute("select slug from graph_nodes").fetchall()]
    edges = con.execute(
        "select source_slug, target_slug from graph_edges where is_graph_edge"
    ).fetchall()
    scores = compute_betweenness(nodes, edges)
    con.execute("create or replace table graph_betweenness (slug varchar, betweenness double)")
    insert_rows(
        con,
        "graph_betweenness",
        [(slug, round(score, 6)) for slug, score in sorted(scores.items())],
    )


def failed_tests(results: Sequence[DataTestResult], severity: str) -> list[DataTestResult]:
    """The data tests of one severity that found failing rows."""
    return [r for r in results if r.severity == severity and not r.passed]


def swap_into_place(build_dir: Path, warehouse_dir: Path) -> Path:
    """Publish a finished build: the DuckDB file by atomic rename, then the Parquet folder."""
    target = warehouse_dir / DATABASE_NAME
    os.replace(build_dir / DATABASE_NAME, target)
    parquet = warehouse_dir / PARQUET_DIR
    retired = warehouse_dir / f".retired-{build_dir.name}"
    if parquet.exists():
        parquet.rename(retired)
    (build_dir / PARQUET_DIR).rename(parquet)
    shutil.rmtree(retired, ignore_errors=True)
    shutil.rmtree(build_dir, ignore_errors=True)
    return target
