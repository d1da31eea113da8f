"""What reporting a run to Prefect (run logs, artifacts, events) costs inside the flow."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.cli_steps import HUMAN_RECORDS
from benchmarks.corpus import make_corpus, warm_page_cache


def measure(records: int, repeat: int, workdir: Path) -> tuple[list[float], list[float]]:
    """`repeat` full-refresh flow runs of `records` records on a server of their own: the
    seconds `report_run` took in each, and each flow call's wall clock (logs drained)."""
    os.environ.setdefault("PREFECT_HOME", str(workdir / "prefect-telemetry"))
    from pipelines.prefect_setup import configure_prefect, local_api_server, wait_for_server

    configure_prefect()
    corpus = make_corpus(records, workdir)
    warm_page_cache(corpus)
    with local_api_server() as url:
        wait_for_server(url)
        import pipelines.observe as observe
        from pipelines.flows import run_build_flow
        from tests.helpers import options_for

        spent: list[float] = []
        report = observe.report_run

        def timed_report(*args: object) -> None:
            started = time.perf_counter()
            report(*args)  # type: ignore[arg-type]
            spent.append(time.perf_counter() - started)

        observe.report_run = timed_report  # type: ignore[assignment]
        walls = []
        for _ in range(repeat):
            options = options_for(corpus, workdir / "telemetry-warehouse", full_refresh=True)
            started = time.perf_counter()
            run_build_flow(options)
            walls.append(time.perf_counter() - started)
    return spent, walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=HUMAN_RECORDS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.gettempdir()) / "occupipe-bench"
    spent, walls = measure(args.records, args.repeat, workdir)
    print(f"report_run at {args.records} records (s): " + " ".join(f"{s:.3f}" for s in spent))
    print(
        f"median {statistics.median(spent):.3f} s; flow calls "
        + " ".join(f"{w:.2f}" for w in walls)
    )


if __name__ == "__main__":
    main()
