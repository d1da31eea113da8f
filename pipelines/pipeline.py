"""One run of the pipeline, stage by stage, with an injected stage runner (call or Prefect task)."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pipelines.batch import BatchResult, process_batch
from pipelines.build import (
    DATABASE_NAME,
    PARQUET_DIR,
    RunFacts,
    RunFailed,
    build_sql_models,
    collect_rejections,
    describe_failures,
    discover,
    failed_tests,
    load_canonical_headings,
    load_warehouse,
    merge_drift,
    plan_batches,
    publish_tables,
    run_warehouse_tests,
    swap_into_place,
)
from pipelines.datatests import DataTestResult
from pipelines.extract import Rejection
from pipelines.gates import DEFAULT_MAX_REJECT_RATE, check_reject_rate

T = TypeVar("T")


class StageRunner(Protocol):
    def __call__(self, name: str, fn: Callable[..., T], /, *args: Any) -> T: ...


def call_directly(name: str, fn: Callable[..., T], /, *args: Any) -> T:
    """Run a stage as a plain function call."""
    return fn(*args)


@dataclass(frozen=True)
class RunOptions:
    source: Path
    warehouse_dir: Path
    sql_dir: Path
    as_of: dt.date
    sections_spec: Path
    batch_size: int = 500
    with_html: bool = False
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    strict: bool = False


@dataclass
class RunSummary:
    run_id: str
    files: int = 0
    inputs: int = 0
    loaded: int = 0
    rejected: int = 0
    ignored: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    model_seconds: dict[str, float] = field(default_factory=dict)
    test_results: list[DataTestResult] = field(default_factory=list)
    warehouse: Path | None = None


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id sortable by time: UTC timestamp plus a short random suffix."""
    moment = now or dt.datetime.now(dt.UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def run_pipeline(options: RunOptions, stage: StageRunner = call_directly) -> RunSummary:
    """Run every stage over the source; on failure the published warehouse is left untouched."""
    return run_in_build_dir(options, stage, extract_source)


Extractor = Callable[[RunOptions, StageRunner, RunSummary, Path], list[BatchResult]]


def run_in_build_dir(options: RunOptions, stage: StageRunner, extractor: Extractor) -> RunSummary:
    """Extract with `extractor` into a fresh build folder, then finish and publish the build."""
    summary = RunSummary(new_run_id())
    build_dir = options.warehouse_dir / ".build" / summary.run_id
    try:
        started = time.perf_counter()
        results = extractor(options, stage, summary, build_dir / "parts")
        _timed(summary, "extract", started)
        finish_build(options, stage, summary, build_dir, results)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    return summary


def extract_source(
    options: RunOptions, stage: StageRunner, summary: RunSummary, parts_dir: Path
) -> list[BatchResult]:
    """Discover the source's files and extract them batch by batch into Parquet parts."""
    started = time.perf_counter()
    inputs = stage("discover", discover, options.source)
    summary.ignored = len(inputs.ignored)
    summary.files = len(inputs.records) + len(inputs.ignored)
    _timed(summary, "discover", started)
    headings = load_canonical_headings(options.sections_spec)
    return [
        stage(
            f"extract-batch-{n}",
            process_batch,
            batch,
            inputs.root,
            parts_dir,
            n,
            headings,
            options.with_html,
        )
        for n, batch in enumerate(plan_batches(inputs.records, options.batch_size))
    ]


def _timed(summary: RunSummary, name: str, started: float) -> None:
    summary.stage_seconds[name] = round(time.perf_counter() - started, 3)


def finish_build(
    options: RunOptions,
    stage: StageRunner,
    summary: RunSummary,
    build_dir: Path,
    results: list[BatchResult],
) -> None:
    """Account for every document, apply the gates, build, test and publish."""
    parts_dir = build_dir / "parts"
    documents = sum(r.documents for r in results)
    summary.rejections, excluded = collect_rejections(results)
    summary.rejected = len(summary.rejections)
    summary.loaded = documents - summary.rejected
    summary.inputs = documents + summary.ignored
    blocked = check_reject_rate(
        documents, summary.rejections, options.max_reject_rate, options.strict
    )
    if blocked:
        raise RunFailed(blocked)

    started = time.perf_counter()
    tables_dir = build_dir / PARQUET_DIR
    summary.table_rows = stage("write-parquet", publish_tables, parts_dir, tables_dir, excluded)
    _timed(summary, "parquet", started)

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
        previous_database=options.warehouse_dir / DATABASE_NAME,
    )
    database = build_dir / DATABASE_NAME
    stage("load-warehouse", load_warehouse, build_dir, tables_dir, facts, options.sections_spec)
    _timed(summary, "load", started)

    started = time.perf_counter()
    summary.model_seconds = stage("build-models", build_sql_models, database, options.sql_dir)
    _timed(summary, "models", started)

    started = time.perf_counter()
    summary.test_results = stage("data-tests", run_warehouse_tests, database, options.sql_dir)
    _timed(summary, "tests", started)
    errors = failed_tests(summary.test_results, "error")
    if errors:
        raise RunFailed(describe_failures(errors))

    started = time.perf_counter()
    summary.warehouse = stage("publish", swap_into_place, build_dir, options.warehouse_dir)
    _timed(summary, "publish", started)
