"""The extraction stage: find (or fetch) the source's files, extract them batch by batch."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from occupipe.contract.sections import read_canonical_headings
from occupipe.core.layout import HTTP_CACHE, QUARANTINE_DIR
from occupipe.core.objectstore import is_s3_uri
from occupipe.core.progress import report_progress
from occupipe.core.rejection import SourceError
from occupipe.core.runs import RunOptions, RunSummary
from occupipe.ingest.batch import BatchResult
from occupipe.ingest.cache import (
    BatchFlags,
    ExtractCache,
    ExtractedBatch,
    extract_batch,
    extract_detached,
    restore_known_batch,
    settle_detached,
)
from occupipe.ingest.discover import StrPath, discover
from occupipe.ingest.fingerprints import (
    INDEX_SCHEMA,
    batch_key,
    code_fingerprint,
    index_matches,
    plan_stable_batches,
    reuse_fingerprints,
    split_table,
    summarize_changes,
)
from occupipe.ingest.http import is_http_source, mirror_name, mirror_source
from occupipe.ingest.s3source import list_source_objects
from occupipe.runner.cluster import Cluster, converting_cluster_errors
from occupipe.runner.stages import StageRunner
from occupipe.runner.unchanged import adopt_current_release, current_build


def extract_source(
    options: RunOptions,
    stage: StageRunner,
    summary: RunSummary,
    parts_dir: Path,
    cluster: Cluster | None = None,
    only_if_unchanged: bool = False,
) -> list[BatchResult]:
    """Find (or fetch) the source's files and extract them batch by batch into Parquet parts,
    here or on a `cluster`.

    Batches whose files and code are unchanged since the last run reuse their cached parts.
    `only_if_unchanged`: stop with `ChangesFound` before any batch unless the run would keep
    the current release (nothing it depends on changed).
    """
    paths, root, fetched, listed = find_source_files(options, stage, summary)
    headings = read_canonical_headings(options.sections_spec)
    cache = ExtractCache(
        options.warehouse_dir, code_fingerprint(options.sections_spec, options.with_html)
    )
    known = cache.load_index()
    batches = plan_stable_batches(paths, options.batch_size)
    reused = reuse_fingerprints(paths, root, None if options.full_refresh else known, listed)
    runs = split_table(reused, batches)
    del reused  # the runs hold the same rows
    pa.default_memory_pool().release_unused()  # what building the runs took beyond them
    unchanged = fingerprint_if_unchanged(options, cache.code, runs, fetched, summary.ignored)
    found = current_build(options, unchanged)
    if found is None and only_if_unchanged:
        raise ChangesFound
    if found is not None:
        # every file as the last run saw it, and the build would be the current release again:
        # stop before any batch is restored (that would be most of such a re-run's time)
        summary.input_fingerprint = unchanged
        adopt_current_release(options, summary, *found)
        summary.changes = summarize_changes(known, concat_prints(runs))
        return fetched
    plan = BatchPlan(cache, batches, runs, root, parts_dir, headings)
    del runs
    if cluster is None:
        done = extract_here(options, stage, plan)
    else:
        done = extract_on_cluster(options, stage, cluster, plan)
    del plan
    prints = concat_prints([outcome.prints for outcome in done])
    summary.changes = summarize_changes(known, prints)
    if not index_matches(known, prints):
        cache.save_index(prints)
    keys = [outcome.key for outcome in done]
    cache.prune(set(keys))
    summary.input_fingerprint = fingerprint_build(options, keys, fetched, summary.ignored)
    return fetched + [outcome.result for outcome in done]


Listed = tuple[pa.Array, pa.Array]  # sizes and change stamps an object store's listing gave


@dataclass
class BatchPlan:
    """A run's batches and what extracting them needs: files, fingerprints known so far (one
    table per batch), where parts go, the cache."""

    cache: ExtractCache
    batches: list[list[StrPath]]
    runs: list[pa.Table]
    root: StrPath
    parts_dir: Path
    headings: frozenset[str]

    @property
    def quarantine_dir(self) -> Path:
        return self.parts_dir.parent / QUARANTINE_DIR  # the build folder's

    def progress(self, numbers: Iterable[int]) -> None:
        """Report the files of the batches done so far."""
        total = sum(len(batch) for batch in self.batches)
        report_progress(sum(len(self.batches[n]) for n in numbers), total)


class ChangesFound(Exception):
    """A run asked to go only as far as finding nothing changed found something."""


def extract_here(options: RunOptions, stage: StageRunner, plan: BatchPlan) -> list[ExtractedBatch]:
    """Every batch extracted on this machine (a process pool for many files to read)."""
    stale = sum(run["sha256"].null_count for run in plan.runs)
    flags = BatchFlags(options.full_refresh, options.with_html)
    calls = [
        (plan.cache, batch, run, plan.root, plan.parts_dir, plan.quarantine_dir, n,
         plan.headings, flags)
        for n, (batch, run) in enumerate(zip(plan.batches, plan.runs, strict=True))
    ]  # fmt: skip
    names = [f"extract-batch-{n}" for n in range(len(plan.batches))]
    # spawning workers has a fixed cost: below a few thousand files to read, one process is
    # faster (a re-run that finds every file unchanged only links cached parts)
    workers = options.workers if stale >= options.parallel_min_files else 1
    done: list[ExtractedBatch] = []
    for outcome in stage.fan_out(names, extract_batch, calls, workers):
        done.append(outcome)
        plan.progress(range(len(done)))
    return done


def extract_on_cluster(
    options: RunOptions, stage: StageRunner, cluster: Cluster, plan: BatchPlan
) -> list[ExtractedBatch]:
    """The batches to extract sent to the cluster's workers, which read their own files and
    send back the parts; batches the cache holds are restored here, without a worker."""
    done: dict[int, ExtractedBatch] = {}
    calls = []
    for n, (batch, run) in enumerate(zip(plan.batches, plan.runs, strict=True)):
        kept = None
        if not options.full_refresh:
            kept = restore_known_batch(plan.cache, run, plan.parts_dir, plan.quarantine_dir, n)
        if kept is not None:
            done[n] = kept
        else:
            calls.append((batch, run, plan.root, n, plan.headings, options.with_html))
    names = [f"extract-batch-{call[3]}" for call in calls]
    with converting_cluster_errors(cluster.address):
        for part in stage.fan_out(names, extract_detached, calls, cluster.slots, cluster.executor):
            done[part.number] = settle_detached(
                plan.cache, part, plan.parts_dir, plan.quarantine_dir
            )
            plan.progress(done)
    return [done[n] for n in range(len(plan.batches))]


def find_source_files(
    options: RunOptions, stage: StageRunner, summary: RunSummary
) -> tuple[Sequence[StrPath], StrPath, list[BatchResult], Listed | None]:
    """The source's record files and the folder they are under: a local folder's found
    files, an S3 prefix's listed objects (with their sizes and stamps), or an http source's
    records mirrored into the warehouse (with the records that could not be fetched, as a
    result of their own). Raises SourceError when there are none."""
    started = time.perf_counter()
    paths: Sequence[StrPath]
    root: StrPath
    listed: Listed | None = None
    if is_s3_uri(options.source):
        objects = stage("discover", list_source_objects, str(options.source))
        summary.time_stage("discover", started)
        paths, root, fetched = objects.records, objects.root, []
        listed = (objects.sizes, objects.stamps)
        summary.ignored = len(objects.ignored)
    elif is_http_source(options.source):
        mirror = options.warehouse_dir / HTTP_CACHE / mirror_name(str(options.source))
        paths, failed = stage(
            "fetch",
            mirror_source,
            str(options.source),
            mirror,
            options.http,
            not options.full_refresh,  # a full refresh downloads every record again
        )
        summary.time_stage("fetch", started)
        fetched = [BatchResult(documents=len(failed), rejections=failed)]
        root = mirror
    else:
        inputs = stage("discover", discover, Path(options.source), options.warehouse_dir)
        summary.time_stage("discover", started)
        paths, root, fetched = inputs.records, inputs.root, []
        summary.ignored = len(inputs.ignored)
    summary.files = len(paths) + summary.ignored
    if not paths and not any(result.rejections for result in fetched):
        raise SourceError(describe_empty_source(options.source, summary.ignored))
    return paths, root, fetched, listed


def describe_empty_source(source: Path | str, ignored: int) -> str:
    """Why a source with no record files builds nothing (a wrong path, most likely)."""
    if is_http_source(source):
        return f"the index at {source} lists no records: nothing to build"
    others = f" ({ignored} other file{'s' if ignored != 1 else ''} ignored)" if ignored else ""
    kind = "record objects" if is_s3_uri(source) else "record files"
    return f"{source} holds no {kind} (.json, .jsonl or .ndjson){others}: nothing to build"


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
