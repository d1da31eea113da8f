"""The CLI's errors: one sentence and the documented exit code, interruptions, settings."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from occupipe.core.runs import RunSummary
from pipelines.cli import app, main
from pipelines.cli.common import Interrupted
from tests.helpers import invoke, run_main


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


def test_run_help_names_each_flag_once_as_the_readme_does() -> None:
    # an option declared without a name got a `--no-` twin (`--no-allow-shrink`) no one asked for
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})  # no name cut
    assert result.exit_code == 0
    flags = set(re.findall(r"--[a-z][a-z-]*", result.stdout))
    documented = {"--allow-shrink", "--allow-schema-change", "--strict", "--with-html"}
    assert documented <= flags
    assert not {flag for flag in flags if flag.startswith("--no-")}
