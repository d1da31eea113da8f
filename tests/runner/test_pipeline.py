"""Whole runs without Prefect: tables, quarantine, determinism, and a failed run changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from occupipe.core import duck
from occupipe.core.lifetime import lower_thread_priority, sigint_held
from occupipe.core.runs import RunFailed, RunSummary
from occupipe.core.settings import PROJECT_DIR
from occupipe.ingest.tables import TABLES
from occupipe.runner.run import describe_exception
from occupipe.runner.stages import Stages, WorkerLost, worker_pool
from occupipe.warehouse import parquet as parquet_module
from occupipe.warehouse.load import load_raw_tables
from occupipe.warehouse.parquet import fixed_size_groups
from tests.helpers import build, copy_sample, is_running, minimal_record, parquet_digests, query


def test_every_table_is_written_with_its_declared_schema(
    corpus_warehouse: tuple[Path, RunSummary],
) -> None:
    warehouse, summary = corpus_warehouse
    assert (summary.inputs, summary.loaded, summary.rejected) == (182, 182, 0)
    for table in TABLES:
        parquet = pq.read_schema(warehouse / "parquet" / f"{table.name}.parquet")
        assert parquet.names == table.column_names, table.name
        assert (
            summary.table_rows[table.name]
            == pq.read_metadata(warehouse / "parquet" / f"{table.name}.parquet").num_rows
        )
    assert summary.table_rows["occupations"] == 182
    assert summary.table_rows["sections"] == 3524


def test_html_is_left_out_unless_asked_for(corpus_warehouse: tuple[Path, RunSummary]) -> None:
    assert query(corpus_warehouse[0], "select count(html) from raw.sections") == [(0,)]


def test_the_warehouse_accounts_for_every_input(corpus_warehouse: tuple[Path, RunSummary]) -> None:
    rows = {
        row[0]: row[1]
        for row in query(corpus_warehouse[0], "select outcome, inputs from run_inputs")
    }
    assert rows == {"loaded": 182, "quarantined": 0, "ignored": 0}


def test_bad_and_duplicate_inputs_are_quarantined_with_reasons(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 5)
    (source / "broken.json").write_text('{"slug": ')
    (source / "README.txt").write_text("not a record")
    duplicate = json.loads((source / "absurdist.json").read_text())
    (source / "zz-copy.json").write_text(json.dumps(duplicate))
    summary = build(source, tmp_path / "wh", max_reject_rate=0.5)
    assert (summary.inputs, summary.loaded, summary.rejected, summary.ignored) == (8, 5, 2, 1)
    assert summary.loaded + summary.rejected + summary.ignored == summary.inputs
    reasons = query(tmp_path / "wh", "select source_file, stage, reason from quarantine order by 1")
    assert reasons[0][:2] == ("broken.json", "parse")
    assert reasons[1][:2] == ("zz-copy.json", "dedupe")
    assert "absurdist.json wins" in str(reasons[1][2])
    assert query(tmp_path / "wh", "select count(*) from occupations") == [(5,)]
    # the release's input ledger: every document once, sorted, with what became of it
    ledger = pq.read_table(tmp_path / "wh" / "current" / "inputs.parquet").to_pylist()
    assert [row["source"] for row in ledger] == sorted(row["source"] for row in ledger)
    outcomes = {row["source"]: row["outcome"] for row in ledger}
    assert len(outcomes) == len(ledger) == 7  # README.txt is ignored: not a document
    assert outcomes["broken.json"] == "quarantined:parse"
    assert outcomes["zz-copy.json"] == "quarantined:dedupe"
    assert outcomes["absurdist.json"] == "loaded"
    assert all(len(row["sha256"]) == 64 for row in ledger)
    reasons_by_source = {row["source"]: row["reason"] for row in ledger}
    assert reasons_by_source["zz-copy.json"] == reasons[1][2]  # the same words as the warehouse
    assert reasons_by_source["absurdist.json"] is None


def test_the_same_inputs_give_byte_identical_parquet(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 80)  # enough rows for several Parquet pages
    digests = []
    for run in ("a", "b"):
        build(source, tmp_path / run, batch_size=7 if run == "a" else 500)
        digests.append(parquet_digests(tmp_path / run))
    assert len(digests[0]) == len(TABLES)
    assert digests[0] == digests[1]


def test_a_failing_error_test_leaves_the_previous_warehouse_untouched(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 4)
    warehouse = tmp_path / "wh"
    build(source, warehouse)
    before = (warehouse / "occupations.duckdb").read_bytes()
    record = minimal_record(slug="bad-status")
    record["metadata"].update(slug="bad-status", status="draft")
    # a category that is null in the mart can only come from a broken model: simulate one
    sql_dir = tmp_path / "sql"
    shutil.copytree(PROJECT_DIR / "sql", sql_dir)
    (sql_dir / "tests" / "always_fails.sql").write_text("select 1 as broken")
    (source / "new.json").write_text(json.dumps(record))
    with pytest.raises(RunFailed, match="always_fails"):
        build(source, warehouse, sql_dir=sql_dir)
    assert (warehouse / "occupations.duckdb").read_bytes() == before
    assert query(warehouse, "select count(*) from occupations") == [(4,)]
    assert not any((warehouse / ".build").iterdir())


@pytest.mark.parametrize(
    ("report", "minimum_rows"),
    [
        ("coverage_by_category_kind", 20),
        ("coverage_sections", 20),
        ("coverage_completeness", 2),
        ("coverage_metadata", 5),
        ("coverage_graph", 9),
        ("review_status_provenance", 5),
        ("review_verified", 2),
        ("review_queue", 100),
        ("review_stale", 10),
        ("review_reviewers", 4),
        ("wordcount_totals", 1),
        ("wordcount_by_category", 21),
        ("wordcount_by_kind", 7),
        ("wordcount_by_section", 20),
        ("wordcount_extremes", 24),
        ("wordcount_below_minimum", 1),
        ("stats_totals", 1),
        ("stats_figures", 1),
        ("stats_counts", 21 + 7 + 4 + 3 + 4),
        ("stats_count_lists", 718 + 4),
        ("stats_graph_lists", 25 + 25),
        ("stats_record_lists", 4 * 12),
        ("stats_quality_lists", 3),
    ],
)
def test_every_report_has_rows_on_the_real_corpus(
    corpus_warehouse: tuple[Path, RunSummary], report: str, minimum_rows: int
) -> None:
    assert len(query(corpus_warehouse[0], f"select * from {report}")) >= minimum_rows


# see sql/tests/one_row_models.sql
ONE_ROW_REPORTS = {"health_dora", "stats", "stats_figures", "stats_totals", "wordcount_totals"}


def test_every_report_of_several_rows_states_their_order(
    corpus_warehouse: tuple[Path, RunSummary],
) -> None:
    # a view without an order by gave its rows in a different order from one query to the next
    # (review_verified's provenances): a report printed twice must read the same
    reports = {p.stem for p in (PROJECT_DIR / "sql" / "reports").glob("*.sql")} - ONE_ROW_REPORTS
    warehouse = corpus_warehouse[0]
    plans = {name: query(warehouse, f"explain select * from {name}")[0][1] for name in reports}
    assert sorted(name for name, plan in plans.items() if "Order By" not in plan) == []


def test_report_figures_agree_with_each_other(corpus_warehouse: tuple[Path, RunSummary]) -> None:
    warehouse = corpus_warehouse[0]
    totals = query(warehouse, "select records, words from wordcount_totals")[0]
    by_kind = query(warehouse, "select sum(records), sum(words) from wordcount_by_kind")[0]
    assert totals == by_kind == (182, 442984)
    queue = query(warehouse, "select count(*) from review_queue")[0][0]
    flagged = query(warehouse, "select count(*) from occupations where is_unverified_ai_draft")
    assert queue == flagged[0][0]
    assert query(warehouse, "select count(*) from wordcount_mismatches") == [(0,)]


def test_extraction_on_worker_processes_gives_the_same_bytes(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 60)
    build(source, tmp_path / "one", batch_size=10, workers=1)
    summary = build(source, tmp_path / "two", batch_size=10, workers=2, parallel_min_files=0)
    assert summary.loaded == 60

    assert parquet_digests(tmp_path / "one") == parquet_digests(tmp_path / "two")


@pytest.mark.parametrize("batch_rows", [1, 3, 7, 10, 25])
def test_fixed_size_groups_recut_any_batching_into_the_same_groups(batch_rows: int) -> None:
    table = pa.table({"n": list(range(23))})
    groups = list(fixed_size_groups(table.to_batches(max_chunksize=batch_rows), 10))
    assert [g.num_rows for g in groups] == [10, 10, 3]
    assert pa.concat_tables(groups).column("n").to_pylist() == list(range(23))


def test_each_published_table_is_cut_into_row_groups_of_its_own_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tables whose rows carry long text get smaller groups (the writers' memory stays flat)
    monkeypatch.setattr(parquet_module, "ROW_GROUP_ROWS_OF", {"occupations": 5, "sections": 40})
    build(copy_sample(tmp_path / "raw", count=12), tmp_path / "wh", batch_size=3)
    sizes = {}
    for name in ("occupations", "sections", "tags"):
        metadata = pq.ParquetFile(tmp_path / "wh" / "parquet" / f"{name}.parquet").metadata
        sizes[name] = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert sizes["occupations"] == [5, 5, 2]
    assert set(sizes["sections"][:-1]) == {40} and 0 < sizes["sections"][-1] <= 40
    assert len(sizes["tags"]) == 1  # the default size, larger than the table


def test_published_rows_follow_the_input_files(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "raw", count=12)
    build(source, tmp_path / "wh", batch_size=3)
    published = pq.read_table(tmp_path / "wh" / "parquet" / "occupations.parquet")
    files = published.column("source_file").to_pylist()
    assert files == sorted(files)
    sections = pq.read_table(tmp_path / "wh" / "parquet" / "sections.parquet")
    slugs, positions = sections.column("slug").to_pylist(), sections.column("position").to_pylist()
    order = list(zip(slugs, positions, strict=True))
    by_file = {slug: n for n, slug in enumerate(published.column("slug").to_pylist())}
    assert order == sorted(order, key=lambda key: (by_file[key[0]], key[1]))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_extraction_workers_end_when_their_run_is_killed() -> None:
    script = (
        "import os, signal\n"
        "from occupipe.runner.stages import worker_pool\n"
        "pool = worker_pool(2)\n"
        "futures = [pool.submit(os.getpid) for _ in range(8)]\n"
        "print(' '.join(str(pid) for pid in {f.result() for f in futures}), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60
    )
    workers = [int(pid) for pid in done.stdout.split()]
    assert workers, done.stderr
    deadline = time.monotonic() + 10
    while any(map(is_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(is_running, workers))


def test_extraction_workers_leave_ctrl_c_to_their_run() -> None:
    # a terminal's Ctrl-C reaches every process of the group: workers that took it printed
    # tracebacks (and one taken while a worker started left the run hanging)
    with worker_pool(1) as pool:
        pid = pool.submit(os.getpid).result()
        os.kill(pid, signal.SIGINT)
        assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
        assert pool.submit(os.getpid).result() == pid  # the same worker, still working


def test_ctrl_c_held_arrives_once_the_hold_ends() -> None:
    reached = False
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever others set
    try:
        with pytest.raises(KeyboardInterrupt), sigint_held():
            # to this thread: a signal to the process goes to any thread not holding it
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
            reached = True
    finally:
        signal.signal(signal.SIGINT, previous)
    assert reached


def test_a_worker_lost_mid_batch_fails_the_run_in_one_sentence() -> None:
    calls = [(0,), (1,), (1,)]  # os._exit(1): gone without a word, as the OOM killer leaves it
    with pytest.raises(WorkerLost, match=r"^an extraction worker process ended in the middle"):
        list(Stages().fan_out(["a", "b", "c"], os._exit, calls, 2))


@pytest.mark.parametrize(
    ("stopped_by", "reason"),
    [
        (KeyboardInterrupt(), "interrupted"),
        (SystemExit(143), "terminated"),  # as a SIGTERM handler (Prefect's) stops a run
        (OSError("disk full\nmore detail"), "disk full"),
        (ValueError(), "failed: ValueError"),
    ],
)
def test_a_stopped_run_is_recorded_with_a_reason_in_words(
    stopped_by: BaseException, reason: str
) -> None:
    assert describe_exception(stopped_by) == reason


def duckdb_settings(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> dict[str, str]:
    """The current values of some DuckDB settings, as text."""
    query = "select " + ", ".join(f"current_setting('{name}')" for name in names)
    return dict(zip(names, map(str, con.sql(query).fetchall()[0]), strict=True))


def test_loading_the_raw_tables_leaves_the_connection_as_it_found_it(tmp_path: Path) -> None:
    # the load runs with zstd forced and insertion order free; the models after it must get
    # DuckDB's defaults back
    names = ("threads", "force_compression", "preserve_insertion_order")
    with duck.connect_for_build(tmp_path / "w.duckdb") as con:
        before = duckdb_settings(con, names)
        rows = load_raw_tables(con, tmp_path / "no-parts", set())
        assert duckdb_settings(con, names) == before
    assert set(rows) == {t.name for t in TABLES} and not any(rows.values())


def thread_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values")
def test_the_parquet_writers_give_way_to_the_rest_of_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # they run beside the load, the models and the data tests, which the run waits for
    seen: list[int] = []
    write_tables = parquet_module.write_final_tables

    def noting_niceness(*args: object) -> dict[str, int]:
        seen.append(thread_niceness())
        return write_tables(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(parquet_module, "write_final_tables", noting_niceness)
    own = thread_niceness()
    rows = parquet_module.publish_tables(tmp_path / "no-parts", tmp_path / "parquet", set())
    expected = min(19, own + parquet_module.WRITER_NICENESS)
    assert seen == [expected] * len(parquet_module.PUBLISH_GROUPS)
    assert thread_niceness() == own  # the caller's thread keeps its priority
    assert set(rows) == {t.name for t in TABLES} and not any(rows.values())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values")
@pytest.mark.parametrize("steps", [3, 40])
def test_a_thread_lowers_its_own_priority_only_and_no_lower_than_19(steps: int) -> None:
    own = thread_niceness()
    seen: list[int] = []

    def lowered() -> None:
        lower_thread_priority(steps)
        seen.append(thread_niceness())

    worker = threading.Thread(target=lowered)
    worker.start()
    worker.join()
    assert seen == [min(19, own + steps)]
    assert thread_niceness() == own


@pytest.mark.parametrize(
    ("setting", "build_budget", "streaming_budget"),
    [(None, "512MB", "256MB"), ("1GB", "1GB", "1GB")],
)
def test_the_build_database_and_the_streaming_instances_get_their_own_budgets(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    setting: str | None,
    build_budget: str,
    streaming_budget: str,
) -> None:
    if setting is None:
        monkeypatch.delenv(duck.MEMORY_ENV, raising=False)
    else:
        monkeypatch.setenv(duck.MEMORY_ENV, setting)

    def budget_of(value: str) -> str:
        with duckdb.connect() as reference:
            reference.execute("set memory_limit = ?", [value])
            return duckdb_settings(reference, ("memory_limit",))["memory_limit"]

    with duck.connect_for_build(tmp_path / "w.duckdb") as con:
        assert duckdb_settings(con, ("memory_limit",))["memory_limit"] == budget_of(build_budget)
    with duck.connect_for_build(spill_dir=tmp_path / "spill") as con:
        limit = duckdb_settings(con, ("memory_limit",))["memory_limit"]
        assert limit == budget_of(streaming_budget)
