"""The benchmarks run end to end at a tiny size (they prove they work; no timings asserted),
and the batch benchmark's Arrow prototype cuts the same `sections` rows as our extraction."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks.batch_paths import Clock, arrow_tables, measure
from benchmarks.cli_steps import (
    CLI_STEPS,
    benchmark_cli,
    end_processes,
    print_cli_report,
    processes_with_home,
)
from benchmarks.processes import descendants, peaks_by_stage, process_cpu_seconds, tree_rss_mb
from benchmarks.run import benchmark
from benchmarks.run_report import describe_cpu_overhead, print_report
from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC, read_canonical_headings
from occupipe.ingest.batch import process_batch
from occupipe.synth.corpus import write_corpus

SECTION_COLUMNS = ("slug", "position", "heading", "markdown", "word_count")


@pytest.mark.e2e
def test_the_benchmark_measures_every_step_on_one_corpus(tmp_path: Path) -> None:
    rows = benchmark(30, tmp_path, skip={"naive-duckdb", "cli-run", "cluster-run"})
    steps = [r["step"] for r in rows]
    assert steps == ["parse-only", "full-run", "full-run-flow", "no-change-rerun"]
    assert all(float(r["seconds"]) > 0 and int(r["peak_rss_mb"]) > 0 for r in rows)
    by_step = {r["step"]: r for r in rows}
    assert by_step["parse-only"]["bytes"] > 0
    assert by_step["full-run"]["loaded"] == by_step["full-run-flow"]["loaded"] == 30
    peaks = by_step["full-run"]["stage_peaks"]
    assert {"discover", "extract", "load-warehouse", "build-models", "data-tests"} <= set(peaks)
    assert max(peaks.values()) <= by_step["full-run"]["peak_rss_mb"]
    # the run's own processes used CPU; the Prefect server worked for the flow
    assert by_step["full-run"]["cpu_seconds"] > 0
    assert by_step["full-run-flow"]["server_cpu_seconds"] > 0


@pytest.mark.e2e
def test_the_cluster_step_runs_on_a_cluster_it_starts_and_compares_with_the_local_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skip = {"naive-duckdb", "full-run-flow", "no-change-rerun", "cli-run"}
    rows = benchmark(30, tmp_path, skip=skip)
    by_step = {r["step"]: r for r in rows}
    assert by_step["cluster-run"]["loaded"] == by_step["full-run"]["loaded"] == 30
    print_report(30, rows)
    assert "cluster-run against full-run: " in capsys.readouterr().out
    logs = list((tmp_path / "dask").glob("*.log"))  # the scheduler's and workers' own
    assert logs and not any("Traceback" in log.read_text() for log in logs)


@pytest.mark.e2e
def test_the_cli_steps_time_occupipe_as_typed_and_leave_no_server_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = benchmark_cli(tmp_path, skip=set(), repeat=1, human=12, large=20)
    cases = [(r["step"], r["case"]) for r in rows]
    assert cases == [
        ("cli-run-654", "12 records, server"),
        ("cli-run-654", "12 records, no telemetry"),
        ("cli-run-654", "12 records, no server"),
        ("cli-noop", "12 records, full run"),
        ("cli-noop", "12 records, no change"),  # each found nothing changed, or it failed
        ("cli-noop", "20 records, full run"),
        ("cli-noop", "20 records, no change"),
        ("cli-commands", "occupipe --help"),
        ("cli-commands", "occupipe query"),
        ("cli-commands", "occupipe report coverage"),
        ("cli-commands", "occupipe releases"),
    ]
    assert all(float(r["seconds"]) > 0 and int(r["peak_rss_mb"]) > 0 for r in rows)
    assert 0 < rows[6]["share"] < 1
    assert isinstance(rows[1]["telemetry_cost"], float)
    assert isinstance(rows[1]["telemetry_cpu_cost"], float)
    print_cli_report(rows, (1.0, 2.0))
    out = capsys.readouterr().out
    assert "cli-noop 20 records, no change: " in out and "of the full run (target <= 10%" in out
    for home in tmp_path.glob("prefect*"):
        assert not processes_with_home(home), f"a process was left with PREFECT_HOME {home}"


def test_processes_started_with_a_prefect_home_are_found_and_ended(tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "home")}
    others = {**os.environ, "PREFECT_HOME": str(tmp_path / "home-2")}
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    with (
        subprocess.Popen(command, env=env) as ours,
        subprocess.Popen(command, env=others) as theirs,
    ):
        try:
            assert processes_with_home(tmp_path / "home") == [ours.pid]
            assert end_processes([ours.pid], grace=5) == [ours.pid]
            assert ours.wait(timeout=5) != 0
            assert theirs.poll() is None  # another PREFECT_HOME: left alone
        finally:
            theirs.kill()


def test_the_cli_report_gives_each_case_against_its_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def row(step: str, case: str, runs: list[float], **details: object) -> dict[str, object]:
        return {
            "step": step,
            "case": case,
            "seconds": sorted(runs)[1],
            "runs": runs,
            "peak_rss_mb": 200,
            **details,
        }

    print_cli_report(
        [
            row("cli-run-654", "654 records, server", [2.5, 2.9, 3.4], target=3.0),
            row(
                "cli-run-654",
                "654 records, no telemetry",
                [2.8, 2.7, 3.3],
                telemetry_cost=0.1,
                telemetry_cpu_cost=0.05,
            ),
            row("cli-run-654", "654 records, no server", [6.0, 5.5, 7.0], target=5.0, leftovers=1),
            row("cli-noop", "13000 records, full run", [14.0, 15.0, 13.0]),
            row("cli-noop", "13000 records, no change", [0.9, 0.8, 1.1], target=1.0, share=0.064),
        ],
        (2.1, 1.9),
    )
    out = capsys.readouterr().out
    assert "median of 3 runs, 2 cores (load average 2.10 before, 1.90 after)" in out
    assert "654 records, server               2.90  <= 3.0 s met" in out
    assert "654 records, no server            6.00  <= 5.0 s OVER" in out
    assert "  2.50 2.90 3.40\n" in out
    assert "telemetry (run logs, artifacts, events) at 654 records: +0.10 s a run" in out
    assert "(target <= 0.2 s: met); CPU +0.05 s" in out
    assert "cli-noop 13000 records, no change: 6.4% of the full run (target <= 10%: met)" in out
    assert "654 records, no server: 1 process(es) left running were ended" in out


def test_make_bench_passes_each_skipped_step_to_its_own_benchmark() -> None:
    skip = "SKIP=naive-duckdb cli-noop cli-run"
    project = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", "bench", skip],
        capture_output=True,
        text=True,
        check=True,
        cwd=project,
    )
    lines = [line for line in done.stdout.splitlines() if " -m benchmarks." in line]
    assert lines[0].endswith("--skip naive-duckdb --skip cli-run")
    assert lines[1].endswith("benchmarks.cli_steps --skip cli-noop")
    makefile = (project / "Makefile").read_text()
    assert f"CLI_STEPS := {' '.join(CLI_STEPS)}\n" in makefile


def test_a_stage_peak_is_the_largest_sample_taken_while_it_ran() -> None:
    timeline = [(0.0, 50), (1.0, 80), (2.0, 300), (3.0, 120), (4.0, 60)]
    spans = [("extract", 0.5, 2.5), ("load", 2.6, 3.5), ("tiny", 3.6, 3.7), ("extract", 3.8, 4.0)]
    assert peaks_by_stage(spans, timeline) == {"extract": 300, "load": 120, "tiny": 0}


def test_tree_rss_counts_a_child_process() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", "import time; b = bytearray(200 * 2**20); time.sleep(5)"]
    ) as child:
        try:
            deadline = time.monotonic() + 5
            total = tree_rss_mb(os.getpid())
            while total < tree_rss_mb_of_self() + 150 and time.monotonic() < deadline:
                time.sleep(0.05)
                total = tree_rss_mb(os.getpid())
            assert total >= tree_rss_mb_of_self() + 150
        finally:
            child.kill()


def test_a_child_process_is_a_descendant_and_its_cpu_time_is_counted() -> None:
    # it burns 0.5 s and 0.3 s is waited for: /proc counts whole clock ticks, user and system
    # apart, each rounded down (a burn of exactly 0.3 s read as 0.29 on a fast host)
    burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    with subprocess.Popen([sys.executable, "-c", burn + "\ntime.sleep(5)"]) as child:
        try:
            assert child.pid in descendants(os.getpid())
            deadline = time.monotonic() + 5
            while process_cpu_seconds(frozenset({child.pid})) < 0.3:
                assert time.monotonic() < deadline, "the child's CPU time was never counted"
                time.sleep(0.05)
        finally:
            child.kill()
    assert process_cpu_seconds(frozenset({child.pid})) == 0  # ended: nothing to read


def tree_rss_mb_of_self() -> int:
    with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
        return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)


def test_the_report_gives_ratios_and_overheads_round_by_round(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def row(step: str, runs: list[float], **details: object) -> dict[str, object]:
        median = sorted(runs)[(len(runs) - 1) // 2]
        return {
            "step": step,
            "seconds": median,
            "runs": runs,
            "peak_rss_mb": 100,
            "cpu_runs": [2 * run for run in runs],
            "server_cpu_runs": [0.0 for _ in runs],
            **details,
        }

    stages = {"extract": 1.0}
    models = {f"m{n}": float(n) for n in range(7)} | {"z": 6.0}
    print_report(
        1000,
        [
            row("parse-only", [1.0, 2.0, 1.0], bytes=30_000_000),
            row(
                "full-run",
                [4.0, 10.0, 5.0],
                stages=stages,
                models=models,
                stage_peaks={"extract": 700, "load": 500},
            ),
            row("full-run-flow", [4.4, 10.0, 4.5], stages=stages)
            | {"server_cpu_runs": [0.4, 0.0, 0.0]},
            row("no-change-rerun", [0.1, 0.1, 0.1]),
        ],
    )
    out = capsys.readouterr().out
    assert "1000 records, 30 MB of JSON (parse-only 30 MB/s)," in out  # 30 MB in 1.0 s
    assert "full run against parse-only, round by round: 4.0x, 5.0x, 5.0x; median 5.0x" in out
    assert "Prefect overhead (flow against plain run): -10.0%" in out  # 4.5 against 5.0
    assert "(round by round: +10.0%, +0.0%, -10.0%; median +0.0%)" in out
    assert "Prefect overhead in CPU time, round by round: +15.0%, +0.0%, -10.0%" in out
    assert "no-change re-run: 2.0% of the full run" in out
    assert "slowest models in full-run (s): m6 6.0, z 6.0, m5 5.0, m4 4.0, m3 3.0\n" in out
    assert "full-run peak RSS by stage (MB, median run): extract 700, load 500\n" in out


def test_the_cpu_overhead_counts_the_prefect_servers_work_with_the_flows() -> None:
    plain = {"cpu_runs": [10.0, 12.0, 11.0], "server_cpu_runs": [0.1, 0.1, 0.1]}
    flow = {"cpu_runs": [10.5, 12.0, 11.0], "server_cpu_runs": [0.5, 0.6, 0.0]}
    line = describe_cpu_overhead(plain, flow)
    # the server's CPU time during the plain runs is not the plain run's
    assert line == (
        "CPU seconds, median of runs: full-run 11.0, full-run-flow 11.0 (the Prefect server"
        " 0.5); Prefect overhead in CPU time, round by round: +10.0%, +5.0%, +0.0%;"
        " median +5.0%"
    )


def test_the_arrow_prototype_cuts_the_same_sections_as_our_extraction(tmp_path: Path) -> None:
    files = write_corpus(tmp_path / "corpus", 12)
    headings = read_canonical_headings(DEFAULT_SECTIONS_SPEC)
    process_batch(files, tmp_path / "corpus", tmp_path / "parts", 0, headings)
    ours = pq.read_table(tmp_path / "parts" / "sections").select(list(SECTION_COLUMNS))
    raws = [path.read_bytes().replace(b"{", b"{\n", 1) for path in files]  # one pretty line
    prototype = arrow_tables(raws, Clock())["sections"].select(list(SECTION_COLUMNS))
    assert prototype.num_rows == ours.num_rows > 12
    order = [("slug", "ascending"), ("position", "ascending")]
    assert prototype.sort_by(order).to_pylist() == ours.sort_by(order).to_pylist()


def test_the_batch_benchmark_measures_every_path_phase_by_phase(tmp_path: Path) -> None:
    files = write_corpus(tmp_path / "corpus", 6)
    result = measure(files, tmp_path, repeat=1)
    assert list(result) == ["parse-only", "ours", "ours by phase", "prototype"]
    assert {"validate", "gather columns", "part files"} <= set(result["ours by phase"])
    assert {"pyarrow.json", "word counts", "part files"} <= set(result["prototype"])
    assert all(seconds >= 0 for phases in result.values() for seconds in phases.values())


def test_the_benchmark_refuses_to_skip_its_baseline_in_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.run", "--records", "5", "--skip", "parse-only"]
    done = subprocess.run(
        [*command, "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice: 'parse-only'" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # refused before any corpus was made
