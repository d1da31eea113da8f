"""One run of the pipeline, stage by stage, with an injected stage runner (call or Prefect task)."""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from occupipe.core.faults import crash_point
from occupipe.core.history import HistoryEvent, append_history, now_utc
from occupipe.core.layout import BUILD_DIR, PARTS_DIR
from occupipe.core.runs import RunFailed, RunOptions, RunSummary, new_run_id
from occupipe.ingest.batch import BatchResult
from occupipe.ingest.http import is_http_source
from occupipe.release.lock import run_lock
from occupipe.release.store import (
    ReleaseError,
    check_current_link,
    clean_partial_builds,
    current_release,
    record_unrecorded_releases,
    store_release,
)
from occupipe.runner.cluster import open_cluster
from occupipe.runner.extract import ChangesFound, extract_source
from occupipe.runner.stages import StageRunner, call_directly
from occupipe.runner.unchanged import keep_current_if_unchanged


def run_pipeline(options: RunOptions, stage: StageRunner = call_directly) -> RunSummary:
    """Run every stage over the source; on failure the published warehouse is left untouched.

    With `options.cluster`, the cluster is reached and checked before anything is built.
    """
    with open_cluster(options.cluster) as cluster:
        return run_in_build_dir(options, stage, functools.partial(extract_source, cluster=cluster))


def run_if_unchanged(options: RunOptions) -> RunSummary | None:
    """The run, if nothing it depends on changed since the current release (inputs as the
    cache index saw them, code, SQL, reference date): recorded in the history as any run that
    keeps the current release, without a stage runner; None, and nothing recorded, otherwise.

    What it reads (the files' sizes and times, the cache index, the current manifest) costs a
    fraction of what starting a flow does.
    """
    if options.full_refresh or is_http_source(options.source):
        return None  # (an http source's records would be downloaded to know)
    if current_release(options.warehouse_dir) is None:
        return None
    check = functools.partial(extract_source, only_if_unchanged=True)
    try:
        return run_in_build_dir(options, call_directly, check)
    except ChangesFound:
        return None


Extractor = Callable[[RunOptions, StageRunner, RunSummary, Path], list[BatchResult]]


def run_in_build_dir(options: RunOptions, stage: StageRunner, extractor: Extractor) -> RunSummary:
    """Under the run lock: extract with `extractor`, gate, build, test and publish a release.

    Whatever happens, the run is recorded in the history; a run that fails a gate keeps its
    release folder (marked failed) for inspection, and the current release is never touched.
    """
    with run_lock(options.warehouse_dir, options.lock_wait):
        try:
            check_current_link(options.warehouse_dir)
        except ReleaseError as exc:
            raise RunFailed(str(exc)) from None  # before any work: nothing to record
        clean_partial_builds(options.warehouse_dir)
        record_unrecorded_releases(options.warehouse_dir)
        summary = RunSummary(new_run_id(), started_at=now_utc())
        build_dir = options.warehouse_dir / BUILD_DIR / summary.run_id
        try:
            started = time.perf_counter()
            results = extractor(options, stage, summary, build_dir / PARTS_DIR)
            fetching = summary.stage_seconds.get("fetch", 0.0)  # timed apart
            summary.stage_seconds["extract"] = round(time.perf_counter() - started - fetching, 3)
            # the extraction's file lists and fingerprints are freed now, but Arrow's allocator
            # keeps freed memory for reuse unless told: handed back, the warehouse stages start
            # from the same footprint at any corpus size (left held, it grew with the corpus)
            pa.default_memory_pool().release_unused()
            crash_point("after-extract")
            if keep_current_if_unchanged(options, summary):
                append_history(options.warehouse_dir, history_event(summary, "unchanged"))
                return summary
            # imported only to build: a run that changes nothing does without it (and sqlglot)
            from occupipe.runner.finish import finish_build

            finish_build(options, stage, summary, build_dir, results)
        except ChangesFound:
            raise  # not a run: `run_if_unchanged` found work to do, and leaves it to a run
        except RunFailed as exc:
            record_failure(options, summary, build_dir, str(exc), keep_release=True)
            exc.summary = summary  # what an observer reports of the failure (pipelines/observe.py)
            raise
        except BaseException as exc:
            record_failure(options, summary, build_dir, describe_exception(exc), keep_release=False)
            raise
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        append_history(options.warehouse_dir, history_event(summary, "published"))
    return summary


def describe_exception(exc: BaseException) -> str:
    """Why a run stopped, for the history: a sentence, not a class name."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if not isinstance(exc, Exception):  # SIGTERM (Prefect's TerminationSignal), SystemExit
        return "terminated"
    return str(exc).splitlines()[0] if str(exc) else f"failed: {type(exc).__name__}"


def record_failure(
    options: RunOptions, summary: RunSummary, build_dir: Path, reason: str, keep_release: bool
) -> None:
    """Remember a failed run: its history line, and (for a failed gate) its release folder."""
    from occupipe.release.manifest import write_manifest  # (and pyarrow.compute) on failure only

    summary.failure = reason
    if keep_release and build_dir.exists():
        write_manifest(build_dir, summary, options, "failed")
        shutil.rmtree(build_dir / PARTS_DIR, ignore_errors=True)
        store_release(build_dir, options.warehouse_dir, summary.run_id)
        summary.release_id = summary.run_id
    append_history(options.warehouse_dir, history_event(summary, "failed"))


def history_event(summary: RunSummary, status: str) -> HistoryEvent:
    """The history line of one run."""
    return {
        "event": "run",
        "run_id": summary.run_id,
        "started_at": summary.started_at,
        "finished_at": now_utc(),
        "status": status,
        "reason": summary.failure,
        "release_id": summary.release_id,
        "records": summary.loaded,
        "quarantined": summary.rejected,
        "ignored": summary.ignored,
        "gates": summary.gates,
        "metrics": summary.metrics,
    }
