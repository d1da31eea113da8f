"""`occupipe` as typed at a terminal, at human scale: full runs, no-change runs, read commands."""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpus import AS_OF, PYTHON, make_corpus, warm_page_cache
from benchmarks.processes import sampled_peak_rss
from benchmarks.run import prefect_server

CLI_STEPS = ("cli-run-654", "cli-noop", "cli-commands")
HUMAN_RECORDS = 654  # the real corpus's published records
LARGE_RECORDS = 13_000
# issue 31's targets: medians of three, wall clock as typed
FULL_RUN_TARGETS = {"server": 3.0, "no server": 5.0}
NOOP_TARGET = 1.0
NOOP_SHARE_TARGET = 0.10  # of the full run at LARGE_RECORDS
COMMAND_TARGET = 1.0
TELEMETRY = "OCCUPIPE_PREFECT_TELEMETRY"  # off: no run logs, artifacts or events to Prefect
TELEMETRY_TARGET = 0.2  # issue 33: what they may add to a run at 654 records, in seconds
UNCHANGED = "nothing changed since release"  # what a no-change run prints
COMMANDS = {
    "--help": ["--help"],
    "query": ["query", "select 1"],
    "report coverage": ["report", "coverage"],
    "releases": ["releases"],
}


def occupipe_command() -> list[str]:
    """The console script beside this interpreter, as a person types it."""
    script = Path(PYTHON).with_name("occupipe")
    return [str(script)] if script.exists() else [PYTHON, "-m", "pipelines"]


def timed(args: list[str], env: dict[str, str], expect: str | None = None) -> dict[str, Any]:
    """One `occupipe ARGS` in a fresh process: its wall clock from start to exit, and the peak
    RSS of its process tree (a server it starts included); `expect` must be in its output."""
    os.sync()  # the writes of the command before reach the disk first, untimed
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(
        [*occupipe_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        with sampled_peak_rss(process.pid) as peak:
            stdout, stderr = process.communicate()
        seconds = time.perf_counter() - started
    if process.returncode != 0 or (expect is not None and expect not in stdout):
        last = (stderr.strip() or stdout.strip()).splitlines()[-1:]
        raise SystemExit(f"`occupipe {' '.join(args)}` did not do what it should: {last}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return {"seconds": seconds, "peak_rss_mb": peak[0], "cpu_seconds": cpu}


def run_args(corpus: Path, warehouse: Path, full_refresh: bool) -> list[str]:
    args = ["run", "--source", str(corpus), "--warehouse", str(warehouse), "--quiet",
            "--allow-shrink", "--as-of", AS_OF.isoformat()]  # fmt: skip
    return [*args, "--full-refresh"] if full_refresh else args


def unconfigured_env(home: Path) -> dict[str, str]:
    """No Prefect server configured (no PREFECT_API_URL) and a PREFECT_HOME of its own."""
    env = {name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"}
    return {**env, "PREFECT_HOME": str(home)}


@contextlib.contextmanager
def no_server_left(home: Path) -> Iterator[list[int]]:
    """Commands run with PREFECT_HOME `home` may leave a background server: at the end it is
    stopped (`occupipe server stop`, where the command exists), then every process still
    started with that PREFECT_HOME is ended; yields the list of those, filled at the end."""
    ended: list[int] = []
    try:
        yield ended
    finally:
        subprocess.run(
            [*occupipe_command(), "server", "stop"],
            env=unconfigured_env(home),
            capture_output=True,
            timeout=120,
            check=False,
        )
        ended.extend(end_processes(processes_with_home(home)))


def processes_with_home(home: Path) -> list[int]:
    """The processes (other than this one) started with PREFECT_HOME=`home`, from /proc."""
    wanted = f"PREFECT_HOME={home}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as environ:
                if wanted in environ.read().split(b"\0") and is_alive(int(entry.name)):
                    found.append(int(entry.name))
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return found


def is_alive(pid: int) -> bool:
    """Whether a process runs (a zombie, ended and not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def end_processes(pids: list[int], grace: float = 5.0) -> list[int]:
    """SIGTERM, then SIGKILL for any still running after `grace` seconds; returns `pids`."""
    for number in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(number, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(is_alive(number) for number in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for number in pids:
        if is_alive(number):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(number, signal.SIGKILL)
    return pids


def row(step: str, case: str, runs: list[dict[str, Any]], **details: Any) -> dict[str, Any]:
    """A step's case: its median time, its largest peak RSS, every run's time."""
    times = [float(run["seconds"]) for run in runs]
    return {
        "step": step,
        "case": case,
        "seconds": statistics.median(times),
        "runs": [round(value, 3) for value in times],
        "peak_rss_mb": max(int(run["peak_rss_mb"]) for run in runs),
        **details,
    }


def measure_full_runs(workdir: Path, records: int, repeat: int) -> list[dict[str, Any]]:
    """`occupipe run --full-refresh` `repeat` times against a Prefect server the benchmark
    started (PREFECT_API_URL set), then `repeat` times with none configured."""
    corpus = make_corpus(records, workdir)
    warm_page_cache(corpus)
    args = run_args(corpus, workdir / f"cli-warehouse-{records}", full_refresh=True)
    served: list[dict[str, Any]] = []
    quiet: list[dict[str, Any]] = []
    with prefect_server(workdir, needed=True) as (env, _server):
        for _ in range(repeat):  # in turns: the two cases see the same server and machine
            served.append(timed(args, {**env, TELEMETRY: "on"}))
            quiet.append(timed(args, {**env, TELEMETRY: "off"}))
    home = workdir / "prefect-cli-run"
    with no_server_left(home) as ended:
        alone = [timed(args, unconfigured_env(home)) for _ in range(repeat)]
    target = FULL_RUN_TARGETS
    return [
        row("cli-run-654", f"{records} records, server", served, target=target["server"]),
        row("cli-run-654", f"{records} records, no telemetry", quiet,
            **telemetry_cost(served, quiet)),
        row("cli-run-654", f"{records} records, no server", alone,
            target=target["no server"], leftovers=len(ended)),
    ]  # fmt: skip


def telemetry_cost(on: list[dict[str, Any]], off: list[dict[str, Any]]) -> dict[str, float]:
    """What telemetry adds to a run, from runs taken in turns (on, off, on, off...): the median
    of each pair's difference in wall clock, and in the command's CPU seconds (the server's
    not included), which the host's other load moves less."""

    def median_difference(key: str) -> float:
        return statistics.median(
            float(a[key]) - float(b[key]) for a, b in zip(on, off, strict=True)
        )

    return {
        "telemetry_cost": median_difference("seconds"),
        "telemetry_cpu_cost": median_difference("cpu_seconds"),
    }


def measure_noop(workdir: Path, sizes: Iterable[int], repeat: int) -> list[dict[str, Any]]:
    """At each size, `repeat` rounds of a full run then `occupipe run` right after it (which
    must find nothing changed); no Prefect server configured."""
    rows = []
    home = workdir / "prefect-cli-noop"
    env = unconfigured_env(home)
    with no_server_left(home):
        for records in sizes:
            corpus = make_corpus(records, workdir)
            warm_page_cache(corpus)
            warehouse = workdir / f"cli-warehouse-{records}"
            full, noop = [], []
            for _ in range(repeat):
                full.append(timed(run_args(corpus, warehouse, full_refresh=True), env))
                noop.append(timed(run_args(corpus, warehouse, False), env, expect=UNCHANGED))
            rows.append(row("cli-noop", f"{records} records, full run", full))
            rows.append(row("cli-noop", f"{records} records, no change", noop, target=NOOP_TARGET))
    if len(rows) > 2:  # the largest size's full run sets the share
        rows[-1]["share"] = float(rows[-1]["seconds"]) / float(rows[-2]["seconds"])
    return rows


def measure_commands(workdir: Path, records: int, repeat: int) -> list[dict[str, Any]]:
    """`occupipe --help`, `query`, `report coverage` and `releases` against a built warehouse
    (built first, untimed, if the steps before left none)."""
    warehouse = workdir / f"cli-warehouse-{records}"
    home = workdir / "prefect-cli-commands"
    env = unconfigured_env(home)
    with no_server_left(home):
        if not (warehouse / "occupations.duckdb").exists():
            corpus = make_corpus(records, workdir)
            timed(run_args(corpus, warehouse, full_refresh=True), env)
        rows = []
        for name, args in COMMANDS.items():
            full = args if name == "--help" else [*args, "--warehouse", str(warehouse)]
            runs = [timed(full, env) for _ in range(repeat)]
            rows.append(row("cli-commands", f"occupipe {name}", runs, target=COMMAND_TARGET))
    return rows


def benchmark_cli(
    workdir: Path,
    skip: set[str],
    repeat: int = 3,
    human: int = HUMAN_RECORDS,
    large: int = LARGE_RECORDS,
) -> list[dict[str, Any]]:
    """Every CLI step not skipped, in order; the rows of the report."""
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    if "cli-run-654" not in skip:
        rows += measure_full_runs(workdir, human, repeat)
    if "cli-noop" not in skip:
        rows += measure_noop(workdir, (human, large), repeat)
    if "cli-commands" not in skip:
        rows += measure_commands(workdir, human, repeat)
    return rows


def describe_target(row: dict[str, Any]) -> str:
    if row.get("target") is None:
        return ""
    verdict = "met" if float(row["seconds"]) <= float(row["target"]) else "OVER"
    return f"<= {float(row['target']):.1f} s {verdict}"


def print_cli_report(rows: list[dict[str, Any]], load: tuple[float, float]) -> None:
    """The table of CLI steps against issue 31's targets, and the no-change run's share;
    `load` is the host's load average over a minute, before and after."""
    if not rows:
        return
    repeats = len(rows[0]["runs"])
    print(f"occupipe as typed, wall clock, median of {repeats} runs,", end="")
    print(f" {os.cpu_count()} cores", end="")
    print(f" (load average {load[0]:.2f} before, {load[1]:.2f} after)")
    print(f"{'step':<14}{'case':<30}{'seconds':>8}  {'target':<14}{'peak RSS MB':>11}", end="")
    print("  every run (s)")
    for line in rows:
        print(
            f"{line['step']:<14}{line['case']:<30}{float(line['seconds']):>8.2f}"
            f"  {describe_target(line):<14}{line['peak_rss_mb']:>11}  "
            + " ".join(f"{run:.2f}" for run in line["runs"])
        )
    for line in rows:
        if "share" in line:
            share = float(line["share"])
            verdict = "met" if share <= NOOP_SHARE_TARGET else "OVER"
            print(f"cli-noop {line['case']}: {share:.1%} of the full run"
                  f" (target <= {NOOP_SHARE_TARGET:.0%}: {verdict})")  # fmt: skip
        if "telemetry_cost" in line:
            cost = float(line["telemetry_cost"])
            verdict = "met" if cost <= TELEMETRY_TARGET else "OVER"
            print(f"telemetry (run logs, artifacts, events) at {line['case'].split(',')[0]}:"
                  f" {cost:+.2f} s a run, median of the differences, run by run, in turns"
                  f" (target <= {TELEMETRY_TARGET} s: {verdict});"
                  f" CPU {float(line.get('telemetry_cpu_cost', 0.0)):+.2f} s")  # fmt: skip
        if line.get("leftovers"):
            print(f"{line['case']}: {line['leftovers']} process(es) left running were ended")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip", action="append", default=[], choices=CLI_STEPS)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (median)")
    parser.add_argument("--human", type=int, default=HUMAN_RECORDS, help=argparse.SUPPRESS)
    parser.add_argument("--large", type=int, default=LARGE_RECORDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if set(args.skip) >= set(CLI_STEPS):
        return
    workdir = args.workdir or Path(tempfile.gettempdir()) / "occupipe-bench"
    before = os.getloadavg()[0]
    rows = benchmark_cli(workdir, set(args.skip), args.repeat, args.human, args.large)
    print_cli_report(rows, (before, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
