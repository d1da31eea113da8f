"""The CLI's read side (no Prefect needed): reports, queries, formats, exit codes, errors."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from occupipe.core.runs import RunSummary
from pipelines.cli import app, main
from pipelines.cli.common import Interrupted


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def refuse_server(monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    """Fail the test if the command starts its Prefect server: `case` should have stopped it."""
    from pipelines.cli import run

    def no_server() -> None:
        raise AssertionError(f"a Prefect server was started for {case}")

    monkeypatch.setattr(run, "own_api_server", no_server)


@pytest.fixture(scope="module")
def warehouse(corpus_warehouse: tuple[Path, RunSummary]) -> str:
    return str(corpus_warehouse[0])


@pytest.mark.parametrize("name", ["coverage", "review", "wordcount"])
def test_each_report_prints_all_its_parts_as_json(warehouse: str, name: str) -> None:
    code, out, err = invoke("report", name, "--format", "json", "--warehouse", warehouse)
    assert (code, err) == (0, "")
    parts = json.loads(out)
    assert all(key.startswith(f"{name}_") for key in parts)
    assert sum(bool(rows) for rows in parts.values()) >= 5


def test_a_report_part_can_be_asked_for_by_its_full_name_as_csv(warehouse: str) -> None:
    code, out, _ = invoke("report", "wordcount_totals", "-f", "csv", "--warehouse", warehouse)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert rows[0]["records"] == "182" and rows[0]["words"] == "442984"


def test_table_format_shows_titles_for_each_part(warehouse: str) -> None:
    code, out, _ = invoke("report", "review", "--warehouse", warehouse)
    assert code == 0
    assert "review_queue" in out and "review_stale" in out


def test_as_of_moves_the_staleness_reference_date(warehouse: str) -> None:
    def stale(day: str) -> int:
        code, out, _ = invoke(
            "report", "review_stale", "-f", "json", "--as-of", day, "--warehouse", warehouse
        )
        assert code == 0
        return len(json.loads(out))

    assert stale("2026-06-26") == 16
    assert stale("2024-01-01") == 0
    assert stale("2030-01-01") > 16


def test_stats_report_is_the_stats_document(warehouse: str) -> None:
    code, out, _ = invoke("report", "stats", "--warehouse", warehouse)
    assert code == 0
    assert json.loads(out)["totals"]["souls"] == 182


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["report", "nope"], 2, "error: there is no report called 'nope'"),
        (["report", "stg_tags"], 2, "error: there is no report called 'stg_tags'"),
        (
            ["report", "review", "--as-of", "June"],
            2,
            "Invalid value for '--as-of': 'June' is not a date like 2026-06-26",
        ),
        (["query", "selec 1"], 1, "error: the query failed: Parser Error"),
        (["query", "delete from occupations"], 1, "error: the query failed:"),
        (["query", "copy occupations to 'x.csv'"], 1, "error: the query failed:"),
        (["report", "--format", "xml", "stats"], 2, "Invalid value for '--format'"),
    ],
)
def test_bad_requests_get_one_sentence_and_the_documented_exit_code(
    warehouse: str, args: list[str], code: int, message: str
) -> None:
    exit_code, out, err = invoke(*args, "--warehouse", warehouse)
    assert exit_code == code
    assert message in " ".join(err.split())
    assert "Traceback" not in out + err


def test_a_missing_warehouse_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, err = invoke("report", "stats", "--warehouse", str(tmp_path))
    assert code == 1
    assert "run `occupipe run` first" in err


def test_table_output_is_limited_and_says_so(warehouse: str) -> None:
    code, out, err = invoke(
        "query",
        "select slug from occupations order by slug",
        "--limit",
        "3",
        "--warehouse",
        warehouse,
    )
    assert code == 0
    assert "absurdist" in out and "showing the first 3 rows" in err


def test_report_tables_are_limited_part_by_part_and_say_which(warehouse: str) -> None:
    # drawn whole, 100k records' review took 26 s to print (its queue alone is 50k rows)
    code, _, err = invoke("report", "wordcount", "--limit", "2", "--warehouse", warehouse)
    assert code == 0
    assert "(wordcount_by_category: showing the first 2 rows; use --limit or" in err
    assert "wordcount_totals:" not in err  # one row: nothing left out
    code, out, _ = invoke(
        "report", "wordcount_by_category", "-f", "csv", "--limit", "2", "--warehouse", warehouse
    )
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 21  # csv: every row


def test_json_query_output_is_plain_json(warehouse: str) -> None:
    code, out, _ = invoke(
        "query",
        "select slug, created_on from occupations order by slug limit 1",
        "-f",
        "json",
        "--warehouse",
        warehouse,
    )
    assert code == 0
    assert json.loads(out) == [{"slug": "absurdist", "created_on": "2026-06-28"}]


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_a_result_naming_two_columns_alike_is_refused_where_one_would_be_lost(
    warehouse: str, tmp_path: Path, fmt: str
) -> None:
    sql = "select o.slug, r.slug from occupations o join occupations r using (slug) limit 1"
    out_file = tmp_path / "result.parquet"
    extra = ["--out", str(out_file)] if fmt == "parquet" else []
    code, out, err = invoke("query", sql, "-f", fmt, *extra, "--warehouse", warehouse)
    assert (code, out) == (2, "")
    assert "more than one column named slug" in err and err.count("\n") == 1
    assert not out_file.exists()
    code, out, _ = invoke("query", sql, "-f", "csv", "--warehouse", warehouse)
    assert code == 0 and out.splitlines()[0] == "slug,slug"  # csv keeps both


def test_synth_writes_the_same_corpus_for_the_same_seed(tmp_path: Path) -> None:
    for run in ("a", "b"):
        code, out, _ = invoke("synth", "--records", "25", "--out", str(tmp_path / run))
        assert code == 0 and "wrote 25 synthetic records" in out
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}


def test_quarantine_lists_each_rejected_input_with_stage_and_reason(tmp_path: Path) -> None:
    from tests.helpers import build, copy_sample

    source = copy_sample(tmp_path / "in", 30)
    (source / "broken.json").write_text("{")
    build(source, tmp_path / "wh")
    code, out, _ = invoke("quarantine", "-f", "json", "--warehouse", str(tmp_path / "wh"))
    assert code == 0
    (row,) = json.loads(out)
    assert (row["source_file"], row["stage"]) == ("broken.json", "parse")
    assert row["reason"].startswith("not valid JSON")


def test_a_long_quarantine_table_is_cut_at_the_limit_and_says_so(tmp_path: Path) -> None:
    from tests.helpers import build, copy_sample

    source = copy_sample(tmp_path / "in", 5)
    for n in range(3):
        (source / f"broken-{n}.json").write_text("{")
    build(source, tmp_path / "wh", max_reject_rate=1.0)
    warehouse = str(tmp_path / "wh")
    code, out, err = invoke("quarantine", "--limit", "2", "--warehouse", warehouse)
    assert code == 0 and "broken-1.json" in out and "broken-2.json" not in out
    assert "showing the first 2 rows; use --limit or --format csv for more" in err
    code, out, _ = invoke("quarantine", "-f", "csv", "--limit", "2", "--warehouse", warehouse)
    assert len(list(csv.DictReader(io.StringIO(out)))) == 3  # csv: every row


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            OSError(28, "No space left on device", "/data/wh/x"),
            "No space left on device (/data/wh/x)",
        ),
        (OSError(30, "Read-only file system"), "Read-only file system;"),
    ],
)
def test_environment_faults_become_one_sentence_and_exit_code_1(
    tmp_path: Path, error: OSError, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code_of_a_run_raising(error, tmp_path) == 1
    err = capsys.readouterr().err
    assert message in err and err.endswith("; nothing was published.\n")  # no release yet
    assert err.count("\n") == 1
    (tmp_path / "wh" / "current").symlink_to("releases/20260101T000000.000000Z-abcd")
    assert exit_code_of_a_run_raising(error, tmp_path) == 1
    err = capsys.readouterr().err
    assert message in err and err.endswith("; the previous warehouse was left as it was.\n")


def test_the_warehouse_folder_can_come_from_the_environment(
    warehouse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCCUPIPE_WAREHOUSE", warehouse)
    code, out, _ = invoke("query", "select count(*) as n from occupations", "-f", "csv")
    assert (code, out) == (0, "n\n182\n")


def test_releases_rollback_and_gc_from_the_command_line(tmp_path: Path) -> None:
    from tests.helpers import SOULS, build

    source = tmp_path / "in"
    source.mkdir()
    paths = sorted(SOULS.glob("*.json"))
    warehouse = tmp_path / "wh"
    ids = []
    for extra in range(3):
        (source / paths[30 + extra].name).write_bytes(paths[30 + extra].read_bytes())
        for path in paths[:30]:
            (source / path.name).write_bytes(path.read_bytes())
        ids.append(build(source, warehouse).run_id)
    code, out, _ = invoke("releases", "-f", "json", "--warehouse", str(warehouse))
    listed = json.loads(out)
    assert code == 0 and [r["release"] for r in listed] == ids
    assert [r["current"] for r in listed] == ["", "", "*"]
    code, out, _ = invoke("gc", "--keep", "1", "--warehouse", str(warehouse))
    assert code == 0 and out.strip() == f"removed 1 release(s): {ids[0]}"
    code, out, _ = invoke("rollback", "--warehouse", str(warehouse))
    assert code == 0 and f"rolled back from {ids[2]} to {ids[1]}" in out
    code, out, _ = invoke("rollback", ids[2], "--warehouse", str(warehouse))
    assert code == 0 and f"rolled forward from {ids[1]} to {ids[2]}" in out
    code, out, _ = invoke("rollback", "--warehouse", str(warehouse))
    assert code == 0 and f"rolled back from {ids[2]} to {ids[1]}" in out
    code, _, err = invoke("rollback", "nope", "--warehouse", str(warehouse))
    assert code == 1 and f"error: there is no release nope in {warehouse}." in err
    code, out, _ = invoke("report", "health_dora", "-f", "json", "--warehouse", str(warehouse))
    assert json.loads(out)[0]["change_failure_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert json.loads(out)[0]["unrestored_failures"] == 0


@pytest.mark.parametrize(
    ("command", "function", "message"),
    [
        (["rollback"], "rollback", "cannot roll back in"),
        (["gc", "--keep", "1"], "collect_garbage", "cannot remove releases in"),
    ],
)
def test_a_read_only_warehouse_stops_rollback_and_gc_with_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], function: str, message: str
) -> None:
    from pipelines.cli import releases

    (tmp_path / "wh" / "releases").mkdir(parents=True)

    def refuse(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted", str(tmp_path / "wh" / "current"))

    monkeypatch.setattr(releases, function, refuse)
    code, _, err = invoke(*command, "--warehouse", str(tmp_path / "wh"))
    assert code == 1
    assert err.startswith(f"error: {message} {tmp_path / 'wh'}: Operation not permitted (")
    assert err.count("\n") == 1


def test_the_progress_bar_follows_extraction_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    from occupipe.core.progress import report_progress
    from pipelines.cli import run

    screen = io.StringIO()
    monkeypatch.setattr(run, "out", Console(file=screen, force_terminal=True, width=80))
    with run.progress_bar(enabled=True):
        report_progress(50, 182)
    assert "extracting" in screen.getvalue() and "50/182" in screen.getvalue()
    screen.truncate(0)
    with run.progress_bar(enabled=False):
        report_progress(50, 182)
    assert screen.getvalue().strip("\x00") == ""


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """The console script's own entry point (not the test runner's), with these arguments."""
    monkeypatch.setattr(sys, "argv", ["occupipe", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    code = exit_info.value.code
    return code if isinstance(code, int) else 1, captured.out, captured.err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["gc", "--keep", "0"], 2, "error: Invalid value for '--keep'"),
        (["synth", "--records", "2"], 2, "error: Missing option '--out'; see `occupipe synth"),
        (["nosuchcmd"], 2, "error: No such command 'nosuchcmd'; see `occupipe --help`."),
        (
            ["report", "coverage", "-f", "parquet"],
            2,
            "error: Invalid value for '--format' / '-f': 'parquet' is not one of 'table',",
        ),
        (["query", "select 1", "--limit", "0"], 2, "error: Invalid value for '--limit'"),
        (["run", "--as-of", "2026-13-01"], 2, "for '--as-of': '2026-13-01' is not a date like"),
        (["run", "--source", "ftp://x/y"], 2, "cannot read ftp://x/y: a source is a folder"),
        (["query", " -- nothing "], 2, "error: the query is empty"),
        (["report", "coverage", "--html", "x.html"], 2, "leave out the report name"),
        (["report", "stats", "-f", "csv"], 2, "error: stats is one JSON document"),
        (["query", "select 1", "--out", "x.txt"], 2, "error: --out writes csv, json or parquet"),
        (["releases"], 1, "error: no warehouse at"),
        (["rollback"], 1, "error: no warehouse at"),
        (["gc"], 1, "error: no warehouse at"),
    ],
)
def test_command_line_errors_are_one_sentence_with_the_documented_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    warehouse: str,
    args: list[str],
    code: int,
    message: str,
) -> None:
    # the read commands get a real warehouse, the release commands a mistyped folder
    folder = warehouse if args[0] in ("query", "report") else str(tmp_path / "typo")
    takes_one = ("query", "report", "releases", "rollback", "gc")
    extra = ["--warehouse", folder] if args[0] in takes_one else []
    exit_code, out, err = run_main(monkeypatch, capsys, *args, *extra)
    assert (exit_code, out) == (code, "")
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "typo").exists()  # a mistyped warehouse is not created


@pytest.mark.parametrize("held", ["keep.json", "lines.jsonl", "nested/deeper/x.ndjson"])
def test_synth_refuses_a_folder_that_already_holds_records(tmp_path: Path, held: str) -> None:
    (tmp_path / held).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / held).write_text("{}")
    code, _, err = invoke("synth", "--records", "2", "--out", str(tmp_path))
    assert code == 1 and "already holds records" in err
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")] == [held]


def test_a_source_url_from_the_environment_keeps_its_double_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from occupipe.core.settings import Settings

    monkeypatch.setenv("OCCUPIPE_SOURCE", "https://atlas.example/api/")
    assert Settings().source == "https://atlas.example/api/"


def exit_code_of_a_run_raising(error: BaseException, tmp_path: Path) -> int:
    """The exit code `run_safely` gives a flow that raises `error`."""
    from pipelines.cli.guards import run_safely
    from tests.helpers import options_for

    def runner(options: object) -> RunSummary:
        raise error

    try:
        run_safely(runner, options_for(tmp_path, tmp_path / "wh"), None)
    except typer.Exit as exited:
        return exited.exit_code
    except Interrupted as exc:
        print(exc, file=sys.stderr)  # as `main` says it
        return 130
    raise AssertionError("the run did not fail")


@pytest.mark.parametrize(
    "interruption",
    [KeyboardInterrupt(), RuntimeError("Query interrupted")],
    ids=["keyboard", "inside-a-duckdb-query"],
)
def test_an_interrupted_run_exits_130_without_a_traceback(
    tmp_path: Path, interruption: BaseException, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code_of_a_run_raising(interruption, tmp_path) == 130
    assert capsys.readouterr().err == "interrupted; nothing was published.\n"


def test_ctrl_c_outside_a_run_exits_130_in_a_word(
    warehouse: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.cli import releases

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(releases, "list_releases", interrupt)
    monkeypatch.setattr(sys, "argv", ["occupipe", "releases", "--warehouse", warehouse])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 130 and capsys.readouterr().err.strip() == "interrupted."


def test_table_output_shows_brackets_in_the_data_as_they_are(warehouse: str) -> None:
    sql = "select '^[a-z0-9]+(?:-[a-z0-9]+)*$ [bold]x[/bold]' as \"[col]\""
    code, out, _ = invoke("query", sql, "--warehouse", warehouse)
    assert code == 0
    assert "^[a-z0-9]+(?:-[a-z0-9]+)*$ [bold]x[/bold]" in out and "[col]" in out


def test_a_result_parquet_cannot_hold_fails_in_one_sentence_and_keeps_the_old_file(
    warehouse: str, tmp_path: Path
) -> None:
    target = tmp_path / "keep.parquet"
    target.write_text("keep")
    sql = "select interval 1 day as i"
    code, _, err = invoke(
        "query", sql, "-f", "parquet", "--out", str(target), "--warehouse", warehouse
    )
    assert code == 1 and err.startswith("error: the result cannot be written as Parquet")
    assert target.read_text() == "keep" and [p.name for p in tmp_path.iterdir()] == ["keep.parquet"]


def test_json_output_writes_every_duckdb_value_type_as_text(warehouse: str) -> None:
    sql = (
        "select 'ab'::blob as b, time '10:30:00' as t, interval 2 day as i,"
        " '00000000-0000-0000-0000-000000000001'::uuid as u"
    )
    code, out, _ = invoke("query", sql, "-f", "json", "--warehouse", warehouse)
    assert code == 0
    assert json.loads(out) == [
        {
            "b": "6162",
            "t": "10:30:00",
            "i": "2 days, 0:00:00",
            "u": "00000000-0000-0000-0000-000000000001",
        }
    ]


@pytest.mark.parametrize(
    ("variable", "value", "args", "message"),
    [
        ("OCCUPIPE_BATCH_SIZE", "abc", ["query", "select 1"], "OCCUPIPE_BATCH_SIZE is not valid"),
        ("OCCUPIPE_BATCH_SIZE", "0", ["releases"], "OCCUPIPE_BATCH_SIZE is not valid"),
        (
            "OCCUPIPE_DUCKDB_MEMORY",
            "lots",
            ["run"],
            "OCCUPIPE_DUCKDB_MEMORY='lots' is not a memory",
        ),
        (
            "OCCUPIPE_DUCKDB_MEMORY",
            "1KB",
            ["replay"],
            "OCCUPIPE_DUCKDB_MEMORY='1KB' is not a memory",
        ),
    ],
)
def test_a_bad_setting_in_the_environment_is_a_usage_error_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {message}") and err.count("\n") == 1, err


def test_an_empty_setting_means_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from occupipe.core.duck import DEFAULT_MEMORY_LIMIT, memory_limit
    from occupipe.core.settings import Settings

    for name in ("OCCUPIPE_WAREHOUSE", "OCCUPIPE_SOURCE", "OCCUPIPE_DUCKDB_MEMORY"):
        monkeypatch.setenv(name, "")
    defaults = Settings()
    assert (defaults.warehouse, defaults.source) == (Path("data/warehouse"), "data/raw")
    assert memory_limit() == DEFAULT_MEMORY_LIMIT


def test_a_warehouse_path_that_is_a_file_is_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.helpers import DEMO

    (tmp_path / "afile").write_text("x")
    args = ["run", "--source", str(DEMO), "--warehouse", str(tmp_path / "afile")]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert (
        code == 1 and err == f"error: the warehouse {tmp_path / 'afile'} is a file, not a folder.\n"
    )


def test_an_empty_prefect_home_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.prefect_setup import configure_prefect, default_prefect_home

    monkeypatch.setenv("PREFECT_HOME", "")
    configure_prefect()
    assert os.environ["PREFECT_HOME"] == str(default_prefect_home())


def test_replay_takes_wait_as_run_does() -> None:
    # the lock's message tells a user to pass --wait; replay takes the lock like run
    for command in ("run", "replay"):
        code, out, _ = invoke(command, "--help")
        assert code == 0 and "--wait" in out, command


def test_a_run_on_a_held_warehouse_fails_at_once_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from occupipe.release.lock import check_unlocked, run_lock
    from tests.helpers import DEMO

    refuse_server(monkeypatch, "a run that cannot take the lock")
    warehouse = tmp_path / "wh"
    check_unlocked(warehouse)  # no warehouse yet: nothing holds it
    with run_lock(warehouse):
        args = ["run", "--source", str(DEMO), "--warehouse", str(warehouse)]
        code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 1 and err.startswith(f"error: another run is in progress (pid {os.getpid()} ")
    assert err.endswith("; try again later, or pass --wait SECONDS to wait for it.\n")
    assert err.count("\n") == 1
    check_unlocked(warehouse)  # released: a run may start


def test_a_run_that_waits_for_a_held_warehouse_gives_up_before_any_server_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from occupipe.release.lock import run_lock
    from tests.helpers import DEMO

    refuse_server(monkeypatch, "a run that cannot take the lock")
    warehouse = tmp_path / "wh"
    with run_lock(warehouse):
        args = ["run", "--source", str(DEMO), "--warehouse", str(warehouse), "--wait", "0.5"]
        started = time.monotonic()
        code, _, err = run_main(monkeypatch, capsys, *args)
        waited = time.monotonic() - started
    assert code == 1 and err.startswith("error: another run is in progress")
    assert err.endswith("; still held after 0.5 s, try again later.\n") and waited >= 0.5


@pytest.mark.parametrize(
    ("database", "named"),
    [
        (Path("data/warehouse/occupations.duckdb"), ""),  # the default: found without naming it
        (Path("/srv/my wh/occupations.duckdb"), " --warehouse '/srv/my wh'"),
    ],
)
def test_the_next_steps_name_the_warehouse_they_are_about(
    monkeypatch: pytest.MonkeyPatch, database: Path, named: str
) -> None:
    from pipelines.cli.summary import describe_next_steps

    monkeypatch.delenv("OCCUPIPE_WAREHOUSE", raising=False)
    assert describe_next_steps(database) == (
        f"next: occupipe report coverage{named}, occupipe report review{named},"
        f" occupipe report stats{named}"
    )


def test_the_quarantine_of_a_release_that_failed_its_gate_can_be_listed(tmp_path: Path) -> None:
    from occupipe.core.runs import RunFailed
    from tests.helpers import build, copy_sample

    source = copy_sample(tmp_path / "in", 3)
    (source / "broken.json").write_text("{nope")
    (source / "typed.json").write_text('{"slug": 5}')
    warehouse = tmp_path / "wh"
    with pytest.raises(RunFailed, match=r"all of them: occupipe quarantine --release \S+;?") as e:
        build(source, warehouse, strict=True)
    release = str(e.value).split("--release ")[1].split(";")[0]
    code, out, err = invoke(
        "quarantine", "--release", release, "--warehouse", str(warehouse), "-f", "json"
    )
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert [(r["source_file"], r["stage"]) for r in rows] == [
        ("broken.json", "parse"),
        ("typed.json", "validate"),
    ]
    assert all(r["reason"] and len(r["content_hash"]) == 64 for r in rows)
    code, _, err = invoke("quarantine", "--release", "nope", "--warehouse", str(warehouse))
    assert code == 1 and "there is no release nope" in err


@pytest.mark.parametrize(
    ("files", "source_name", "message"),
    [
        ([], "in", "holds no record files (.json, .jsonl or .ndjson): nothing to build"),
        (["notes.txt"], "in", "(1 other file ignored): nothing to build"),
        (["notes.txt"], "in/notes.txt", "(1 other file ignored): nothing to build"),
    ],
)
def test_a_source_without_record_files_fails_before_any_server_starts(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    files: list[str],
    source_name: str,
    message: str,
) -> None:

    refuse_server(monkeypatch, "a source with nothing to build")
    (tmp_path / "in").mkdir()
    for name in files:
        (tmp_path / "in" / name).write_text("not a record\n")
    source = tmp_path / source_name
    args = ["run", "--source", str(source), "--warehouse", str(tmp_path / "wh")]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 1 and err.startswith(f"error: {source} holds no record files (.json, ")
    assert err.endswith(f"{message}; nothing was run.\n") and err.count("\n") == 1


def test_a_replay_with_nothing_quarantined_says_so_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.helpers import build, copy_sample

    refuse_server(monkeypatch, "a replay with nothing to do")
    warehouse = tmp_path / "wh"
    build(copy_sample(tmp_path / "in", 3), warehouse)
    code, out, err = invoke("replay", "--warehouse", str(warehouse))
    assert (code, err) == (0, "")
    assert out == "nothing is quarantined in the published warehouse: nothing to replay\n"


@pytest.mark.parametrize("warehouse", [".", "in"])
def test_a_source_inside_the_warehouse_is_a_usage_error_before_any_server_starts(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    warehouse: str,
) -> None:

    refuse_server(monkeypatch, "a source inside the warehouse")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.json").write_text("{}")
    args = ["run", "--source", str(tmp_path / "in"), "--warehouse", str(tmp_path / warehouse)]
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert (code, out) == (2, "")
    assert "keep the source outside the warehouse." in err and err.count("\n") == 1


def test_run_help_names_each_flag_once_as_the_readme_does() -> None:
    # an option declared without a name got a `--no-` twin (`--no-allow-shrink`) no one asked for
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})  # no name cut
    assert result.exit_code == 0
    flags = set(re.findall(r"--[a-z][a-z-]*", result.stdout))
    documented = {"--allow-shrink", "--allow-schema-change", "--strict", "--with-html"}
    assert documented <= flags
    assert not {flag for flag in flags if flag.startswith("--no-")}
