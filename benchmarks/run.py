"""Benchmark one corpus size: parse-only and naive-DuckDB baselines against our full run
(without and with the Prefect flow) and a no-change re-run, all in one invocation.

    python -m benchmarks.run --records 10000 [--workdir DIR] [--skip-naive] [--skip-flow]

Each step runs in its own process, so its peak memory is its own: the peak RSS shown is the
step process plus its largest child (worker processes run side by side, so this is a floor
on the sum when both workers are busy). Times are wall-clock seconds of the work inside the
step process (imports included, interpreter start not); the flow step is the whole
`occupipe run` command, Prefect's server start included. Ratios are against the parse-only
time of the same files, measured in the same invocation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable
AS_OF = dt.date(2026, 6, 26)  # every step builds for the same reference date
STEPS = ("parse-only", "naive-duckdb", "full-run", "full-run-flow", "no-change-rerun")


def step_parse_only(corpus: Path, warehouse: Path) -> dict[str, object]:
    """The floor: read every file and orjson.loads it."""
    import orjson

    size = 0
    for path in sorted(corpus.glob("*.json")):
        raw = path.read_bytes()
        size += len(raw)
        orjson.loads(raw)
    return {"bytes": size}


def step_naive_duckdb(corpus: Path, warehouse: Path) -> dict[str, object]:
    """What DuckDB does with the nested files on its own."""
    import duckdb

    with duckdb.connect() as con:
        con.execute(
            "create table records as select * from read_json(?, union_by_name = true,"
            " maximum_object_size = 1000000000)",
            [str(corpus / "*.json")],
        )
        row = con.execute("select count(*) from records").fetchone()
    return {"rows": row[0] if row else 0}


def step_full_run(corpus: Path, warehouse: Path, full_refresh: bool = True) -> dict[str, object]:
    """Our whole pipeline without Prefect: extract, Parquet, DuckDB, models, data tests."""
    from pipelines.build import DEFAULT_SECTIONS_SPEC
    from pipelines.pipeline import RunOptions, run_pipeline
    from pipelines.settings import find_sql_dir

    options = RunOptions(
        source=corpus,
        warehouse_dir=warehouse,
        sql_dir=find_sql_dir(),
        as_of=AS_OF,
        sections_spec=DEFAULT_SECTIONS_SPEC,
        full_refresh=full_refresh,
        allow_shrink=True,
    )
    summary = run_pipeline(options)
    return {"loaded": summary.loaded, "stages": summary.stage_seconds}


def step_no_change_rerun(corpus: Path, warehouse: Path) -> dict[str, object]:
    return step_full_run(corpus, warehouse, full_refresh=False)


def run_step(name: str, corpus: Path, warehouse: Path) -> dict[str, object]:
    """Run one step in a fresh process; return its time, peak RSS and details."""
    if name == "full-run-flow":
        command = [PYTHON, "-m", "pipelines.cli", "run", "--source", str(corpus), "--quiet",
                   "--warehouse", str(warehouse), "--full-refresh", "--allow-shrink",
                   "--as-of", AS_OF.isoformat()]  # fmt: skip
    else:
        command = [PYTHON, "-m", "benchmarks.run", "--step", name, "--corpus", str(corpus),
                   "--warehouse", str(warehouse)]  # fmt: skip
    started = time.perf_counter()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        stdout, stderr = process.communicate()
        seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"step {name} failed: {stderr.strip().splitlines()[-1:]}")
    if name == "full-run-flow":  # the CLI's own wall time, Prefect's server start included
        return {"seconds": seconds, "process_seconds": seconds}
    details = json.loads(stdout.splitlines()[-1])
    return {"process_seconds": seconds, **details}


def measure_step(name: str, corpus: Path, warehouse: Path) -> None:
    """Inside the step process: do the work, print details and peak RSS as JSON."""
    functions = {
        "parse-only": step_parse_only,
        "naive-duckdb": step_naive_duckdb,
        "full-run": step_full_run,
        "no-change-rerun": step_no_change_rerun,
    }
    started = time.perf_counter()
    details = functions[name](corpus, warehouse)
    details["seconds"] = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({**details, "peak_rss_mb": round((own + children) / 1024)}, default=str))


def make_corpus(records: int, workdir: Path) -> Path:
    """Synthetic records, generated once per size and reused."""
    corpus = workdir / f"corpus-{records}"
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run(
            [
                PYTHON,
                "-m",
                "pipelines.cli",
                "synth",
                "--records",
                str(records),
                "--out",
                str(corpus),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (corpus / ".complete").touch()
    return corpus


def benchmark(records: int, workdir: Path, skip: set[str]) -> list[dict[str, object]]:
    """Every step on the same corpus; the rows of the report."""
    corpus = make_corpus(records, workdir)
    warehouse = workdir / f"warehouse-{records}"
    shutil.rmtree(warehouse, ignore_errors=True)
    rows = []
    for name in STEPS:
        if name in skip:
            continue
        rows.append({"step": name, **run_step(name, corpus, warehouse)})
    return rows


def print_report(records: int, rows: list[dict[str, object]]) -> None:
    base = next(float(str(r["seconds"])) for r in rows if r["step"] == "parse-only")
    size = next(r["bytes"] for r in rows if r["step"] == "parse-only")
    print(f"{records} records, {int(str(size)) / 1e6:.0f} MB of JSON, {os.cpu_count()} cores")
    print(f"{'step':<18}{'seconds':>9}{'x parse':>9}{'peak RSS MB':>13}")
    for row in rows:
        seconds = float(str(row["seconds"]))
        rss = row.get("peak_rss_mb", "")
        print(f"{row['step']:<18}{seconds:>9.2f}{seconds / base:>9.1f}{rss!s:>13}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-flow", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        measure_step(args.step, args.corpus, args.warehouse)
        return
    workdir = args.workdir or Path(tempfile.gettempdir()) / "occupipe-bench"
    skip = {"naive-duckdb"} if args.skip_naive else set()
    skip |= {"full-run-flow"} if args.skip_flow else set()
    rows = benchmark(args.records, workdir, skip)
    if args.json:
        print(json.dumps(rows, default=str))
    else:
        print_report(args.records, rows)


if __name__ == "__main__":
    main()
