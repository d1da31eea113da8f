"""The report `benchmarks.run` prints: each step against parse-only, Prefect's overhead, stages."""

from __future__ import annotations

import os
import statistics
from typing import Any


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
