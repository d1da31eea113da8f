"""The benchmark runs end to end at a tiny size (it proves it works; it asserts no timings)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.run import benchmark, tree_rss_mb


@pytest.mark.e2e
def test_the_benchmark_measures_every_step_on_one_corpus(tmp_path: Path) -> None:
    rows = benchmark(30, tmp_path, skip={"naive-duckdb", "cli-run"})
    steps = [r["step"] for r in rows]
    assert steps == ["parse-only", "full-run", "full-run-flow", "no-change-rerun"]
    assert all(float(r["seconds"]) > 0 and int(r["peak_rss_mb"]) > 0 for r in rows)
    by_step = {r["step"]: r for r in rows}
    assert by_step["parse-only"]["bytes"] > 0
    assert by_step["full-run"]["loaded"] == by_step["full-run-flow"]["loaded"] == 30


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


def tree_rss_mb_of_self() -> int:
    with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as statm:
        return round(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20)
