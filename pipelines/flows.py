"""Prefect wiring only: the `build_warehouse` flow runs the pipeline's stages as tasks."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from occupipe.core.settings import (
    DEFAULT_MAX_REJECT_RATE,
    DEFAULT_MAX_SHRINK,
    DEFAULT_SOURCE,
    DEFAULT_SOURCE_RETRIES,
    DEFAULT_WAREHOUSE,
)
from pipelines.prefect_setup import configure_prefect

configure_prefect()

# imported now, not lazily by the first flow call (fastapi's encoders above all, then the
# engines and the visualization module that pulls in graphviz): `occupipe run` imports this
# module while Prefect's server boots, so the imports cost nothing there
import fastapi.encoders  # noqa: E402, F401
import prefect.flow_engine  # noqa: E402
import prefect.task_engine  # noqa: E402
import prefect.utilities.visualization  # noqa: E402, F401
from prefect import Task, flow, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.context import SettingsContext, get_settings_context  # noqa: E402
from prefect.events.worker import EventsWorker  # noqa: E402
from prefect.futures import PrefectFuture  # noqa: E402
from prefect.logging.handlers import APILogWorker  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from occupipe.core.runs import RunOptions, RunSummary  # noqa: E402
from occupipe.runner.replay import replay_quarantine  # noqa: E402
from occupipe.runner.run import run_pipeline  # noqa: E402
from occupipe.runner.stages import Calls, Pending, Stages, results_of, worker_pool  # noqa: E402
from pipelines.observe import logged_stage, observed  # noqa: E402

T = TypeVar("T")


def as_task(name: str, fn: Callable[..., T], retries: int = 0) -> Task[..., T]:
    """A Prefect task for one stage, named after it (no result caching or persistence);
    one that fails is run again `retries` times, RETRY_DELAY_SECONDS apart."""
    return task(
        name=name.rstrip("-0123456789"),
        task_run_name=name,
        cache_policy=NO_CACHE,
        persist_result=False,
        retries=retries,
        retry_delay_seconds=RETRY_DELAY_SECONDS,
    )(logged_stage(name, fn))


RETRY_DELAY_SECONDS = 10.0
# the stages that read a remote source over the network: an HTTP API's fetch, an S3 listing
NETWORK_STAGES = frozenset({"fetch", "discover"})


def quoted(args: tuple[Any, ...]) -> list[Any]:
    """Task arguments Prefect passes through as they are, without walking into them.

    Stages take plain values (file lists, fingerprints, options), never futures; walking them
    to look for futures costs time that grows with the corpus.
    """
    return [quote(arg) for arg in args]


class TaskStages(Stages):
    """Every stage a Prefect task; batches run in processes, grouped into a few tasks. The
    stages named in `retried` are run again up to `retries` times when they fail."""

    def __init__(self, retried: frozenset[str] = frozenset(), retries: int = 0) -> None:
        self.retried = retried
        self.retries = retries

    def __call__(self, name: str, fn: Callable[..., T], /, *args: Any) -> T:
        retries = self.retries if name in self.retried else 0
        return as_task(name, fn, retries)(*quoted(args))

    def start(self, name: str, fn: Callable[..., T], /, *args: Any) -> Pending[T]:
        return as_task(name, fn).submit(*quoted(args))

    def on_pool(self, work: Calls[T], workers: int) -> Iterator[T]:
        """The batches on a process pool, shown as MAX_BATCH_TASKS tasks that each end with
        their share of the batches."""
        groups: list[PrefectFuture[int]] = []
        try:
            with worker_pool(workers) as pool:
                batches = [pool.submit(work.fn, *args) for args in work.args]
                groups = [
                    as_task(group_name(work.names, group), wait_for_batches).submit(
                        quote([batches[i] for i in group])
                    )
                    for group in split_evenly(len(batches), MAX_BATCH_TASKS)
                ]
                # each batch's result as soon as it is done: progress does not wait for a group
                yield from results_of(batches)
        finally:  # after the pool dropped the batches not started, should one have failed
            for group_task in groups:
                group_task.wait()

    def on_cluster(self, work: Calls[T], executor: Executor, slots: int) -> Iterator[T]:
        """The batches on a cluster's executor, shown as one task spanning them all (a task
        run per batch costs more than the batch: benchmarks/HISTORY.md); none when every batch
        came from the cache."""
        if not work.args:
            return
        done = threading.Event()
        names = work.names
        span = as_task(group_name(names, range(len(names))), wait_until_set).submit(quote(done))
        try:
            yield from super().on_cluster(work, executor, slots)
        finally:
            done.set()
            span.wait()


def wait_until_set(event: threading.Event) -> None:
    """A task that ends when `event` is set: it spans work done outside Prefect's runners."""
    event.wait()


def wait_for_batches(batches: list[Future[Any]]) -> int:
    """A group of batches as one task: it ends when they have (their results are read apart,
    one by one); the number of batches."""
    return len(list(results_of(batches)))


# Every task run costs client and server time (on the same two cores): a task per batch made
# the flow clearly slower than the plain run, and more groups than two cost more CPU time,
# never less (benchmarks/HISTORY.md). The batches run on every worker whatever the grouping;
# progress comes batch by batch.
MAX_BATCH_TASKS = 2


def split_evenly(count: int, most: int) -> list[range]:
    """Positions 0..count-1 as at most `most` contiguous groups, sizes differing by one at most."""
    groups = min(count, most)
    if groups == 0:
        return []
    size, larger = divmod(count, groups)
    starts = [i * size + min(i, larger) for i in range(groups + 1)]
    return [range(begin, end) for begin, end in itertools.pairwise(starts)]


def group_name(names: list[str], group: range) -> str:
    """`extract-batch-7`, or `extract-batch-7-13` for a group of batches."""
    first, last = names[group[0]], names[group[-1]]
    return first if len(group) == 1 else f"{first}-{last.rsplit('-', 1)[-1]}"


run_as_task = TaskStages()


@flow(name="build-warehouse", validate_parameters=False)
def build_warehouse(options: RunOptions) -> quote:
    """Extract, validate, normalize, load, model and test: one warehouse build.

    The summary is returned quoted: Prefect would otherwise walk all of it (a hash per input
    file) looking for futures, which takes longer the larger the corpus.
    """
    return quote(observed(options.warehouse_dir, lambda: run_pipeline(options, stage=run_as_task)))


@flow(name="replay-quarantine", validate_parameters=False)
def replay_warehouse(options: RunOptions) -> quote:
    """Re-validate the kept quarantined documents and rebuild with those that now pass."""
    return quote(
        observed(options.warehouse_dir, lambda: replay_quarantine(options, stage=run_as_task))
    )


@flow(name="scheduled-build", validate_parameters=True)
def scheduled_build(
    source: str = DEFAULT_SOURCE,
    warehouse: str = str(DEFAULT_WAREHOUSE),
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    source_retries: int = DEFAULT_SOURCE_RETRIES,
) -> dict[str, Any]:
    """The build for deployments: plain parameters, today's reference date, and the run lock
    (an overlapping run stops with "another run is in progress" instead of colliding). The
    Dask cluster, if any, is the worker's `OCCUPIPE_CLUSTER`: where it runs, not what it builds.
    A remote source's fetch or listing that fails is tried again `source_retries` times.
    """
    from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC
    from occupipe.core.settings import Settings, find_sql_dir

    options = RunOptions(
        source=source if source.startswith(("http://", "https://", "s3://")) else Path(source),
        warehouse_dir=Path(warehouse),
        sql_dir=find_sql_dir(),
        as_of=dt.date.today(),
        sections_spec=DEFAULT_SECTIONS_SPEC,
        max_reject_rate=max_reject_rate,
        max_shrink=max_shrink,
        cluster=Settings().cluster,
    )
    remote = not isinstance(options.source, Path)
    stages = TaskStages(NETWORK_STAGES if remote else frozenset(), source_retries)
    summary = observed(options.warehouse_dir, lambda: run_pipeline(options, stage=stages))
    return {"run_id": summary.run_id, "loaded": summary.loaded, "quarantined": summary.rejected}


@contextmanager
def heartbeat_off() -> Iterator[None]:
    """The current Prefect settings with the flow-run heartbeat off.

    A copy of the current settings with that one field changed: `temporary_settings` rebuilds
    every setting from the environment, a cost paid on every flow call.
    """
    context = get_settings_context()
    flows = context.settings.flows.model_copy(update={"heartbeat_frequency": None})
    settings = context.settings.model_copy(update={"flows": flows})
    with SettingsContext(profile=context.profile, settings=settings):
        yield


LOG_DRAIN_SECONDS = 10.0  # the longest a flow call waits for its logs to reach the server


def run_flow_quietly(chosen: Callable[[RunOptions], quote], options: RunOptions) -> RunSummary:
    """Call a flow with no heartbeat thread, sending Prefect's queued events and logs before
    returning.

    The heartbeat only serves crashed-run detection by a worker, which a CLI run does not have.
    Flushing the events keeps the interpreter's exit free of "still processing"; draining the
    log worker sends a failed run's error logs while the server still runs (`occupipe run`
    stops its server next: the logs were lost, with "Error logging to API" on stderr). Like
    Prefect's own `APILogHandler.flush`, the drain stops every Prefect queue service of the
    process; the next flow call starts new ones. So flow calls through here take turns: one
    flow at a time per process (the CLI's case; schedules are served by Prefect itself).
    """
    with heartbeat_off():
        try:
            summary: RunSummary = chosen(options).unquote()
            return summary
        finally:
            EventsWorker.instance().wait_until_empty()
            APILogWorker.drain_all(timeout=LOG_DRAIN_SECONDS, at_exit=False)


def run_build_flow(options: RunOptions) -> RunSummary:
    """The build-warehouse flow, quietly."""
    return run_flow_quietly(build_warehouse, options)


def run_replay_flow(options: RunOptions) -> RunSummary:
    """The replay-quarantine flow, quietly."""
    return run_flow_quietly(replay_warehouse, options)
