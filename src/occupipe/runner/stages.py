"""How stages are called: plain calls, a process pool for batches; flows swap in tasks."""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from occupipe.core.lifetime import sigint_held, start_worker

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Pending(Protocol[T_co]):
    """A stage started in the background (a future)."""

    def result(self) -> T_co:
        """Wait for the stage; its return value, or its exception raised here."""
        ...


@dataclass(frozen=True)
class Calls(Generic[T]):
    """Independent calls of one function, each with a name (its task run's, in a flow)."""

    names: list[str]
    fn: Callable[..., T]
    args: list[tuple[Any, ...]]


class Stages:
    """How stages run: plain calls, and a process pool for the batches; flows.py overrides
    both to run them as Prefect tasks."""

    def __call__(self, name: str, fn: Callable[..., T], /, *args: Any) -> T:
        """Run one stage."""
        return fn(*args)

    def fan_out(
        self,
        names: list[str],
        fn: Callable[..., T],
        calls: list[tuple[Any, ...]],
        workers: int,
        executor: Executor | None = None,
    ) -> Iterator[T]:
        """Run many independent calls, on `workers` processes (or `workers` at a time on a
        cluster's `executor`); results in call order."""
        work = Calls(names, fn, calls)
        if executor is not None:
            return self.on_cluster(work, executor, workers)
        if workers <= 1 or len(calls) <= 1:
            return (self(name, fn, *args) for name, args in zip(names, calls, strict=True))
        return self.on_pool(work, min(workers, len(calls)))

    def on_cluster(self, work: Calls[T], executor: Executor, slots: int) -> Iterator[T]:
        """The calls on a cluster's executor, `slots` at a time."""
        return submit_in_turn(executor, work.fn, work.args, slots)

    def on_pool(self, work: Calls[T], workers: int) -> Iterator[T]:
        """The calls on a pool of `workers` processes."""
        with worker_pool(workers) as pool:
            yield from results_of([pool.submit(work.fn, *args) for args in work.args])

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
    killer) left its workers waiting for work forever, each holding its memory.
    """
    return WorkerPool(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
        initargs=(os.getpid(),),
    )


def submit_in_turn(
    executor: Executor, fn: Callable[..., T], calls: list[tuple[Any, ...]], slots: int
) -> Iterator[T]:
    """Results in call order, with at most twice `slots` calls submitted and not yet read: the
    executor stays busy, and results wait here in bounded number whatever the call count
    (a cluster's results travel to this process as soon as they are done)."""
    pending: deque[Future[T]] = deque()
    waiting = iter(calls)
    try:
        for args in itertools.islice(waiting, max(2 * slots, 1)):
            pending.append(executor.submit(fn, *args))
        while pending:
            result = pending.popleft().result()
            for args in itertools.islice(waiting, 1):
                pending.append(executor.submit(fn, *args))
            yield result
    finally:  # a failed call, or the consumer gone: drop what has not run
        for future in pending:
            future.cancel()


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
