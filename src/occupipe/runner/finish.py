"""After extraction: account for every document, gate, load, model, test, write and publish."""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from occupipe.core.faults import crash_point
from occupipe.core.layout import DATABASE_NAME, PARQUET_DIR, PARTS_DIR
from occupipe.core.rejection import Rejection
from occupipe.core.runs import RunFailed, RunOptions, RunSummary
from occupipe.ingest.batch import BatchResult
from occupipe.ingest.dedupe import collect_rejections
from occupipe.release.gates import check_reject_rate, check_schema, check_volume
from occupipe.release.manifest import (
    SealedInputs,
    count_published_records,
    read_table_schemas,
    seal_files,
    seal_inputs,
    write_manifest,
)
from occupipe.release.store import publish_release
from occupipe.reporting.html import REPORT_NAME, write_report
from occupipe.reporting.site import SiteSource, render_site, write_release_site
from occupipe.runner.stages import Pending, StageRunner
from occupipe.warehouse.datatests import describe_failures, failed_tests
from occupipe.warehouse.load import RunFacts, load_warehouse, merge_drift
from occupipe.warehouse.parquet import publish_tables, writer_threads
from occupipe.warehouse.transform import build_sql_models, read_metrics, run_warehouse_tests


def apply_gate(summary: RunSummary, name: str, problem: str | None) -> None:
    """Record a gate's result; a failed gate stops the run before anything is published."""
    summary.gates[name] = {"passed": problem is None, "detail": problem or "ok"}
    if problem:
        raise RunFailed(f"gate {name} failed: {problem}")


def finish_build(
    options: RunOptions,
    stage: StageRunner,
    summary: RunSummary,
    build_dir: Path,
    results: list[BatchResult],
) -> None:
    """Account for every document, apply the gates, build, test and publish."""
    parts_dir = build_dir / PARTS_DIR
    documents = sum(r.documents for r in results)
    summary.rejections, excluded = collect_rejections(results, parts_dir)
    summary.rejected = len(summary.rejections)
    summary.loaded = documents - summary.rejected
    summary.inputs = documents + summary.ignored
    summary.accounted_parts = parts_dir
    reject = check_reject_rate(
        documents, summary.rejections, options.max_reject_rate, options.strict
    )
    if reject:  # the list, with reasons, is in the failed release's input ledger
        reject += f"; all of them: occupipe quarantine --release {summary.run_id}"
    apply_gate(summary, "reject_rate", reject)

    tables_dir = build_dir / PARQUET_DIR
    # the published Parquet is written (two writer threads, from the same part files) beside
    # the load, the models and the data tests, at a lower priority (`publish_tables`): those
    # are what the run waits for, and the writing takes the CPU they leave. The stages after
    # the extraction end sooner this way (the load on both cores) than with the load on one
    # DuckDB thread and the writers at the same priority (benchmarks/HISTORY.md)
    writing = stage.start(
        "write-parquet", write_published_files, parts_dir, tables_dir, excluded, summary.rejections
    )
    try:
        load_warehouse_file(options, stage, summary, build_dir, excluded, results)
        model_and_test_warehouse_file(options, stage, summary, build_dir)
    except BaseException:
        settle(writing)  # never leave it writing into a build folder about to be removed
        raise
    summary.table_rows, summary.stage_seconds["parquet"], sealed = writing.result()
    database = build_dir / DATABASE_NAME
    # the database is final once its data tests ran: checksummed beside the last gates and the
    # HTML report, not after them, where its sha256 added to the run's time; so is the docs
    # site rendered, whose index alone waits for the gates ("docs": that wait and the writing)
    site = SiteSource(database, summary.run_id, options.sql_dir, summary.test_results)
    with ThreadPoolExecutor(2, thread_name_prefix="checksum") as pool:
        checksum = pool.submit(seal_files, build_dir, [database])
        rendering = pool.submit(render_site, site)
        gate_and_report(options, stage, summary, build_dir)
        started = time.perf_counter()
        write_release_site(rendering.result(), summary.gates, build_dir)
        summary.time_stage("docs", started)
        sealed = sealed.with_checksums(checksum.result())

    started = time.perf_counter()
    summary.release_id = summary.run_id
    write_manifest(build_dir, summary, options, "published", sealed)
    crash_point("before-publish")
    summary.warehouse = stage(
        "publish", publish_release, build_dir, options.warehouse_dir, summary.run_id
    )
    summary.time_stage("publish", started)


def gate_and_report(
    options: RunOptions, stage: StageRunner, summary: RunSummary, build_dir: Path
) -> None:
    """Apply the schema and data-test gates, read the headline metrics, write the HTML report."""
    published = options.warehouse_dir / PARQUET_DIR
    built = read_table_schemas(build_dir / PARQUET_DIR)
    schema = check_schema(read_table_schemas(published), built, options.allow_schema_change)
    apply_gate(summary, "schema", schema)
    errors = failed_tests(summary.test_results, "error")
    apply_gate(summary, "data_tests", describe_failures(errors) if errors else None)
    database = build_dir / DATABASE_NAME
    summary.metrics = read_metrics(database)
    stage("html-report", write_report, database, build_dir / REPORT_NAME)


def load_warehouse_file(
    options: RunOptions,
    stage: StageRunner,
    summary: RunSummary,
    build_dir: Path,
    excluded: set[int],
    results: list[BatchResult],
) -> None:
    """Load the DuckDB file from the part files and apply the volume gate."""
    started = time.perf_counter()
    facts = RunFacts(
        run_id=summary.run_id,
        as_of=options.as_of,
        source=str(options.source),
        rejections=summary.rejections,
        input_counts={
            "loaded": summary.loaded,
            "quarantined": summary.rejected,
            "ignored": summary.ignored,
        },
        drift=merge_drift(results),
        warehouse=options.warehouse_dir,
        started_at=summary.started_at,
    )
    rows = stage(
        "load-warehouse", load_warehouse, build_dir, excluded, facts, options.sections_spec
    )
    summary.time_stage("load", started)
    crash_point("after-load")
    previous_records = count_published_records(options.warehouse_dir)
    volume = check_volume(
        previous_records, rows["occupations"], options.max_shrink, options.allow_shrink
    )
    apply_gate(summary, "volume", volume)


def model_and_test_warehouse_file(
    options: RunOptions, stage: StageRunner, summary: RunSummary, build_dir: Path
) -> None:
    """Build the models and run the data tests (their results in the summary; their gate is
    applied by the caller)."""
    database = build_dir / DATABASE_NAME
    started = time.perf_counter()
    summary.model_seconds = stage("build-models", build_sql_models, database, options.sql_dir)
    summary.time_stage("models", started)

    started = time.perf_counter()
    summary.test_results = stage("data-tests", run_warehouse_tests, database, options.sql_dir)
    summary.time_stage("tests", started)


def write_published_files(
    parts_dir: Path, tables_dir: Path, excluded: set[int], rejections: list[Rejection]
) -> tuple[dict[str, int], float, SealedInputs]:
    """`publish_tables` (its row counts, and the seconds it took: it runs beside other
    stages), with the input ledger written meanwhile; then both checksummed (`seal_inputs`).

    The ledger has a thread of its own: after the tables it made the writing the run's
    longest stage, longer than the models and data tests it runs beside.
    """
    build_dir = tables_dir.parent
    with writer_threads(1, "ledger") as pool:
        ledger = pool.submit(seal_inputs, build_dir, parts_dir, rejections)
        started = time.perf_counter()
        rows = publish_tables(parts_dir, tables_dir, excluded)
        seconds = round(time.perf_counter() - started, 3)
        tables = seal_files(build_dir, sorted(tables_dir.glob("*.parquet")))
        sealed = ledger.result()
    return rows, seconds, sealed.with_checksums(tables)


def settle(pending: Pending[Any]) -> None:
    """Wait until a background stage has ended, whatever its outcome (the run is failing)."""
    with contextlib.suppress(Exception):
        pending.result()
