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
    PARQUET_DIR,
    BuildResult,
    RunFailed,
    build_database,
    collect_rejections,
    discover,
    failed_tests,
    load_canonical_headings,
    plan_batches,
    publish_tables,
    swap_into_place,
)
from pipelines.extract import Rejection

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


@dataclass
class RunSummary:
    run_id: str
    inputs: int = 0
    loaded: int = 0
    rejected: int = 0
    ignored: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    build: BuildResult | None = None
    warehouse: Path | None = None


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id sortable by time: UTC timestamp plus a short random suffix."""
    moment = now or dt.datetime.now(dt.UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def run_pipeline(options: RunOptions, stage: StageRunner = call_directly) -> RunSummary:
    """Run every stage; on failure the published warehouse is left untouched."""
    summary = RunSummary(new_run_id())
    build_dir = options.warehouse_dir / ".build" / summary.run_id
    try:
        _run_stages(options, stage, summary, build_dir)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    return summary


def _timed(summary: RunSummary, name: str, started: float) -> None:
    summary.stage_seconds[name] = round(time.perf_counter() - started, 3)


def _run_stages(
    options: RunOptions, stage: StageRunner, summary: RunSummary, build_dir: Path
) -> None:
    started = time.perf_counter()
    inputs = stage("discover", discover, options.source)
    summary.inputs = len(inputs.records) + len(inputs.ignored)
    summary.ignored = len(inputs.ignored)
    _timed(summary, "discover", started)

    started = time.perf_counter()
    headings = load_canonical_headings(options.sections_spec)
    parts_dir = build_dir / "parts"
    results: list[BatchResult] = [
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
    summary.rejections, excluded = collect_rejections(results)
    summary.rejected = len(summary.rejections)
    summary.loaded = len(inputs.records) - summary.rejected
    _timed(summary, "extract", started)

    started = time.perf_counter()
    tables_dir = build_dir / PARQUET_DIR
    summary.table_rows = stage("write-parquet", publish_tables, parts_dir, tables_dir, excluded)
    _timed(summary, "parquet", started)

    started = time.perf_counter()
    counts = {"loaded": summary.loaded, "quarantined": summary.rejected, "ignored": summary.ignored}
    build = stage(
        "build-warehouse",
        build_database,
        build_dir / "occupations.duckdb",
        tables_dir,
        options.sql_dir,
        summary.run_id,
        options.as_of,
        summary.rejections,
        counts,
        options.sections_spec,
    )
    summary.build = build
    _timed(summary, "warehouse", started)
    errors = failed_tests(build.test_results, "error")
    if errors:
        names = ", ".join(r.name for r in errors)
        raise RunFailed(f"{len(errors)} data test(s) failed with severity error: {names}")

    started = time.perf_counter()
    summary.warehouse = stage("publish", swap_into_place, build_dir, options.warehouse_dir)
    _timed(summary, "publish", started)
