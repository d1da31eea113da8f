"""The benchmark runs end to end at a tiny size (it proves it works; it asserts no timings)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.run import benchmark


def test_the_benchmark_measures_every_step_on_one_corpus(tmp_path: Path) -> None:
    rows = benchmark(30, tmp_path, skip={"naive-duckdb", "full-run-flow"})
    assert [r["step"] for r in rows] == ["parse-only", "full-run", "no-change-rerun"]
    assert all(float(str(r["seconds"])) > 0 and int(str(r["peak_rss_mb"])) > 0 for r in rows)
    assert rows[0]["bytes"] and rows[1]["loaded"] == 30
