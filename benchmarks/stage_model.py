"""A full run split into the extraction's fan-out (per batch) and the coordinator's serial work."""

# python -m benchmarks.stage_model --records N [--workers 2 1] [--repeat R] [--workdir DIR]
#
# The figures behind docs/scaling.md. Each run is a full build (as benchmarks/run.py's
# full-run step: no Prefect, a fresh process, modules imported before the clock starts) with
# the extraction's worker count set, so `--workers 1` gives the single-process CPU time of
# the fan-out, the part a cluster spreads over its workers. A run's time is cut three ways:
# the coordinator's work before the fan-out (finding the files, planning and fingerprinting
# batches), the fan-out itself (every batch: read, validate, normalize, write parts, cache),
# and everything after the extraction (load, models, tests, the Parquet writers' wait,
# gates, report, manifest, publish), which stays on the coordinator whatever runs the
# batches. CPU time counts the extraction workers, once they have ended.

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SERIAL_STAGES = ("load", "models", "tests", "publish")  # timed by the run itself


def run_once(corpus: Path, warehouse: Path, workers: int) -> dict[str, Any]:
    """Inside a fresh process: one full build with `workers` extraction processes, timed."""
    from benchmarks.processes import cpu_seconds_between
    from benchmarks.steps import FanOutTimed, run_options
    from occupipe.runner.extract import extract_source
    from occupipe.runner.run import run_in_build_dir

    spans: dict[str, tuple[float, float]] = {}  # name -> (seconds, CPU seconds)

    class TimedFanOut(FanOutTimed):
        """The plain stage runner, timing the fan-out of the batches (its worker processes
        have ended, and been counted, when its last result is out)."""

        def fanned_out(self, started: float, before: os.times_result) -> None:
            spans["fan-out"] = (time.time() - started, cpu_seconds_between(before, os.times()))

    def timed_extraction(*args: Any) -> Any:
        started, before = time.perf_counter(), os.times()
        try:
            return extract_source(*args)
        finally:
            spans["extraction"] = (
                time.perf_counter() - started,
                cpu_seconds_between(before, os.times()),
            )

    options = dataclasses.replace(
        run_options(corpus, warehouse, full_refresh=True), workers=workers
    )
    started, before = time.perf_counter(), os.times()
    summary = run_in_build_dir(options, TimedFanOut(), timed_extraction)
    seconds, cpu = time.perf_counter() - started, cpu_seconds_between(before, os.times())
    extraction, extraction_cpu = spans["extraction"]
    fan_out, fan_out_cpu = spans["fan-out"]
    return {
        "loaded": summary.loaded,
        "seconds": seconds,
        "cpu": cpu,
        "stages": summary.stage_seconds,
        "before fan-out": (extraction - fan_out, extraction_cpu - fan_out_cpu),
        "fan-out": (fan_out, fan_out_cpu),
        "after extraction": (seconds - extraction, cpu - extraction_cpu),
    }


def measure(corpus: Path, workdir: Path, workers: int) -> dict[str, Any]:
    """One build in a fresh process (the warehouse emptied first, the disk synced)."""
    warehouse = workdir / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    os.sync()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.stage_model", "--one", str(workers),
         "--corpus", str(corpus), "--warehouse", str(warehouse)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the build failed: {done.stderr.strip().splitlines()[-1:]}")
    shutil.rmtree(warehouse, ignore_errors=True)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall-clock time."""
    return sorted(runs, key=lambda run: float(run["seconds"]))[(len(runs) - 1) // 2]


def print_report(records: int, by_workers: dict[int, list[dict[str, Any]]]) -> None:
    repeat = len(next(iter(by_workers.values())))
    print(f"{records} records, {os.cpu_count()} cores, full builds, median of {repeat} runs")
    print(f"{'workers':<8}{'part':<20}{'seconds':>9}{'CPU s':>8}{'CPU ms/record':>15}")
    for workers, runs in by_workers.items():
        run = median_run(runs)
        for part in ("before fan-out", "fan-out", "after extraction"):
            seconds, cpu = run[part]
            print(f"{workers:<8}{part:<20}{seconds:>9.2f}{cpu:>8.2f}{1000 * cpu / records:>15.3f}")
        print(f"{workers:<8}{'whole run':<20}{run['seconds']:>9.2f}{run['cpu']:>8.2f}", end="")
        print(f"{1000 * run['cpu'] / records:>15.3f}")
        every = " ".join(f"{float(r['seconds']):.2f}" for r in runs)
        stages = ", ".join(f"{name} {value:.2f}" for name, value in run["stages"].items())
        after = run["after extraction"][0] - sum(run["stages"].get(n, 0.0) for n in SERIAL_STAGES)
        print(f"        every run (s): {every}")
        print(f"        stages (s): {stages}")
        print(f"        after the extraction, beyond {', '.join(SERIAL_STAGES)}: {after:.2f}")
        print("        (the wait for the Parquet writers, gates, report, manifest)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the median run is shown")
    parser.add_argument("--workdir", type=Path, help="kept (corpus reused); default a temp dir")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_once(args.corpus, args.warehouse, args.one)))
        return
    from benchmarks.corpus import make_corpus, warm_page_cache

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="occupipe-stage-model-"))
    try:
        corpus = make_corpus(args.records, workdir)
        warm_page_cache(corpus)
        by_workers: dict[int, list[dict[str, Any]]] = {n: [] for n in args.workers}
        for _ in range(args.repeat):
            for workers in args.workers:
                by_workers[workers].append(measure(corpus, workdir, workers))
        print_report(args.records, by_workers)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
