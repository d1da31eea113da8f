"""The pipeline's stages as plain functions: discover, extract in batches, publish tables,
build the DuckDB warehouse, test it, and swap it into place. No Prefect here."""

from __future__ import annotations

import array
import contextlib
import datetime as dt
import shutil
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.batch import BatchResult, store_rejected_bytes
from pipelines.datatests import (
    RESULTS_TABLE,
    DataTestResult,
    load_data_tests,
    run_data_tests,
)
from pipelines.dedupe import find_duplicate_losers, read_duplicate_claims
from pipelines.extract import Rejection, discover_inputs
from pipelines.graph import betweenness_of_csr
from pipelines.lifetime import lower_thread_priority
from pipelines.models import (
    build_models,
    describe_columns,
    discover_models,
    read_column_descriptions,
    upstream_of,
)
from pipelines.releases import (
    DATABASE_NAME,
    PARQUET_DIR,
    PARTS_DIR,
    QUARANTINE_DIR,
    describe_rollback,
    read_history,
    rolled_back_releases,
)
from pipelines.sectionspec import DEFAULT_SECTIONS_SPEC
from pipelines.tables import TABLES
from pipelines.warehouse import (
    connect_for_build,
    describe_table,
    insert_rows,
    load_raw_tables,
    load_reference_tables,
    load_run_tables,
    sql_literal,
    write_final_table,
)


class RunFailed(Exception):
    """The run could not complete; the previous warehouse is left as it was."""


@dataclass(frozen=True)
class Inputs:
    root: Path
    records: list[str]
    ignored: list[str]


def discover(source: Path, warehouse: Path | None = None) -> Inputs:
    """Find the record files under the source folder (sorted) and the files ignored; never
    the warehouse's own files, should it lie inside the source."""
    records, ignored = discover_inputs(source, warehouse)
    return Inputs(source if source.is_dir() else source.parent, records, ignored)


def collect_rejections(
    results: Sequence[BatchResult], parts_dir: Path
) -> tuple[list[Rejection], set[int]]:
    """All rejections of a run, duplicates included; and the inputs to leave out of tables."""
    losers = find_duplicate_losers(read_duplicate_claims(parts_dir))
    rejections = [rej for r in results for rej in r.rejections] + list(losers.values())
    return sorted(rejections, key=lambda r: r.source_file), set(losers)


# the published tables in two groups written side by side: `sections` holds most of the bytes
# (at 100k records 5 of the 8 CPU-seconds the writing takes)
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


@dataclass(frozen=True)
class RunFacts:
    """What a run knows about itself, recorded in the warehouse it builds."""

    run_id: str
    as_of: dt.date
    source: str
    rejections: list[Rejection]
    input_counts: dict[str, int]
    drift: Counter[str]
    warehouse: Path
    started_at: str


def merge_drift(results: Sequence[BatchResult]) -> Counter[str]:
    """Unknown field paths over all batches, with the number of records carrying each."""
    total: Counter[str] = Counter()
    for result in results:
        total.update(result.drift)
    return total


def load_warehouse(
    build_dir: Path,
    excluded: set[int],
    facts: RunFacts,
    sections_spec: Path = DEFAULT_SECTIONS_SPEC,
) -> dict[str, int]:
    """Create a fresh DuckDB file with the raw tables (from the build's part files, minus
    `excluded` inputs), reference and run tables; return the raw tables' row counts."""
    database = build_dir / DATABASE_NAME
    build_dir.mkdir(parents=True, exist_ok=True)  # no part files when every input failed
    database.unlink(missing_ok=True)
    store_rejected_bytes(facts.rejections, build_dir / QUARANTINE_DIR)  # fetched, replayed
    with connect_for_build(database) as con:
        rows = load_raw_tables(con, build_dir / PARTS_DIR, excluded)
        load_reference_tables(con, sections_spec)
        load_run_tables(
            con,
            facts.run_id,
            facts.as_of,
            facts.rejections,
            facts.input_counts,
            facts.started_at,
        )
        load_schema_drift(con, facts, read_first_seen(facts.warehouse / DATABASE_NAME))
        load_memory_tables(con, facts)
    return rows


def load_memory_tables(con: duckdb.DuckDBPyConnection, facts: RunFacts) -> None:
    """What this release remembers: past runs, the previous release's records and changes."""
    load_past_runs(con, read_history(facts.warehouse))
    describe_table(
        con, "raw.run_history", "Every run and rollback before this build (history.jsonl)."
    )
    previous = facts.warehouse / PARQUET_DIR / "occupations.parquet"
    con.execute(
        "create or replace table raw.previous_occupations"
        " (slug varchar, content_hash varchar, status varchar, updated_on date)"
    )
    if previous.exists():
        with contextlib.suppress(duckdb.Error):  # a damaged release: every record is new
            con.execute(
                "insert into raw.previous_occupations select slug, content_hash, status,"
                f" updated_on from read_parquet({sql_literal(str(previous))})"
            )
    con.execute(
        "create or replace table raw.previous_entity_changes (run_id varchar, published_at"
        " timestamp, slug varchar, change varchar, from_status varchar, to_status varchar,"
        " updated_on date)"
    )
    database = facts.warehouse / DATABASE_NAME
    if database.exists():
        carry_entity_changes(con, database)
    describe_table(
        con,
        "raw.previous_occupations",
        "The records of the release this build follows, for entity_changes.",
    )
    describe_table(
        con,
        "raw.previous_entity_changes",
        "The entity changes the release this build follows had recorded.",
    )


def carry_entity_changes(con: duckdb.DuckDBPyConnection, database: Path) -> None:
    """Copy the published warehouse's entity changes into `raw.previous_entity_changes`;
    none from a release that predates them or whose file is damaged (a run must still be
    able to build its replacement)."""
    try:
        con.execute(f"attach {sql_literal(str(database))} as previous (read_only)")
    except duckdb.Error:
        return
    try:
        con.execute("insert into raw.previous_entity_changes select * from previous.entity_changes")
    except duckdb.Error:
        pass
    finally:
        con.execute("detach previous")


def load_past_runs(
    con: duckdb.DuckDBPyConnection, events: Sequence[dict[str, Any]], table: str = "raw.run_history"
) -> None:
    """The run history so far (runs and rollbacks) as a table (`raw.run_history`).

    `is_rolled_back` marks the rows of a release rolled back away from and not made current
    since: the set `occupipe releases` marks, computed once, here.
    """
    temporary = "temporary " if table.startswith("temp.") else ""
    con.execute(
        f"create or replace {temporary}table {table} (run_id varchar, event varchar,"
        " started_at timestamp, finished_at timestamp, status varchar, reason varchar,"
        " release_id varchar, records bigint, quarantined bigint, verified_share double,"
        " mean_completeness double, words bigint, from_release varchar, to_release varchar,"
        " is_rolled_back boolean)"
    )
    rolled_back = rolled_back_releases(list(events))
    rows = []
    for e in events:
        metrics = e.get("metrics") or {}
        at = e.get("at")
        rows.append(
            (
                e.get("run_id") or f"rollback-{at}",
                e.get("event"),
                e.get("started_at") or at,
                e.get("finished_at") or at,
                e.get("status") or describe_rollback(e.get("from_release"), e.get("to_release")),
                e.get("reason"),
                e.get("release_id"),
                e.get("records"),
                e.get("quarantined"),
                metrics.get("verified_share"),
                metrics.get("mean_completeness"),
                metrics.get("words"),
                e.get("from_release"),
                e.get("to_release"),
                e.get("release_id") in rolled_back,
            )
        )
    insert_rows(con, table, rows)


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
    """Build the SQL models layer by layer, then describe their columns (`sql/columns.toml`).

    Betweenness (Python, one core) is computed on a thread of its own as soon as the graph
    marts exist, while the other marts build; the reports, which read it, come after. At 100k
    records it took 3-4 s after the marts, with the other core idle.
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
    """Run the data tests in `sql/tests` against the built warehouse."""
    with connect_for_build(database) as con:
        results = run_data_tests(con, load_data_tests(sql_dir / "tests"))
        describe_columns(con, read_column_descriptions(sql_dir), {RESULTS_TABLE})
        con.execute("checkpoint")
    return results


def describe_failures(results: Sequence[DataTestResult]) -> str:
    """One line naming failed tests, with the first failing row of the first one."""
    first = results[0]
    example = dict(zip(first.columns, first.sample[0], strict=False)) if first.sample else {}
    names = ", ".join(f"{r.name} ({r.failures} rows)" for r in results)
    return f"{len(results)} data test(s) failed with severity error: {names}; e.g. {example}"


def read_first_seen(previous: Path | None) -> dict[str, tuple[str, str]]:
    """When each drifting field was first seen, as recorded by the published warehouse."""
    if previous is None or not previous.exists():
        return {}
    try:
        with duckdb.connect(str(previous), read_only=True) as con:
            rows = con.execute(
                "select field_path, first_seen_run, first_seen_at::varchar from schema_drift"
            ).fetchall()
    except duckdb.Error:
        return {}  # an older warehouse without the table: everything is seen for the first time
    return {path: (run, at) for path, run, at in rows}


def load_schema_drift(
    con: duckdb.DuckDBPyConnection, facts: RunFacts, first_seen: dict[str, tuple[str, str]]
) -> None:
    """One row per unknown field path: records carrying it now, and when it was first seen."""
    con.execute(
        "create or replace table schema_drift (field_path varchar, records_affected bigint,"
        " first_seen_run varchar, first_seen_at date)"
    )
    today = dt.datetime.now(dt.UTC).date().isoformat()  # as run ids: UTC
    rows = [
        (path, count, *first_seen.get(path, (facts.run_id, today)))
        for path, count in sorted(facts.drift.items())
    ]
    insert_rows(con, "schema_drift", rows)
    describe_table(con, "schema_drift", "Fields the contract does not know: one row per path.")


BETWEENNESS_INPUTS = ("graph_nodes", "graph_edges")  # the marts ADJACENCY_SQL reads
ADJACENCY_SQL = """
with

nodes as (
    select slug, (row_number() over (order by slug) - 1)::integer as number
    from graph_nodes
),

ends as (
    select source_slug as slug, target_slug as linked_slug from graph_edges
    where is_graph_edge and source_slug <> target_slug
    union
    select target_slug, source_slug from graph_edges
    where is_graph_edge and source_slug <> target_slug
)

select
    nodes.slug,
    coalesce(list(linked.number order by linked.number) filter (linked.number is not null), [])
from nodes
left join ends on ends.slug = nodes.slug
left join nodes as linked on linked.slug = ends.linked_slug
group by nodes.slug, nodes.number
order by nodes.number
"""


def measure_betweenness(cursor: duckdb.DuckDBPyConnection) -> pa.Table:
    """Betweenness of every authored graph node, as a table of slug and score (the cursor is
    closed when done).

    DuckDB numbers the nodes and gathers each one's neighbours; they come to Python as two
    flat integer arrays (at 100k records 0.4-0.6 s and 3 MB, where a Python list of neighbour
    lists took 0.7-1.0 s and 37 MB), and Python only walks the graph.
    """
    with cursor:
        table = cursor.sql(ADJACENCY_SQL).to_arrow_table()
    neighbours = table.column(1).combine_chunks()
    scores = betweenness_of_csr(int32_values(neighbours.offsets), int32_values(neighbours.values))
    rounded = pa.array([round(score, 6) for score in scores], pa.float64())
    return pa.table({"slug": table.column(0), "betweenness": rounded})


def int32_values(values: pa.Array) -> array.array[int]:
    """An Arrow int32 array (no nulls) as a Python `array`: its bytes copied, no object made
    per value."""
    if values.type != pa.int32() or values.null_count:
        raise TypeError(f"expected int32 values without nulls, found {values.type}")
    out = array.array("i")
    if len(values):
        out.frombytes(values.buffers()[1].slice(values.offset * 4, len(values) * 4))
    return out


def store_betweenness(con: duckdb.DuckDBPyConnection, scores: pa.Table) -> None:
    """Store betweenness scores as the `graph_betweenness` table, ordered by slug."""
    con.execute("drop table if exists graph_betweenness")
    con.from_arrow(scores).order("slug").create("graph_betweenness")
    describe_table(con, "graph_betweenness", "Betweenness centrality of each authored graph node.")


def failed_tests(results: Sequence[DataTestResult], severity: str) -> list[DataTestResult]:
    """The data tests of one severity that found failing rows."""
    return [r for r in results if r.severity == severity and not r.passed]
