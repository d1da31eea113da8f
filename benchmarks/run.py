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
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

PYTHON = sys.executable
AS_OF = dt.date(2026, 6, 26)  # every step builds for the same reference date
STEPS = (
    "parse-only",
    "naive-duckdb",
    "full-run",
    "full-run-flow",
    "no-change-rerun",
    "cli-run",
    "cluster-run",
)
SAMPLE_SECONDS = 0.1


def prepare_parse_only(corpus: Path, warehouse: Path) -> Callable[[], dict[str, Any]]:
    """The floor: read every file and orjson.loads it."""
    import orjson

    def parse_only() -> dict[str, Any]:
        size = 0
        for path in sorted(corpus.glob("*.json")):
            raw = path.read_bytes()
            size += len(raw)
            orjson.loads(raw)
        return {"bytes": size}

    return parse_only


def prepare_naive_duckdb(corpus: Path, warehouse: Path) -> Callable[[], dict[str, Any]]:
    """What DuckDB does with the nested files on its own."""
    import duckdb

    def naive_duckdb() -> dict[str, Any]:
        with duckdb.connect() as con:
            con.execute(
                "create table records as select * from read_json(?, union_by_name = true,"
                " maximum_object_size = 1000000000)",
                [str(corpus / "*.json")],
            )
            row = con.execute("select count(*) from records").fetchone()
        return {"rows": row[0] if row else 0}

    return naive_duckdb


def run_options(
    corpus: Path, warehouse: Path, full_refresh: bool, cluster: str | None = None
) -> Any:
    from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC
    from occupipe.core.runs import RunOptions
    from occupipe.core.settings import find_sql_dir

    return RunOptions(
        source=corpus,
        warehouse_dir=warehouse,
        sql_dir=find_sql_dir(),
        as_of=AS_OF,
        sections_spec=DEFAULT_SECTIONS_SPEC,
        full_refresh=full_refresh,
        allow_shrink=True,
        cluster=cluster,
    )


def prepare_full_run(
    corpus: Path, warehouse: Path, full_refresh: bool = True, cluster: str | None = None
) -> Callable[[], dict[str, Any]]:
    """Our whole pipeline without Prefect: extract, Parquet, DuckDB, models, data tests."""
    from occupipe.runner.run import run_pipeline

    options = run_options(corpus, warehouse, full_refresh, cluster)

    def full_run() -> dict[str, Any]:
        stages = spanned_stages()
        summary = run_pipeline(options, stages)
        return {
            "loaded": summary.loaded,
            "stages": summary.stage_seconds,
            "models": summary.model_seconds,
            "spans": stages.spans,
        }

    return full_run


def spanned_stages() -> Any:
    """The plain stage runner, noting when each stage ran (wall-clock start and end, for the
    memory sampled meanwhile); the extraction's batches count as one stage, `extract`."""
    from occupipe.runner.stages import Stages

    class SpannedStages(Stages):
        def __init__(self) -> None:
            self.spans: list[tuple[str, float, float]] = []

        def spanned(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
            def run(*args: Any) -> Any:
                started = time.time()
                try:
                    return fn(*args)
                finally:
                    self.spans.append((name, started, time.time()))

            return run

        def __call__(self, name: str, fn: Callable[..., Any], /, *args: Any) -> Any:
            return super().__call__(name, self.spanned(name, fn), *args)

        def start(self, name: str, fn: Callable[..., Any], /, *args: Any) -> Any:
            return super().start(name, self.spanned(name, fn), *args)

        def fan_out(
            self,
            names: list[str],
            fn: Callable[..., Any],
            calls: list[Any],
            workers: int,
            executor: Executor | None = None,
        ) -> Iterator[Any]:
            started = time.time()
            try:
                yield from super().fan_out(names, fn, calls, workers, executor)
            finally:
                self.spans.append(("extract", started, time.time()))

    return SpannedStages()


def prepare_no_change_rerun(corpus: Path, warehouse: Path) -> Callable[[], dict[str, Any]]:
    return prepare_full_run(corpus, warehouse, full_refresh=False)


def prepare_cluster_run(corpus: Path, warehouse: Path) -> Callable[[], dict[str, Any]]:
    """The full run with its batches extracted on the Dask cluster the benchmark started
    (two single-threaded workers on this machine); this process is the coordinator."""
    return prepare_full_run(corpus, warehouse, cluster=os.environ[CLUSTER_ENV])


def prepare_full_run_flow(corpus: Path, warehouse: Path) -> Callable[[], dict[str, Any]]:
    """The same run as the `build-warehouse` Prefect flow, against a running Prefect server."""
    from pipelines.flows import run_build_flow

    options = run_options(corpus, warehouse, full_refresh=True)

    def full_run_flow() -> dict[str, Any]:
        summary = run_build_flow(options)
        return {"loaded": summary.loaded, "stages": summary.stage_seconds}

    return full_run_flow


PREPARE: dict[str, Callable[[Path, Path], Callable[[], dict[str, Any]]]] = {
    "parse-only": prepare_parse_only,
    "naive-duckdb": prepare_naive_duckdb,
    "full-run": prepare_full_run,
    "full-run-flow": prepare_full_run_flow,
    "no-change-rerun": prepare_no_change_rerun,
    "cluster-run": prepare_cluster_run,
}


def measure_step(name: str, corpus: Path, warehouse: Path) -> None:
    """Inside the step process: import and set up untimed, then time the work; print JSON."""
    work = PREPARE[name](corpus, warehouse)
    started, before = time.perf_counter(), os.times()
    details = work()
    details["seconds"] = time.perf_counter() - started
    details["cpu_seconds"] = cpu_seconds_between(before, os.times())
    # the kernel's high-water mark of this process (KB): a step shorter than the sampling
    # interval can end before a sample sees it grown (run_step takes the larger figure)
    details["own_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(details, default=str))


def cpu_seconds_between(before: os.times_result, after: os.times_result) -> float:
    """CPU time (user and system) a process used between two `os.times()`, that of its
    child processes ended and waited for meanwhile (the extraction workers) included."""
    return (after.user + after.system + after.children_user + after.children_system) - (
        before.user + before.system + before.children_user + before.children_system
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


def peaks_by_stage(
    spans: list[tuple[str, float, float]], timeline: list[tuple[float, int]]
) -> dict[str, int]:
    """The largest summed RSS (MB) sampled while each stage ran (stages may overlap: the
    Parquet files are written beside the models and the tests); 0 for a stage too short to
    be sampled."""
    peaks: dict[str, int] = {}
    for name, started, ended in spans:
        during = [mb for moment, mb in timeline if started <= moment <= ended]
        peaks[name] = max(peaks.get(name, 0), *during, 0)
    return peaks


@contextlib.contextmanager
def sampled_peak_rss(
    pid: int, timeline: list[tuple[float, int]] | None = None
) -> Iterator[list[int]]:
    """Sample the summed RSS (MB) of a process and all its descendants until the block ends;
    each sample is also added to `timeline` (wall-clock time, MB), if given."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            mb = tree_rss_mb(pid)
            peak[0] = max(peak[0], mb)
            if timeline is not None:
                timeline.append((time.time(), mb))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def tree_rss_mb(root: int) -> int:
    """Summed resident memory of a process and its descendants, from /proc (Linux)."""
    stats = read_process_stats()
    tree = descendants(root, {pid: stat[1] for pid, stat in stats.items()})
    page = os.sysconf("SC_PAGE_SIZE")
    return round(sum(int(stats[pid][21]) * page for pid in tree if pid in stats) / 2**20)


def read_process_stats() -> dict[int, list[str]]:
    """Every process's /proc/PID/stat fields after the command name (field 3 onwards, so the
    parent's pid is [1], utime [11], stime [12], rss [21])."""
    stats: dict[int, list[str]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                    stats[int(entry.name)] = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
    return stats


def descendants(root: int, parents: dict[int, str] | None = None) -> set[int]:
    """A process and all its descendants (`parents`: pid -> parent pid, read now if None)."""
    if parents is None:
        parents = {pid: stat[1] for pid, stat in read_process_stats().items()}
    tree, frontier = {root}, [root]
    while frontier:
        parent = str(frontier.pop())
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return tree


def process_cpu_seconds(pids: frozenset[int]) -> float:
    """CPU time (user and system) the running processes `pids` have used so far."""
    stats = read_process_stats()
    ticks = sum(int(stats[pid][11]) + int(stats[pid][12]) for pid in pids if pid in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def make_corpus(records: int, workdir: Path) -> Path:
    """Synthetic records, generated once per size and reused."""
    corpus = workdir / f"corpus-{records}"
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run(
            [PYTHON, "-m", "pipelines", "synth", "--records", str(records),
             "--out", str(corpus)],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        (corpus / ".complete").touch()
    return corpus


def warm_page_cache(corpus: Path) -> None:
    """Read every file once, so every step finds the corpus in memory as the first would not."""
    for path in corpus.iterdir():
        if path.is_file():
            path.read_bytes()


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


CLUSTER_ENV = "OCCUPIPE_BENCH_CLUSTER"


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


def print_report(records: int, rows: list[dict[str, Any]]) -> None:
    base = next(float(r["seconds"]) for r in rows if r["step"] == "parse-only")
    size = next(int(r["bytes"]) for r in rows if r["step"] == "parse-only")
    repeats = len(rows[0]["runs"])
    # the host's speed sets the floor: the ratios are easier to compare with it in view
    megabytes = size / 1e6
    print(f"{records} records, {megabytes:.0f} MB of JSON", end="")
    print(f" (parse-only {megabytes / base:.0f} MB/s), {os.cpu_count()} cores", end="")
    print(f", median of {repeats} runs" if repeats > 1 else "")
    print(f"{'step':<18}{'seconds':>9}{'x parse':>9}{'peak RSS MB':>13}", end="")
    print("  every run (s)" if repeats > 1 else "")
    for row in rows:
        seconds = float(row["seconds"])
        print(
            f"{row['step']:<18}{seconds:>9.2f}{seconds / base:>9.1f}{row['peak_rss_mb']:>13}",
            end="",
        )
        print("  " + " ".join(f"{run:.2f}" for run in row["runs"]) if repeats > 1 else "")
    by_step = {r["step"]: r for r in rows}
    if "full-run" in by_step and repeats > 1:
        # each round's full run against the same round's parse-only: the host's speed drifts
        # over an invocation, and a ratio of medians mixes rounds
        rounds = zip(by_step["parse-only"]["runs"], by_step["full-run"]["runs"], strict=True)
        ratios = [full / parse for parse, full in rounds]
        listed = ", ".join(f"{ratio:.1f}x" for ratio in ratios)
        middle = statistics.median(ratios)
        print(f"full run against parse-only, round by round: {listed}; median {middle:.1f}x")
    if "full-run" in by_step and "full-run-flow" in by_step:
        plain, flow = by_step["full-run"], by_step["full-run-flow"]
        overhead = float(flow["seconds"]) / float(plain["seconds"]) - 1
        print(f"Prefect overhead (flow against plain run): {overhead:+.1%}", end="")
        # each round's pair ran minutes apart at most: their ratio is the drift-free figure
        pairs = [f / p - 1 for p, f in zip(plain["runs"], flow["runs"], strict=True)]
        listed = ", ".join(f"{pair:+.1%}" for pair in pairs)
        print(
            f" (round by round: {listed}; median {statistics.median(pairs):+.1%})"
            if repeats > 1
            else ""
        )
    if "full-run" in by_step and "full-run-flow" in by_step:
        print(describe_cpu_overhead(by_step["full-run"], by_step["full-run-flow"]))
    if "full-run" in by_step and "cluster-run" in by_step:
        print(describe_cluster_run(by_step["full-run"], by_step["cluster-run"]))
    if "full-run" in by_step and "no-change-rerun" in by_step:
        share = float(by_step["no-change-rerun"]["seconds"]) / float(by_step["full-run"]["seconds"])
        print(f"no-change re-run: {share:.1%} of the full run")
    for name in ("full-run", "full-run-flow"):
        if name in by_step:
            print(f"{name} stages (s): {describe_stages(by_step[name]['stages'])}")
    if by_step.get("full-run", {}).get("stage_peaks"):
        peaks = by_step["full-run"]["stage_peaks"]
        listed = ", ".join(f"{name} {mb}" for name, mb in peaks.items())
        print(f"full-run peak RSS by stage (MB, median run): {listed}")
    if by_step.get("full-run", {}).get("models"):
        print(f"slowest models in full-run (s): {describe_slowest(by_step['full-run']['models'])}")


def describe_cpu_overhead(plain: dict[str, Any], flow: dict[str, Any]) -> str:
    """Prefect's overhead in CPU time, round by round: the flow's processes and the Prefect
    server's work while the flow ran, against the plain run's processes (the server idles
    beside those, but is not theirs)."""
    plain_cpu = plain["cpu_runs"]
    flow_cpu = [
        own + server for own, server in zip(flow["cpu_runs"], flow["server_cpu_runs"], strict=True)
    ]
    pairs = [f / p - 1 for p, f in zip(plain_cpu, flow_cpu, strict=True)]
    listed = ", ".join(f"{pair:+.1%}" for pair in pairs)
    server = statistics.median(flow["server_cpu_runs"])
    return (
        f"CPU seconds, median of runs: full-run {statistics.median(plain_cpu):.1f}, "
        f"full-run-flow {statistics.median(flow_cpu):.1f} (the Prefect server {server:.1f}); "
        f"Prefect overhead in CPU time, round by round: {listed}; "
        f"median {statistics.median(pairs):+.1%}"
    )


CLUSTER_TARGET_RATIO = 1.15  # issue 30: within 1.15x of the local run at 100k records
CLUSTER_TARGET_RSS_MB = 2048  # and the coordinator under 2 GB


def describe_cluster_run(local: dict[str, Any], cluster: dict[str, Any]) -> str:
    """The cluster run against the local full run (round by round), and the coordinator's
    peak RSS, each against its target."""
    pairs = [c / p for p, c in zip(local["runs"], cluster["runs"], strict=True)]
    ratio = statistics.median(pairs)
    listed = ", ".join(f"{pair:.2f}x" for pair in pairs)
    rss = int(cluster["peak_rss_mb"])
    return (
        f"cluster-run against full-run: {ratio:.2f}x (round by round: {listed}; target"
        f" <= {CLUSTER_TARGET_RATIO}x), coordinator peak RSS {rss} MB (target <"
        f" {CLUSTER_TARGET_RSS_MB}); cluster-run stages (s):"
        f" {describe_stages(cluster['stages'])}"
    )


def describe_stages(stages: dict[str, float]) -> str:
    """`discover 0.1, extract 4.2, ...`; the Parquet files are written beside models and
    tests."""
    return ", ".join(f"{name} {seconds:.1f}" for name, seconds in stages.items())


def describe_slowest(seconds: dict[str, float], count: int = 5) -> str:
    """`occupation_sections 2.8, backlinks 2.6, ...`: the models that took longest."""
    slowest = sorted(seconds.items(), key=lambda item: (-item[1], item[0]))[:count]
    return ", ".join(f"{name} {value:.1f}" for name, value in slowest)


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
