"""Extraction batches on a Dask cluster: Prefect's DaskTaskRunner against distributed's executor."""

# python -m benchmarks.cluster_runners --records N [--repeat R] [--batch-size B] [--noop-tasks K]
#     [--workdir DIR]
#
# One invocation synthesizes N records, starts a Prefect API server and an external Dask
# cluster (a scheduler and two single-threaded workers on 127.0.0.1, as tests/servers.py
# does), and times the same batches (`process_batch`, about 1,000 files each, cut as a run
# cuts them) every way, round after round: in this process one after the other, on the
# project's own process pool of two, through distributed's executor (alone, and as one task
# of a flow, as a coordinator's run would), and as one Prefect task per batch through
# `DaskTaskRunner`. Then the fixed and per-task costs of each, with no-op tasks. Every way
# writes the same part files (checked byte for byte); the workers share this disk. The
# cluster's first calls (imports on the workers) are timed apart, before the rounds. Every
# process started here is stopped by its PID, and everything written stays in the workdir.

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.cluster_ways import (
    Call,
    Way,
    batch_calls,
    executor_in_flow,
    local_pool,
    local_sequential,
    noop_flow,
    noop_on_executor,
    on_executor,
    on_task_runner,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
WAYS = (
    "local-sequential",
    "local-pool-2",
    "dask-executor",
    "dask-executor-in-flow",
    "prefect-dask-runner",
)


T = TypeVar("T")


def digest_parts(parts_dir: Path) -> dict[str, str]:
    """Every part file under a folder, by relative path, with the SHA-256 of its bytes."""
    return {
        path.relative_to(parts_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(parts_dir.rglob("*.parquet"))
    }


@dataclass(frozen=True)
class Plan:
    """What one invocation measures."""

    records: int
    batch_size: int
    repeat: int
    noop_tasks: int


@dataclass(frozen=True)
class Meter:
    """Times a way, and counts the CPU time it cost everywhere on this machine: this process
    and the pool workers it waited for, the Dask scheduler and workers, the Prefect server
    (processes `others`). The host is shared: its other work slows the wall clock of the
    parallel ways but not their CPU time, the figure that shows each way's overhead."""

    others: frozenset[int]

    def __call__(self, work: Callable[[], T]) -> tuple[float, float, T]:
        """Seconds and CPU seconds the work took, and what it returned."""
        from benchmarks.processes import cpu_seconds_between, process_cpu_seconds

        os.sync()  # the ways before have their writes on disk: none pays for another's writeback
        own, others = os.times(), process_cpu_seconds(self.others)
        started = time.perf_counter()
        value = work()
        seconds = time.perf_counter() - started
        cpu = cpu_seconds_between(own, os.times()) + process_cpu_seconds(self.others) - others
        return seconds, cpu, value

    def batches(self, way: Way, calls: list[Call]) -> tuple[float, float, int]:
        """Seconds and CPU seconds a way took over the calls, and the documents read."""
        seconds, cpu, results = self(lambda: way(calls))
        return seconds, cpu, sum(result.documents for result in results)


def measure(corpus: Path, workdir: Path, address: str, plan: Plan, meter: Meter) -> dict[str, Any]:
    """The whole measurement on a running cluster and Prefect server (see the comment above)."""
    load = os.getloadavg()  # the host is shared: how busy it was is part of the figures
    ways: dict[str, Way] = {
        "local-sequential": local_sequential,
        "local-pool-2": local_pool,
        "dask-executor": lambda calls: on_executor(address, calls),
        "dask-executor-in-flow": executor_in_flow(address),
        "prefect-dask-runner": on_task_runner(address),
    }
    out = workdir / "parts"
    first = batch_calls(corpus, out / "warm-up", plan.batch_size)[:1]
    cold = {
        "first executor call (s)": meter.batches(ways["dask-executor"], first)[0],
        "first DaskTaskRunner flow, 1 batch (s)": meter.batches(ways["prefect-dask-runner"], first)[
            0
        ],
        "first default-runner flow, 1 no-op (s)": noop_flow(None, 1),
    }
    seconds: dict[str, list[float]] = {name: [] for name in WAYS}
    cpu: dict[str, list[float]] = {name: [] for name in WAYS}
    documents: dict[str, int] = {}
    part_bytes = 0
    for round_number in range(plan.repeat):
        expected: dict[str, str] | None = None
        for name in WAYS:
            parts_dir = out / name
            shutil.rmtree(parts_dir, ignore_errors=True)
            calls = batch_calls(corpus, parts_dir, plan.batch_size)
            took, used, documents[name] = meter.batches(ways[name], calls)
            seconds[name].append(took)
            cpu[name].append(used)
            if round_number == 0:  # every way wrote the same bytes
                part_bytes = sum(path.stat().st_size for path in parts_dir.rglob("*.parquet"))
                digests = digest_parts(parts_dir)
                expected = expected or digests
                if digests != expected:
                    raise SystemExit(f"{name} wrote other part files than local-sequential")
            shutil.rmtree(parts_dir)
    overheads: dict[str, list[float]] = {}

    def note(label: str, value: float) -> None:
        overheads.setdefault(label, []).append(value)

    count = plan.noop_tasks
    for _ in range(plan.repeat):
        _, used, (connect, called) = meter(lambda: noop_on_executor(address, count))
        note("executor: client connect (ms)", 1000 * connect)
        note("executor: per no-op call (ms)", 1000 * called / count)
        note("executor: CPU per no-op call, all processes (ms)", 1000 * used / count)
        # from one task on: DaskTaskRunner connects its client at the flow's first task
        for runner, target in (("default runner", None), ("DaskTaskRunner", address)):
            one, one_cpu, _ = meter(functools.partial(noop_flow, target, 1))
            full, full_cpu, _ = meter(functools.partial(noop_flow, target, count))
            note(f"{runner}: flow with one no-op task (s)", one)
            note(f"{runner}: each further task (ms)", 1000 * (full - one) / (count - 1))
            note(f"{runner}: CPU per further task (ms)", 1000 * (full_cpu - one_cpu) / (count - 1))
    return {
        "load": load,
        "part_bytes": part_bytes,
        "cold": cold,
        "seconds": seconds,
        "cpu": cpu,
        "documents": documents,
        "overheads": overheads,
    }


def print_report(plan: Plan, batches: int, m: dict[str, Any]) -> None:
    seconds: dict[str, list[float]] = m["seconds"]
    base = statistics.median(seconds["local-sequential"])
    print(
        f"{plan.records} records in {batches} batches (--batch-size {plan.batch_size}),"
        f" {os.cpu_count()} cores, a Dask scheduler and 2 single-threaded workers on this"
        f" machine, median of {plan.repeat} runs"
    )
    cpu: dict[str, list[float]] = m["cpu"]
    base_cpu = statistics.median(cpu["local-sequential"])
    print(
        f"{'way':<24}{'seconds':>9}{'x local-seq':>13}{'CPU s':>8}{'x local-seq':>13}"
        f"{'documents':>11}  every run (s)"
    )
    for name in WAYS:
        middle, used = statistics.median(seconds[name]), statistics.median(cpu[name])
        runs = " ".join(f"{value:.2f}" for value in seconds[name])
        print(
            f"{name:<24}{middle:>9.2f}{middle / base:>13.2f}{used:>8.2f}{used / base_cpu:>13.2f}"
            f"{m['documents'][name]:>11}  {runs}"
        )
    print(
        f"load average (1 min): {m['load'][0]:.2f} at the start,"
        f" {os.getloadavg()[0]:.2f} at the end"
    )
    size = m["part_bytes"]
    print(
        f"part files: every way wrote the same bytes as local-sequential, {size / 1e6:.0f} MB"
        f" ({size / plan.records / 1e3:.1f} kB a record: what a batch's parts weigh on the wire)"
    )
    print("cold cluster (before the rounds): " + ", ".join(
        f"{label} {value:.2f}" for label, value in m["cold"].items()
    ))  # fmt: skip
    print(f"fixed and per-task costs ({plan.noop_tasks} no-op tasks, median of {plan.repeat}):")
    for label, values in m["overheads"].items():
        listed = " ".join(f"{value:.2f}" for value in values)
        print(f"  {label:<50}{statistics.median(values):>9.2f}  every run: {listed}")


@contextlib.contextmanager
def isolated_environment(workdir: Path) -> Iterator[None]:
    """Dask's scratch space and Prefect's home under the workdir, for this process and the
    processes it starts; set before either library is imported (both read them then)."""
    saved = dict(os.environ)
    os.environ["DASK_TEMPORARY_DIRECTORY"] = str(workdir / "dask")
    os.environ["PREFECT_HOME"] = str(workdir / "prefect")
    # the workers import benchmarks.cluster_ways for its no-op (pickled by reference)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_DIR), saved.get("PYTHONPATH")])
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def benchmark(plan: Plan, workdir: Path) -> None:
    from benchmarks.corpus import make_corpus, warm_page_cache

    corpus = make_corpus(plan.records, workdir)
    warm_page_cache(corpus)
    batches = len(batch_calls(corpus, workdir, plan.batch_size))
    with isolated_environment(workdir):
        from benchmarks.processes import descendants
        from pipelines.prefect_setup import configure_prefect, local_api_server, wait_for_server
        from tests.servers import start_dask_cluster

        configure_prefect()
        with local_api_server(timeout=120) as url:
            wait_for_server(url, timeout=120)
            server = descendants(os.getpid()) - {os.getpid()}  # this process's only children yet
            # started with the server's URL in the environment: tasks on the workers report to it
            cluster = start_dask_cluster(workdir / "cluster", workers=2)
            try:
                pids = {process.pid for process in [cluster.scheduler, *cluster.workers]}
                meter = Meter(frozenset(server | pids))
                measured = measure(corpus, workdir, cluster.address, plan, meter)
            finally:
                cluster.stop()
    print_report(plan, batches, measured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=1000, help="as `occupipe run`'s")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--noop-tasks", type=int, default=40, help="tasks of the cost measure")
    parser.add_argument("--workdir", type=Path, help="kept (corpus reused); default a temp dir")
    args = parser.parse_args()
    if args.noop_tasks < 2:
        parser.error("--noop-tasks must be 2 or more (the cost of a task is the difference)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="occupipe-cluster-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        plan = Plan(args.records, args.batch_size, args.repeat, args.noop_tasks)
        benchmark(plan, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for folder in ("parts", "cluster", "dask", "prefect"):
                shutil.rmtree(workdir / folder, ignore_errors=True)


if __name__ == "__main__":
    main()
