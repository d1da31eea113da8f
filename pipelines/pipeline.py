"""One run of the pipeline, stage by stage, with an injected stage runner (call or Prefect task)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import multiprocessing
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pyarrow as pa

from pipelines.batch import BatchResult
from pipelines.build import (
    RunFacts,
    RunFailed,
    build_sql_models,
    collect_rejections,
    describe_failures,
    discover,
    failed_tests,
    load_warehouse,
    merge_drift,
    publish_tables,
    read_metrics,
    run_warehouse_tests,
    writer_threads,
)
from pipelines.cache import (
    INDEX_SCHEMA,
    BatchFlags,
    ExtractCache,
    ExtractedBatch,
    batch_key,
    code_fingerprint,
    extract_batch,
    index_matches,
    plan_stable_batches,
    reuse_fingerprints,
    split_table,
    summarize_changes,
)
from pipelines.datatests import DataTestResult
from pipelines.extract import Rejection, SourceError, StrPath
from pipelines.faults import crash_point
from pipelines.gates import (
    DEFAULT_MAX_REJECT_RATE,
    DEFAULT_MAX_SHRINK,
    check_reject_rate,
    check_schema,
    check_volume,
)
from pipelines.html_report import REPORT_NAME, write_report
from pipelines.http_source import HttpSettings, is_http_source, mirror_name, mirror_source
from pipelines.lifetime import sigint_held, start_worker
from pipelines.lock import run_lock
from pipelines.manifest import (
    SealedInputs,
    count_published_records,
    read_table_schemas,
    seal_files,
    seal_inputs,
    write_manifest,
)
from pipelines.progress import report_progress
from pipelines.releases import (
    BUILD_DIR,
    DATABASE_NAME,
    HTTP_CACHE,
    PARQUET_DIR,
    PARTS_DIR,
    QUARANTINE_DIR,
    ReleaseError,
    append_history,
    check_current_link,
    clean_partial_builds,
    current_release,
    now_utc,
    publish_release,
    read_manifest,
    record_unrecorded_releases,
    store_release,
)
from pipelines.sectionspec import read_canonical_headings
from pipelines.settings import DEFAULT_BATCH_SIZE

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Pending(Protocol[T_co]):
    """A stage started in the background (a future)."""

    def result(self) -> T_co:
        """Wait for the stage; its return value, or its exception raised here."""
        ...


class Stages:
    """How stages run: plain calls, and a process pool for the batches; flows.py overrides
    both to run them as Prefect tasks."""

    def __call__(self, name: str, fn: Callable[..., T], /, *args: Any) -> T:
        """Run one stage."""
        return fn(*args)

    def fan_out(
        self, names: list[str], fn: Callable[..., T], calls: list[tuple[Any, ...]], workers: int
    ) -> Iterator[T]:
        """Run many independent calls, on `workers` processes; results in call order."""
        if workers <= 1 or len(calls) <= 1:
            yield from (fn(*args) for args in calls)
            return
        with worker_pool(min(workers, len(calls))) as pool:
            yield from results_of([pool.submit(fn, *args) for args in calls])

    def start(self, name: str, fn: Callable[..., T], /, *args: Any) -> Pending[T]:
        """Start one stage on a thread of its own; its `result()` waits for it."""
        executor = ThreadPoolExecutor(1, thread_name_prefix=name)
        future = executor.submit(fn, *args)
        executor.shutdown(wait=False)  # the thread ends with the work
        return future


class WorkerLost(Exception):
    """An extraction worker process ended in the middle of a batch (killed, out of memory)."""


class WorkerPool(ProcessPoolExecutor):
    """A process pool whose workers never take Ctrl-C (`start_worker`), which, left by an
    exception, drops the calls not yet started."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with sigint_held():  # a submit may start a worker
            return super().submit(fn, *args, **kwargs)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        # on Ctrl-C or a failed batch, waiting for every queued batch would run them all
        self.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)


def worker_pool(workers: int) -> WorkerPool:
    """Worker processes for the Python-bound extraction (spawned: this process has threads).

    Each worker ends once this process is gone: a run killed with `kill -9` (or by the OOM
    killer) left its workers waiting for work forever, 200 MB each.
    """
    return WorkerPool(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
        initargs=(os.getpid(),),
    )


def results_of(futures: Iterable[Future[T]]) -> Iterator[T]:
    """The futures' results in order; a pool's lost worker as one sentence (`WorkerLost`)."""
    try:
        for future in futures:
            yield future.result()
    except BrokenProcessPool:
        raise WorkerLost(
            "an extraction worker process ended in the middle of a batch (killed, or out of"
            " memory?)"
        ) from None


StageRunner = Stages
call_directly = Stages()


@dataclass(frozen=True)
class RunOptions:
    source: Path | str  # a folder, a file, or an http(s) base URL
    warehouse_dir: Path
    sql_dir: Path
    as_of: dt.date
    sections_spec: Path
    batch_size: int = DEFAULT_BATCH_SIZE
    with_html: bool = False
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    strict: bool = False
    max_shrink: float = DEFAULT_MAX_SHRINK
    allow_shrink: bool = False
    allow_schema_change: bool = False
    lock_wait: float = 0.0
    full_refresh: bool = False
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    parallel_min_files: int = 2000
    http: HttpSettings = field(default_factory=HttpSettings)


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
    started_at: str = ""
    release_id: str | None = None
    failure: str | None = None
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    # the part files the run's documents were accounted from (the manifest lists the inputs
    # from them); None until then
    accounted_parts: Path | None = None
    changes: dict[str, int] = field(default_factory=dict)
    input_fingerprint: str | None = None
    unchanged_since: str | None = None


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id sortable by time: UTC timestamp plus a short random suffix."""
    moment = now or dt.datetime.now(dt.UTC)
    return f"{moment:%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(2)}"


def run_pipeline(options: RunOptions, stage: StageRunner = call_directly) -> RunSummary:
    """Run every stage over the source; on failure the published warehouse is left untouched."""
    return run_in_build_dir(options, stage, extract_source)


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
            # from the same footprint at any corpus size (at 400k files, 336 MB became 160 MB)
            pa.default_memory_pool().release_unused()
            crash_point("after-extract")
            if keep_current_if_unchanged(options, summary):
                append_history(options.warehouse_dir, history_event(summary, "unchanged"))
                return summary
            finish_build(options, stage, summary, build_dir, results)
        except RunFailed as exc:
            record_failure(options, summary, build_dir, str(exc), keep_release=True)
            raise
        except BaseException as exc:
            record_failure(options, summary, build_dir, describe_exception(exc), keep_release=False)
            raise
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        append_history(options.warehouse_dir, history_event(summary, "published"))
    return summary


def keep_current_if_unchanged(options: RunOptions, summary: RunSummary) -> bool:
    """True (and the summary filled from the current release) when nothing it depends on
    changed: same inputs, code, SQL and reference date. Nothing is rebuilt then.

    The extraction may have found so already (`unchanged_since` set), before any batch.
    """
    if summary.unchanged_since is None:
        found = current_build(options, summary.input_fingerprint)
        if found is None:
            return False
        adopt_current_release(options, summary, *found)
    return True


def adopt_current_release(
    options: RunOptions, summary: RunSummary, current: str, manifest: dict[str, Any]
) -> None:
    """Fill the summary of a run that changes nothing from the current release's manifest."""
    counts = manifest.get("counts", {})
    summary.inputs, summary.loaded = counts.get("inputs", 0), counts.get("loaded", 0)
    summary.rejected, summary.ignored = counts.get("quarantined", 0), counts.get("ignored", 0)
    summary.table_rows = manifest.get("row_counts", {})
    summary.unchanged_since = current
    summary.release_id = current
    summary.warehouse = options.warehouse_dir / DATABASE_NAME


def current_build(
    options: RunOptions, fingerprint: str | None
) -> tuple[str, dict[str, Any]] | None:
    """The current release and its manifest, if it was built from exactly this (and no full
    refresh was asked); None otherwise."""
    current = current_release(options.warehouse_dir)
    if options.full_refresh or current is None or fingerprint is None:
        return None
    manifest = read_manifest(options.warehouse_dir, current)
    return (current, manifest) if manifest.get("input_fingerprint") == fingerprint else None


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
    summary.failure = reason
    if keep_release and build_dir.exists():
        write_manifest(build_dir, summary, options, "failed")
        shutil.rmtree(build_dir / PARTS_DIR, ignore_errors=True)
        store_release(build_dir, options.warehouse_dir, summary.run_id)
        summary.release_id = summary.run_id
    append_history(options.warehouse_dir, history_event(summary, "failed"))


def history_event(summary: RunSummary, status: str) -> dict[str, Any]:
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


def extract_source(
    options: RunOptions, stage: StageRunner, summary: RunSummary, parts_dir: Path
) -> list[BatchResult]:
    """Find (or fetch) the source's files and extract them batch by batch into Parquet parts.

    Batches whose files and code are unchanged since the last run reuse their cached parts.
    """
    paths, root, fetched = find_source_files(options, stage, summary)
    headings = read_canonical_headings(options.sections_spec)
    cache = ExtractCache(
        options.warehouse_dir, code_fingerprint(options.sections_spec, options.with_html)
    )
    known = cache.load_index()
    batches = plan_stable_batches(paths, options.batch_size)
    reused = reuse_fingerprints(paths, root, None if options.full_refresh else known)
    runs = split_table(reused, batches)
    del reused  # the runs hold the same rows
    pa.default_memory_pool().release_unused()  # what building the runs took beyond them
    unchanged = fingerprint_if_unchanged(options, cache.code, runs, fetched, summary.ignored)
    found = current_build(options, unchanged)
    if found is not None:
        # every file as the last run saw it, and the build would be the current release again:
        # stop before any batch is restored (100k files: 2.5 s less)
        summary.input_fingerprint = unchanged
        adopt_current_release(options, summary, *found)
        summary.changes = summarize_changes(known, concat_prints(runs))
        return fetched
    stale = sum(run["sha256"].null_count for run in runs)
    flags = BatchFlags(options.full_refresh, options.with_html)
    quarantine_dir = parts_dir.parent / QUARANTINE_DIR  # the build folder's
    calls = [
        (cache, batch, run, root, parts_dir, quarantine_dir, n, headings, flags)
        for n, (batch, run) in enumerate(zip(batches, runs, strict=True))
    ]
    del runs
    names = [f"extract-batch-{n}" for n in range(len(batches))]
    done: list[ExtractedBatch] = []
    # spawning workers costs about 2 s: below a few thousand files to read, one process is
    # faster (a re-run that finds every file unchanged only links cached parts)
    workers = options.workers if stale >= options.parallel_min_files else 1
    for outcome in stage.fan_out(names, extract_batch, calls, workers):
        done.append(outcome)
        report_progress(sum(len(b) for b in batches[: len(done)]), len(paths))
    prints = concat_prints([outcome.prints for outcome in done])
    summary.changes = summarize_changes(known, prints)
    if not index_matches(known, prints):
        cache.save_index(prints)
    keys = [outcome.key for outcome in done]
    cache.prune(set(keys))
    summary.input_fingerprint = fingerprint_build(options, keys, fetched, summary.ignored)
    return fetched + [outcome.result for outcome in done]


def find_source_files(
    options: RunOptions, stage: StageRunner, summary: RunSummary
) -> tuple[Sequence[StrPath], Path, list[BatchResult]]:
    """The source's record files and the folder they are under: a local folder's found
    files, or an http source's records mirrored into the warehouse (with the records that
    could not be fetched, as a result of their own). Raises SourceError when there are none."""
    started = time.perf_counter()
    paths: Sequence[StrPath]
    if is_http_source(options.source):
        mirror = options.warehouse_dir / HTTP_CACHE / mirror_name(str(options.source))
        paths, failed = stage(
            "fetch",
            mirror_source,
            str(options.source),
            mirror,
            options.http,
            not options.full_refresh,  # a full refresh downloads every record again
        )
        _timed(summary, "fetch", started)
        fetched = [BatchResult(documents=len(failed), rejections=failed)]
        root = mirror
    else:
        inputs = stage("discover", discover, Path(options.source), options.warehouse_dir)
        _timed(summary, "discover", started)
        paths, root, fetched = inputs.records, inputs.root, []
        summary.ignored = len(inputs.ignored)
    summary.files = len(paths) + summary.ignored
    if not paths and not any(result.rejections for result in fetched):
        raise SourceError(describe_empty_source(options.source, summary.ignored))
    return paths, root, fetched


def describe_empty_source(source: Path | str, ignored: int) -> str:
    """Why a source with no record files builds nothing (a wrong path, most likely)."""
    if is_http_source(source):
        return f"the index at {source} lists no records: nothing to build"
    others = f" ({ignored} other file{'s' if ignored != 1 else ''} ignored)" if ignored else ""
    return f"{source} holds no record files (.json, .jsonl or .ndjson){others}: nothing to build"


def fingerprint_if_unchanged(
    options: RunOptions,
    code: str,
    runs: list[pa.Table],
    fetched: list[BatchResult],
    ignored: int,
) -> str | None:
    """The build's fingerprint if every file is as the last run saw it (None otherwise)."""
    if not runs or any(run["sha256"].null_count for run in runs):
        return None
    keys = [batch_key(code, run) for run in runs]
    return fingerprint_build(options, keys, fetched, ignored)


def concat_prints(runs: list[pa.Table]) -> pa.Table:
    """The fingerprints of every batch as one table (`INDEX_SCHEMA`)."""
    return pa.concat_tables([INDEX_SCHEMA.empty_table(), *runs])


def fingerprint_build(
    options: RunOptions, keys: list[str], fetched: list[BatchResult], ignored: int
) -> str:
    """Everything a release's content depends on: inputs, code, SQL, reference date."""
    digest = hashlib.sha256(f"{options.as_of}|{options.with_html}|{ignored}".encode())
    for key in keys:
        digest.update(key.encode())
    for result in fetched:
        for rejection in result.rejections:
            digest.update(f"{rejection.source_file}|{rejection.reason}".encode())
    for path in sorted(options.sql_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(options.sql_dir).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def _timed(summary: RunSummary, name: str, started: float) -> None:
    summary.stage_seconds[name] = round(time.perf_counter() - started, 3)


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
    # are what the run waits for, and the writing takes the CPU they leave. At 100k records
    # the stages after the extraction took 9.4-9.9 s this way (the load on both cores), 10.1-10.7
    # with the load on one DuckDB thread and the writers at the same priority (alternated runs)
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
    # HTML report, not after them (at 100k records its sha256 took 0.19 s after the report)
    with ThreadPoolExecutor(1, thread_name_prefix="checksum") as pool:
        checksum = pool.submit(seal_files, build_dir, [database])
        gate_and_report(options, stage, summary, build_dir)
        sealed = sealed.with_checksums(checksum.result())

    started = time.perf_counter()
    summary.release_id = summary.run_id
    write_manifest(build_dir, summary, options, "published", sealed)
    crash_point("before-publish")
    summary.warehouse = stage(
        "publish", publish_release, build_dir, options.warehouse_dir, summary.run_id
    )
    _timed(summary, "publish", started)


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
    _timed(summary, "load", started)
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
    _timed(summary, "models", started)

    started = time.perf_counter()
    summary.test_results = stage("data-tests", run_warehouse_tests, database, options.sql_dir)
    _timed(summary, "tests", started)


def write_published_files(
    parts_dir: Path, tables_dir: Path, excluded: set[int], rejections: list[Rejection]
) -> tuple[dict[str, int], float, SealedInputs]:
    """`publish_tables` (its row counts, and the seconds it took: it runs beside other
    stages), with the input ledger written meanwhile; then both checksummed (`seal_inputs`).

    The ledger has a thread of its own: after the tables it made the writing the run's
    longest stage (100k records: 6.1 s, against 5.8 for the models and data tests).
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
