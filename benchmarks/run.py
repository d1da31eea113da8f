"""Benchmark one corpus size: parse-only and naive-DuckDB baselines against our full run
(without and with the Prefect flow), a no-change re-run and a cold `occupipe run`, all in one
invocation and on the same files.

    python -m benchmarks.run --records 10000 [--repeat 3] [--workdir DIR] [--skip STEP ...]

Each step runs in its own process. Its time is the wall-clock time of the work alone: modules
are imported first, untimed, as in a long-running scheduler process (the `cli-run` step is the
exception: the whole command, interpreter start, imports and Prefect's server start included,
as a person at a terminal sees it). The flow step talks to a Prefect server that the benchmark
starts beforehand, as a deployment would. Peak RSS is sampled every 0.1 s over the step's
whole process tree (extraction workers included) and summed. CPU time is counted too (a
step's process and the workers it waited for; for the flow step, the Prefect server's work
while it ran), so Prefect's overhead is also given as the CPU time it adds, the server's
included. Ratios are against the parse-only time of the same files, measured in the same
invocation. Every file is read once, untimed, before the first step, so no step pays for
reading the corpus from disk (at 100k records a cold page cache made parse-only 4.5x
slower).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpus import AS_OF, PYTHON, make_corpus, warm_page_cache
from benchmarks.processes import descendants, peaks_by_stage, process_cpu_seconds, sampled_peak_rss
from benchmarks.run_report import print_report
from benchmarks.steps import CLUSTER_ENV, measure_step

STEPS = (
    "parse-only",
    "naive-duckdb",
    "full-run",
    "full-run-flow",
    "no-change-rerun",
    "cli-run",
    "cluster-run",
)


def step_command(name: str, corpus: Path, warehouse: Path) -> list[str]:
    if name == "cli-run":
        return [PYTHON, "-m", "pipelines", "run", "--source", str(corpus), "--quiet",
                "--warehouse", str(warehouse), "--full-refresh", "--allow-shrink",
                "--as-of", AS_OF.isoformat()]  # fmt: skip
    return [PYTHON, "-m", "benchmarks.run", "--step", name, "--corpus", str(corpus),
            "--warehouse", str(warehouse)]  # fmt: skip


def run_step(
    name: str, corpus: Path, warehouse: Path, env: dict[str, str], server: frozenset[int]
) -> dict[str, Any]:
    """Run one step in a fresh process; return its time, peak RSS and details, and the CPU
    time the Prefect server (processes `server`) used meanwhile.

    The writes of the steps before reach the disk first, untimed: a step that follows one which
    wrote a release (at 100k records, 1.5 GB of parts, Parquet and DuckDB) would pay for its
    writeback. With this and `step_order`, the flow's overhead at 100k measured +2.0/+5.7/+9.3%
    round by round; run always right after the plain run, without the sync, +11.8/+12.4/+10.5%.
    """
    os.sync()
    server_before = process_cpu_seconds(server)
    started = time.perf_counter()
    timeline: list[tuple[float, int]] = []
    with subprocess.Popen(
        step_command(name, corpus, warehouse),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        with sampled_peak_rss(process.pid, timeline) as peak:
            stdout, stderr = process.communicate()
        seconds = time.perf_counter() - started
    server_seconds = process_cpu_seconds(server) - server_before
    if process.returncode != 0:
        raise SystemExit(f"step {name} failed: {stderr.strip().splitlines()[-1:]}")
    if name == "cli-run":
        details: dict[str, Any] = {"seconds": seconds}
    else:
        details = json.loads(stdout.splitlines()[-1])
    spans = details.pop("spans", [])
    if spans:
        details["stage_peaks"] = peaks_by_stage(spans, timeline)
    own_peak = int(details.pop("own_peak_rss_mb", 0))
    return {
        **details,
        "process_seconds": seconds,
        "peak_rss_mb": max(peak[0], own_peak),
        "server_cpu_seconds": server_seconds,
    }


@contextlib.contextmanager
def prefect_server(workdir: Path, needed: bool) -> Iterator[tuple[dict[str, str], frozenset[int]]]:
    """A Prefect API server for the flow step (its own PREFECT_HOME under the workdir); yields
    the environment the steps run with and the server's processes. The `cli-run` step gets
    none, so it starts its own."""
    saved = dict(os.environ)
    os.environ["PREFECT_HOME"] = str(workdir / "prefect")
    try:
        from pipelines.prefect_setup import configure_prefect, local_api_server, wait_for_server

        configure_prefect()
        if not needed:
            yield dict(os.environ), frozenset()
            return
        with local_api_server(timeout=120) as url:
            wait_for_server(url, timeout=120)
            # the benchmark's only child processes so far are the server's
            yield dict(os.environ), frozenset(descendants(os.getpid()) - {os.getpid()})
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def dask_cluster(workdir: Path, needed: bool) -> Iterator[str | None]:
    """A Dask scheduler and two single-threaded worker processes on 127.0.0.1 for the
    cluster-run step (the commands of docs/scaling.md); yields its address. The workers are
    not the step's children: the step's peak RSS is the coordinator's alone."""
    if not needed:
        yield None
        return
    from tests.servers import start_dask_cluster

    cluster = start_dask_cluster(workdir / "dask", workers=2)
    try:
        yield cluster.address
    finally:
        cluster.stop()


def benchmark(records: int, workdir: Path, skip: set[str], repeat: int = 1) -> list[dict[str, Any]]:
    """Every step on the same corpus, the whole sequence `repeat` times; the rows of the report
    (per step: the median time, the largest peak RSS, the details of the median run)."""
    corpus = make_corpus(records, workdir)
    warm_page_cache(corpus)
    warehouse = workdir / f"warehouse-{records}"
    shutil.rmtree(warehouse, ignore_errors=True)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in STEPS if name not in skip}
    with (
        prefect_server(workdir, needed="full-run-flow" not in skip) as (env, server),
        dask_cluster(workdir, needed="cluster-run" not in skip) as cluster,
    ):
        env = {**env, CLUSTER_ENV: cluster} if cluster else env
        for round_number in range(repeat):
            for name in step_order(list(runs), round_number):
                step_env = env
                if name == "cli-run":
                    step_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
                runs[name].append(run_step(name, corpus, warehouse, step_env, server))
    return [{"step": name, **summarize_runs(measured)} for name, measured in runs.items()]


def step_order(names: list[str], round_number: int) -> list[str]:
    """The steps of one round: the plain and the flow run swap places every other round, so
    neither always follows the other."""
    pair = ("full-run", "full-run-flow")
    if round_number % 2 == 0 or not set(pair) <= set(names):
        return names
    first, second = names.index(pair[0]), names.index(pair[1])
    names[first], names[second] = names[second], names[first]
    return names


def summarize_runs(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run of a step (by time), with the largest peak RSS of all its runs, and
    every run's time and CPU time (the step's processes; the Prefect server's apart)."""
    ordered = sorted(measured, key=lambda run: float(run["seconds"]))
    median = ordered[(len(ordered) - 1) // 2]
    return {
        **median,
        "peak_rss_mb": max(run["peak_rss_mb"] for run in measured),
        "runs": [round(float(run["seconds"]), 3) for run in measured],
        "cpu_runs": [round(float(run.get("cpu_seconds", 0.0)), 3) for run in measured],
        "server_cpu_runs": [round(float(run["server_cpu_seconds"]), 3) for run in measured],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=STEPS[1:],  # never parse-only: every ratio is against it
        help="leave a step out (any but parse-only, the baseline of every ratio)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the sequence R times; report medians"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        measure_step(args.step, args.corpus, args.warehouse)
        return
    workdir = args.workdir or Path(tempfile.gettempdir()) / "occupipe-bench"
    rows = benchmark(args.records, workdir, set(args.skip), args.repeat)
    if args.json:
        print(json.dumps(rows, default=str))
    else:
        print_report(args.records, rows)


if __name__ == "__main__":
    main()
