"""The steps `benchmarks.run` times, each in a process of its own: set up untimed, then timed."""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from benchmarks.corpus import AS_OF
from benchmarks.processes import cpu_seconds_between
from occupipe.runner.stages import Stages

CLUSTER_ENV = "OCCUPIPE_BENCH_CLUSTER"  # the Dask cluster's address, for the cluster-run step


class FanOutTimed(Stages):
    """The plain stage runner; `fanned_out` hears of each fan-out of batches as it ends."""

    def fan_out(
        self,
        names: list[str],
        fn: Callable[..., Any],
        calls: list[Any],
        workers: int,
        executor: Executor | None = None,
    ) -> Iterator[Any]:
        started, before = time.time(), os.times()
        try:
            yield from super().fan_out(names, fn, calls, workers, executor)
        finally:
            self.fanned_out(started, before)

    def fanned_out(self, started: float, before: os.times_result) -> None:
        """A fan-out begun at `started` (time.time()) has ended; `before` is os.times() then."""


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

    class SpannedStages(FanOutTimed):
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

        def fanned_out(self, started: float, before: os.times_result) -> None:
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
