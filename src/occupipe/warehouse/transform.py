"""Build the SQL models over a loaded warehouse, run its data tests, read its figures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from occupipe.core.duck import connect_for_build
from occupipe.core.runs import DataTestResult
from occupipe.warehouse.datatests import RESULTS_TABLE, load_data_tests, run_data_tests
from occupipe.warehouse.graph import BETWEENNESS_INPUTS, measure_betweenness, store_betweenness
from occupipe.warehouse.schemafiles import read_column_descriptions
from occupipe.warehouse.sqlmodels import (
    build_models,
    describe_columns,
    discover_models,
    upstream_of,
)


def read_metrics(database: Path) -> dict[str, Any]:
    """Headline figures of a built warehouse, for the run history and trends."""
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            "select count(*), round(avg(is_verified::integer) filter (where not is_federated), 4),"
            " round(avg(completeness) filter (where not is_federated), 4), sum(word_count)"
            " from occupations"
        ).fetchone()
    keys = ("records", "verified_share", "mean_completeness", "words")
    return dict(zip(keys, row, strict=True)) if row else {}


def build_sql_models(database: Path, sql_dir: Path) -> dict[str, float]:
    """Build the SQL models layer by layer, then describe their columns (from each layer's
    `_schema.toml`).

    Betweenness (Python, one core) is computed on a thread of its own as soon as the graph
    marts exist, while the other marts build; the reports, which read it, come after. Run
    after the marts, it left the other core idle while the run waited for it.
    """
    models = discover_models(sql_dir)
    descriptions = read_column_descriptions(sql_dir)
    graph = upstream_of(models, BETWEENNESS_INPUTS)
    with connect_for_build(database) as con:
        seconds = build_models(con, models, "staging")
        seconds.update(build_models(con, models, "marts", only=graph))
        with ThreadPoolExecutor(1, thread_name_prefix="betweenness") as pool:
            scores = pool.submit(measure_betweenness, con.cursor())
            rest = {m.name for m in models if m.layer == "marts"} - graph
            seconds.update(build_models(con, models, "marts", only=rest))
            store_betweenness(con, scores.result())
        seconds.update(build_models(con, models, "reports"))
        describe_columns(con, descriptions)
    return seconds


def run_warehouse_tests(database: Path, sql_dir: Path) -> list[DataTestResult]:
    """Run the data tests (the layers' schema files, `sql/tests`) against the built warehouse."""
    with connect_for_build(database) as con:
        results = run_data_tests(con, load_data_tests(sql_dir))
        describe_columns(con, read_column_descriptions(sql_dir), {RESULTS_TABLE})
        con.execute("checkpoint")
    return results
