"""Load the normalized part files, reference and run tables into a new DuckDB warehouse file."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC, read_sections_spec
from occupipe.core.duck import (
    connect_for_build,
    describe_column,
    describe_table,
    insert_rows,
    sql_literal,
)
from occupipe.core.history import (
    HistoryEvent,
    describe_rollback,
    read_history,
    rolled_back_releases,
)
from occupipe.core.layout import DATABASE_NAME, PARQUET_DIR, PARTS_DIR, QUARANTINE_DIR
from occupipe.core.rejection import Rejection
from occupipe.ingest.batch import BatchResult, list_parts, store_rejected_bytes
from occupipe.ingest.normalize import INPUT_COLUMN
from occupipe.ingest.tables import TABLES, Table

RAW_SCHEMA = "raw"


def read_parts_sql(table: Table, parts_dir: Path, excluded: set[int]) -> str | None:
    """A query over one table's part files, minus excluded inputs (None: no parts)."""
    parts = list_parts(parts_dir, table.name)
    if not parts:
        return None
    files = "[" + ", ".join(sql_literal(str(p)) for p in parts) + "]"
    skip = ", ".join(map(str, sorted(excluded)))
    where = f" where {INPUT_COLUMN} not in ({skip})" if excluded else ""
    return f"select {', '.join(table.column_names)} from read_parquet({files}){where}"


def load_raw_tables(
    con: duckdb.DuckDBPyConnection, parts_dir: Path, excluded: set[int]
) -> dict[str, int]:
    """Copy each table's part files (minus excluded inputs) into the warehouse's `raw` schema;
    return row counts.

    From the parts, not the published Parquet: so loading runs while that is being written.
    """
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    # zstd for text: DuckDB's default (dictionary or FSST, chosen per segment) is slower on
    # section markdown and stores it much larger; queries read both about as fast. Rows may be
    # stored out of file order (every model orders what it needs): loading then uses both
    # cores, and takes far less time (benchmarks/HISTORY.md).
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


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    # fetchall, not fetchone: a result read to its end leaves the connection free for
    # `register`, which refuses to run beside an unfinished result
    ((count,),) = con.execute(f"select count(*) from {relation}").fetchall()
    return int(count)


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
    con: duckdb.DuckDBPyConnection, events: Sequence[HistoryEvent], table: str = "raw.run_history"
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
