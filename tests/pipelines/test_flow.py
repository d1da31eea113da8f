"""End to end through Prefect (a test server per session): the flow and the `occupipe` CLI."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.helpers import DEMO, REFERENCE_DATE, SOULS, copy_sample, options_for
from tests.servers import DaskCluster

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_flow_records_a_completed_run_with_every_stage(tmp_path: Path) -> None:
    from prefect import get_client

    from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC
    from occupipe.core.runs import RunOptions
    from occupipe.core.settings import find_sql_dir
    from occupipe.ingest.discover import discover
    from occupipe.ingest.fingerprints import plan_stable_batches
    from pipelines.flows import MAX_BATCH_TASKS, run_build_flow, split_evenly
    from tests.helpers import REFERENCE_DATE

    options = RunOptions(
        SOULS,
        tmp_path,
        find_sql_dir(),
        REFERENCE_DATE,
        DEFAULT_SECTIONS_SPEC,
        batch_size=50,  # several batches, run as concurrent tasks on worker processes
        workers=2,
        parallel_min_files=0,
    )
    from occupipe.core.progress import listen

    progress: list[int] = []
    stop = listen(lambda done, total: progress.append(done))
    try:
        summary = run_build_flow(options)
    finally:
        stop()
    assert (summary.loaded, summary.rejected) == (182, 0)
    # the batches run in two tasks, but progress is reported batch by batch
    batches = plan_stable_batches(discover(SOULS).records, options.batch_size)
    assert len(batches) > MAX_BATCH_TASKS
    assert progress == list(itertools.accumulate(len(batch) for batch in batches))
    assert list(summary.stage_seconds) == [
        "discover",
        "extract",
        "load",
        "models",
        "tests",
        "parquet",  # written while the warehouse is loaded, modelled and tested
        "docs",  # the docs site: the wait for its pages, and their writing
        "publish",
    ]

    async def latest_runs() -> tuple[list[str], list[str]]:
        async with get_client() as client:
            flows = await client.read_flow_runs()
            tasks = await client.read_task_runs()
        return [str(f.state_name) for f in flows], sorted(t.name for t in tasks)

    import asyncio
    import time

    stages = 7  # the server records task runs from events, a moment after the flow returns
    deadline = time.monotonic() + 30
    flow_states, task_names = asyncio.run(latest_runs())
    while len(task_names) < stages + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        flow_states, task_names = asyncio.run(latest_runs())
    assert flow_states == ["Completed"]
    assert [n for n in task_names if not n.startswith("extract-batch-")] == [
        "build-models",
        "data-tests",
        "discover",
        "html-report",
        "load-warehouse",
        "publish",
        "write-parquet",
    ]
    first, *_, last = range(len(batches))
    middle = split_evenly(len(batches), MAX_BATCH_TASKS)[0][-1]
    assert [n for n in task_names if n.startswith("extract-batch-")] == [
        f"extract-batch-{first}-{middle}",
        f"extract-batch-{middle + 1}-{last}",
    ]


def test_occupipe_run_builds_the_demo_corpus_and_prints_a_summary(tmp_path: Path) -> None:
    code, out, err = invoke("run", "--source", str(DEMO), "--warehouse", str(tmp_path))
    assert (code, err) == (0, "")
    assert "quarantined 0" in out and "data tests:" in out and "time per stage:" in out
    with duckdb.connect(str(tmp_path / "occupations.duckdb"), read_only=True) as con:
        row = con.execute("select count(*), bool_and(is_synthetic) from occupations").fetchone()
    assert row is not None and row[0] >= 100 and row[1] is True


def test_occupipe_run_reports_a_missing_source_in_one_sentence(tmp_path: Path) -> None:
    code, out, err = invoke("run", "--source", str(tmp_path / "nope"), "--warehouse", str(tmp_path))
    assert code == 1
    assert err.startswith("error: source ") and err.count("\n") == 1
    assert "Traceback" not in out + err


def test_occupipe_report_and_query_read_the_published_warehouse(tmp_path: Path) -> None:
    assert invoke("run", "--source", str(SOULS), "--warehouse", str(tmp_path))[0] == 0
    code, out, _ = invoke("report", "stats", "--warehouse", str(tmp_path), "--as-of", "2026-06-26")
    assert code == 0
    assert json.loads(out)["quality"]["stalePages"][0]["slug"] == "barista"
    code, out, _ = invoke(
        "query", "select count(*) as n from occupations", "-f", "csv", "--warehouse", str(tmp_path)
    )
    assert (code, out) == (0, "n\n182\n")


def test_quarantine_and_replay_through_the_cli(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 20)
    (source / "broken.json").write_text("{")
    (source / "empty.json").write_text("")
    warehouse = str(tmp_path / "wh")
    code, out, err = invoke("run", "--source", str(source), "--warehouse", warehouse)
    assert code == 1 and "2 of 22 inputs (9.1%) were quarantined, above the" in err
    assert not (tmp_path / "wh" / "occupations.duckdb").exists()
    code, out, _ = invoke(
        "run", "--source", str(source), "--warehouse", warehouse, "--max-reject-rate", "0.1"
    )
    assert code == 0 and "quarantined broken.json [parse]" in out
    code, out, _ = invoke("quarantine", "--format", "csv", "--warehouse", warehouse)
    stages = [line.split(",")[1] for line in out.splitlines()[1:]]
    assert (code, stages) == (0, ["parse", "read"])
    code, out, _ = invoke("replay", "--warehouse", warehouse)
    assert code == 0
    assert "inputs 22: loaded 20, quarantined 2, ignored 0" in out


def test_a_quiet_flow_call_runs_without_the_heartbeat_and_restores_the_settings() -> None:
    from prefect import flow
    from prefect.settings import get_current_settings
    from prefect.utilities.annotations import quote

    from pipelines.flows import run_flow_quietly

    @flow(name="heartbeat-probe", validate_parameters=False)
    def probe(options: object) -> quote:
        return quote((options, get_current_settings().flows.heartbeat_frequency))

    before = get_current_settings().flows.heartbeat_frequency
    result: object = run_flow_quietly(probe, "options")  # type: ignore[arg-type]
    assert result == ("options", None)
    assert get_current_settings().flows.heartbeat_frequency == before


def test_batches_in_a_flow_come_back_in_order_and_a_failed_one_fails_the_flow() -> None:
    from prefect import flow

    from pipelines.flows import run_as_task

    @flow(name="fan-out-probe", validate_parameters=False)
    def parse_all(values: list[str]) -> list[int]:
        names = [f"extract-batch-{n}" for n in range(len(values))]
        return list(run_as_task.fan_out(names, int, [(v,) for v in values], 2))

    assert parse_all(["1", "2", "3", "4", "5"]) == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="invalid literal for int"):
        parse_all(["1", "x", "3", "4"])


def test_a_cluster_run_whose_batches_all_come_from_the_cache_runs_no_batch_task(
    tmp_path: Path, dask_cluster: DaskCluster
) -> None:
    """A new reference date rebuilds the release from cached parts: nothing goes to the
    cluster, and the flow's span over the cluster's batches is not made for nothing."""
    from pipelines.flows import run_build_flow

    source = copy_sample(tmp_path / "source", 6)
    first = run_build_flow(options_for(source, tmp_path / "w", cluster=dask_cluster.address))
    later = REFERENCE_DATE + dt.timedelta(days=1)
    options = options_for(source, tmp_path / "w", cluster=dask_cluster.address, as_of=later)
    again = run_build_flow(options)
    assert again.release_id != first.release_id
    assert again.changes == {"new": 0, "changed": 0, "unchanged": 6, "removed": 0}
