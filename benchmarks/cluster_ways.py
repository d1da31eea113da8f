"""The ways `benchmarks.cluster_runners` runs extraction batches and no-op tasks: local, on Dask."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Call = tuple[list[str], Path, Path, int, frozenset[str]]  # process_batch's arguments
Way = Callable[[list[Call]], list[Any]]


def noop(number: int) -> int:
    """The work of a task that measures only what running a task costs."""
    return number


def batch_calls(corpus: Path, parts_dir: Path, batch_size: int) -> list[Call]:
    """The corpus cut into batches as a run cuts it, each as one `process_batch` call's
    arguments."""
    from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC, read_canonical_headings
    from occupipe.ingest.discover import discover
    from occupipe.ingest.fingerprints import plan_stable_batches

    inputs = discover(corpus)
    headings = read_canonical_headings(DEFAULT_SECTIONS_SPEC)
    batches = plan_stable_batches(inputs.records, batch_size)
    return [
        ([str(path) for path in batch], inputs.root, parts_dir, number, headings)
        for number, batch in enumerate(batches)
    ]


def local_sequential(calls: list[Call]) -> list[Any]:
    from occupipe.ingest.batch import process_batch

    return [process_batch(*call) for call in calls]


def local_pool(calls: list[Call]) -> list[Any]:
    """The project's own fan-out: spawned worker processes, started for the run."""
    from occupipe.ingest.batch import process_batch
    from occupipe.runner.stages import results_of, worker_pool

    with worker_pool(2) as pool:
        return list(results_of([pool.submit(process_batch, *call) for call in calls]))


def on_executor(address: str, calls: list[Call]) -> list[Any]:
    """The batches through distributed's stdlib executor, the client connected for the run."""
    from distributed import Client

    from occupipe.ingest.batch import process_batch

    # pure=False: a call is never merged with an equal one (the no-op tasks are all alike)
    client = Client(address)  # type: ignore[no-untyped-call]
    with client, client.get_executor(pure=False) as executor:  # type: ignore[no-untyped-call]
        return [future.result() for future in [executor.submit(process_batch, *c) for c in calls]]


def executor_in_flow(address: str) -> Way:
    """A flow on Prefect's default runner with the fan-out as its one task (the coordinator's
    design: the batches go through the executor inside that task)."""
    from prefect import flow
    from prefect.utilities.annotations import quote

    from pipelines.flows import as_task, heartbeat_off

    fan_out = as_task("extract", on_executor)

    def run(calls: list[Call]) -> list[Any]:
        @flow(name="cluster-bench-executor", validate_parameters=False)
        def bench() -> quote:
            return quote(fan_out(address, quote(calls)))

        with heartbeat_off():
            result: list[Any] = bench().unquote()
        return result

    return run


def on_task_runner(address: str) -> Way:
    """A flow whose task runner is `DaskTaskRunner(address=...)`, one task per batch, made as
    the project's flows make their tasks (no caching, no persisted results). The arguments go
    unquoted: on its way to a worker Dask rebuilds a `quote` (a namedtuple) with its value
    wrapped in tuples, `quote(((value,),))`, which the task then receives."""
    from prefect import flow
    from prefect.utilities.annotations import quote
    from prefect_dask.task_runners import DaskTaskRunner

    from occupipe.ingest.batch import process_batch
    from pipelines.flows import as_task, heartbeat_off

    runner: Any = DaskTaskRunner(address=address)  # prefect's generics do not take it

    def run(calls: list[Call]) -> list[Any]:
        @flow(
            name="cluster-bench-task-runner",
            task_runner=runner,
            validate_parameters=False,
        )
        def bench() -> quote:
            futures = [
                as_task(f"extract-batch-{call[3]}", process_batch).submit(*call) for call in calls
            ]
            return quote([future.result() for future in futures])

        with heartbeat_off():
            result: list[Any] = bench().unquote()
        return result

    return run


def noop_on_executor(address: str, count: int) -> tuple[float, float]:
    """Seconds to connect a client, and to run `count` no-op calls through its executor."""
    from distributed import Client

    started = time.perf_counter()
    client = Client(address)  # type: ignore[no-untyped-call]
    with client, client.get_executor(pure=False) as executor:  # type: ignore[no-untyped-call]
        connected = time.perf_counter()
        assert [f.result() for f in [executor.submit(noop, n) for n in range(count)]] == list(
            range(count)
        )
        return connected - started, time.perf_counter() - connected


def noop_flow(address: str | None, count: int) -> float:
    """Seconds of a flow that runs `count` no-op tasks, on `DaskTaskRunner(address=...)`, or
    on Prefect's default runner (address None)."""
    from prefect import flow
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask.task_runners import DaskTaskRunner

    from pipelines.flows import as_task, heartbeat_off

    runner: Any = DaskTaskRunner(address=address) if address else ThreadPoolTaskRunner()
    noop_task = as_task("noop", noop)

    @flow(name="cluster-bench-noop", task_runner=runner, validate_parameters=False)
    def bench() -> int:
        return len([future.result() for future in [noop_task.submit(n) for n in range(count)]])

    started = time.perf_counter()
    with heartbeat_off():
        assert bench() == count
    return time.perf_counter() - started
