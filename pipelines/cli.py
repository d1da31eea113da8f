"""The `occupipe` command line: run the pipeline, read reports, query the warehouse."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer's own click

from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC
from occupipe.core.duck import check_memory_limit, describe_duckdb_error, memory_limit
from occupipe.core.history import describe_rollback, read_history
from occupipe.core.layout import DATABASE_NAME, INPUT_LEDGER, QUARANTINE_DIR, RELEASES_DIR
from occupipe.core.progress import listen
from occupipe.core.rejection import SourceError
from occupipe.core.runs import RunFailed, RunOptions, RunSummary
from occupipe.core.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_REJECT_RATE,
    DEFAULT_MAX_SHRINK,
    Settings,
    find_sql_dir,
)
from occupipe.ingest.discover import count_until_a_record, describe_source_in_warehouse, is_within
from occupipe.ingest.http import is_http_source
from occupipe.release.catalog import collect_garbage, find_release, list_releases, rollback
from occupipe.release.lock import RunLocked, check_unlocked, run_lock
from occupipe.release.store import ReleaseError, current_release
from occupipe.runner.extract import describe_empty_source
from occupipe.runner.replay import read_quarantine
from occupipe.runner.stages import WorkerLost
from occupipe.warehouse.datatests import DataTestSpecError, failed_tests
from occupipe.warehouse.load import load_past_runs
from occupipe.warehouse.sqlmodels import ModelError
from pipelines.output import TEXT_WRITERS, print_table, write_json_object
from pipelines.prefect_setup import (
    ServerFailed,
    configure_prefect,
    local_api_server,
    wait_for_server,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Turn SOUL Atlas occupation records into a DuckDB warehouse and report on it.\n\n"
    "Exit codes: 0 success, 1 run or data failure, 2 usage error.",
)
# wide, unwrapped lines when output goes to a file or a pipe
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


class TextFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Format(StrEnum):  # a query's result can also be written as Parquet
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


class Failure(Exception):
    """A problem to report to the user as one sentence, with exit code 1."""


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print one sentence on stderr; return the exit to raise with `code`."""
    err.print(Text("error: ", style="bold red") + Text(message), highlight=False, soft_wrap=True)
    return typer.Exit(code)


def parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        message = f"{value!r} is not a date like 2026-06-26"
        raise typer.BadParameter(message, param_hint="'--as-of'") from None


def settings() -> Settings:
    """The OCCUPIPE_* settings; a bad value is the user's to fix (exit 2), not a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = (
            f"OCCUPIPE_{str(first['loc'][0]).upper()}" if first["loc"] else "an OCCUPIPE_ setting"
        )
        raise fail(f"{name} is not valid: {first['msg']}.", EXIT_USAGE) from None


def check_build_settings() -> None:
    """What a build reads from the environment, checked before any work starts."""
    try:
        check_memory_limit(memory_limit())
    except ValueError as exc:
        raise fail(f"{exc}.", EXIT_USAGE) from None


def import_prefect_module(name: str) -> ModuleType:
    """A module of ours that loads Prefect, whose settings (PREFECT_*) are read on import: a bad
    one is the user's to fix (exit 2), not a traceback."""
    try:
        return importlib.import_module(name)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join([exc.title, *(str(part) for part in first["loc"])])
        problem = f"a PREFECT_ setting is not valid ({where}: {first['msg']})"
        raise fail(f"{problem}; check the PREFECT_ variables.", EXIT_USAGE) from None


def describe_os_error(exc: OSError) -> str:
    """An operating-system error as words, with the file it concerns."""
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def warehouse_dir(option: Path | None) -> Path:
    return option if option is not None else settings().warehouse


WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", help="Warehouse folder (default data/warehouse, or $OCCUPIPE_WAREHOUSE)."
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Reference date for staleness, YYYY-MM-DD (default today)."),
]
FormatOption = Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")]
QueryFormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
LimitOption = Annotated[int, typer.Option(min=1, help="Most rows shown in table format.")]


MaxRejectOption = Annotated[
    float,
    typer.Option(
        "--max-reject-rate",
        min=0.0,
        max=1.0,
        help="Fail the run when a larger share of inputs is quarantined.",
    ),
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Fail the run on any quarantine.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", help="Show Prefect's own logs.")]
WaitOption = Annotated[
    float, typer.Option(min=0.0, help="Seconds to wait for a run already in progress.")
]


@app.command()
def run(
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Folder, file, or http(s) base URL of the static API (default data/raw).",
        ),
    ] = None,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = None,
    with_html: Annotated[
        bool, typer.Option("--with-html", help="Keep rendered section HTML.")
    ] = False,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Files per extract batch (default {DEFAULT_BATCH_SIZE}, or"
            " $OCCUPIPE_BATCH_SIZE).",
        ),
    ] = None,
    max_reject_rate: MaxRejectOption = DEFAULT_MAX_REJECT_RATE,
    strict: StrictOption = False,
    max_shrink: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Largest allowed drop in records vs the current release."
        ),
    ] = DEFAULT_MAX_SHRINK,
    allow_shrink: Annotated[
        bool, typer.Option("--allow-shrink", help="Publish even if records dropped more.")
    ] = False,
    allow_schema_change: Annotated[
        bool,
        typer.Option(
            "--allow-schema-change",
            help="Publish even if a published column is removed or retyped.",
        ),
    ] = False,
    wait: WaitOption = 0.0,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Re-extract everything; ignore the cache.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Run the build-warehouse flow and publish a new release if every gate passes."""
    defaults = settings()
    check_build_settings()
    chosen = source or defaults.source
    if "://" in chosen and not is_http_source(chosen):
        raise fail(
            f"cannot read {chosen}: a source is a folder, a file or an http(s) URL.", EXIT_USAGE
        )
    options = RunOptions(
        source=chosen if is_http_source(chosen) else Path(chosen),
        warehouse_dir=warehouse_dir(warehouse),
        sql_dir=find_sql_dir(),
        as_of=parse_date(as_of) or dt.date.today(),
        sections_spec=DEFAULT_SECTIONS_SPEC,
        batch_size=batch_size or defaults.batch_size,
        with_html=with_html,
        max_reject_rate=max_reject_rate,
        strict=strict,
        max_shrink=max_shrink,
        allow_shrink=allow_shrink,
        allow_schema_change=allow_schema_change,
        lock_wait=wait,
        full_refresh=full_refresh,
    )
    if isinstance(options.source, Path):
        if options.source.is_dir() and is_within(options.source, options.warehouse_dir):
            problem = describe_source_in_warehouse(options.source, options.warehouse_dir)
            raise fail(f"{problem}.", EXIT_USAGE)
        check_source(options.source, options.warehouse_dir)
    if options.warehouse_dir.exists() and not options.warehouse_dir.is_dir():
        raise fail(f"the warehouse {options.warehouse_dir} is a file, not a folder.")
    check_not_running(options)
    configure_prefect(verbose)
    with own_api_server() as api_url, progress_bar(enabled=not quiet and out.is_terminal):
        flows = import_prefect_module("pipelines.flows")  # Prefect is imported only for runs
        summary = run_safely(flows.run_build_flow, options, api_url)
    print_summary(summary)


@contextmanager
def own_api_server() -> Iterator[str | None]:
    """The command's own Prefect API server (see `local_api_server`); one that cannot even
    start (PREFECT_HOME not a folder) is one sentence."""
    with ExitStack() as stack:
        try:
            api_url = stack.enter_context(local_api_server())
        except ServerFailed as exc:
            raise fail(f"{exc}.") from None
        yield api_url


@contextmanager
def progress_bar(enabled: bool) -> Iterator[None]:
    """A progress bar over input files while they are extracted (terminals only)."""
    if not enabled:
        yield
        return
    with Progress(
        TextColumn("extracting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=out, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("extract", total=None)
        stop = listen(lambda done, total: bar.update(task, completed=done, total=total))
        try:
            yield
        finally:
            stop()


def run_safely(
    runner: Callable[[RunOptions], RunSummary], options: RunOptions, api_url: str | None
) -> RunSummary:
    """Run a flow; every expected failure becomes one sentence and exit code 1."""
    kept = describe_what_was_kept(options.warehouse_dir)
    try:
        options.warehouse_dir.mkdir(parents=True, exist_ok=True)
        wait_for_server(api_url)
        return runner(options)
    except (KeyboardInterrupt, duckdb.InterruptException):
        raise interrupted(kept) from None
    except RunLocked as exc:
        raise fail(describe_locked(exc, options.lock_wait)) from None
    except (RunFailed, SourceError, ModelError, DataTestSpecError, ServerFailed, WorkerLost) as exc:
        raise fail(f"{exc}; {kept}") from None
    except OSError as exc:
        raise fail(f"{describe_os_error(exc)}; {kept}") from None
    except duckdb.Error as exc:
        reason = describe_duckdb_error(exc)
        raise fail(f"the warehouse could not be built: {reason}; {kept}") from None
    except RuntimeError as exc:
        if str(exc) != QUERY_INTERRUPTED:
            raise
        raise interrupted(kept) from None


def has_quarantine(database: Path) -> bool:
    """Whether the published warehouse quarantined anything (a damaged one: let replay say)."""
    try:
        return bool(read_quarantine(database))
    except duckdb.Error:
        return True


def check_source(source: Path, warehouse: Path) -> None:
    """Before starting a Prefect server: a local source that does not exist or holds no
    record files fails now, in one sentence (the run would say the same ten seconds later)."""
    if not source.exists():
        raise fail(f"source {source} does not exist.")
    try:
        found, others = count_until_a_record(source, warehouse)
    except SourceError as exc:
        raise fail(f"{exc}.") from None
    if not found:
        raise fail(f"{describe_empty_source(source, others)}; nothing was run.")


def describe_locked(exc: RunLocked, waited: float) -> str:
    """One sentence for a warehouse another run holds."""
    if waited:
        return f"{exc}; still held after {waited:g} s, try again later."
    return f"{exc}; try again later, or pass --wait SECONDS to wait for it."


def check_not_running(options: RunOptions, poll: float = 0.2) -> None:
    """Before starting a Prefect server: a warehouse another run holds fails now, in one
    sentence, or once --wait has passed with the warehouse still held (the run itself then
    takes the lock, waiting again should another run take it first)."""
    deadline = time.monotonic() + options.lock_wait
    while True:
        try:
            check_unlocked(options.warehouse_dir)
            return
        except RunLocked as exc:
            if time.monotonic() >= deadline:
                raise fail(describe_locked(exc, options.lock_wait)) from None
        time.sleep(poll)


def describe_what_was_kept(warehouse: Path) -> str:
    """What a failed or interrupted run leaves published, as the end of its sentence."""
    if current_release(warehouse) is None:
        return "nothing was published."
    return "the previous warehouse was left as it was."


class Interrupted(Exception):
    """Ctrl-C that a command reports itself: `main` prints the sentence (if any), exit 130."""


def interrupted(kept: str) -> Interrupted:
    """A run interrupted, and what it left published."""
    return Interrupted(f"interrupted; {kept}")


# how DuckDB reports Ctrl-C that lands inside a query run from Python (not as KeyboardInterrupt)
QUERY_INTERRUPTED = "Query interrupted"


@app.command()
def replay(
    warehouse: WarehouseOption = None,
    as_of: AsOfOption = None,
    wait: WaitOption = 0.0,
    verbose: VerboseOption = False,
) -> None:
    """Re-validate the quarantined inputs kept with the warehouse; load those that now pass."""
    check_build_settings()
    folder = warehouse_dir(warehouse)
    options = RunOptions(
        source=folder / QUARANTINE_DIR,  # what is replayed (the manifest says so)
        warehouse_dir=folder,
        sql_dir=find_sql_dir(),
        as_of=parse_date(as_of) or dt.date.today(),
        sections_spec=DEFAULT_SECTIONS_SPEC,
        max_reject_rate=1.0,
        lock_wait=wait,
    )
    if not (options.warehouse_dir / DATABASE_NAME).exists():
        raise fail(f"no warehouse at {options.warehouse_dir}; run `occupipe run` first.")
    if not has_quarantine(options.warehouse_dir / DATABASE_NAME):
        say("nothing is quarantined in the published warehouse: nothing to replay")
        return  # at once: no Prefect server for a no-op (it took 8-9 s)
    check_not_running(options)
    configure_prefect(verbose)
    with own_api_server() as api_url:
        flows = import_prefect_module("pipelines.flows")
        print_summary(run_safely(flows.run_replay_flow, options, api_url))


@app.command("quarantine")
def list_quarantine(
    fmt: FormatOption = TextFormat.table,
    warehouse: WarehouseOption = None,
    release: Annotated[
        str | None,
        typer.Option(help="A release id, a failed one included (default: the published one)."),
    ] = None,
    limit: LimitOption = 100,
) -> None:
    """List the quarantined inputs of the published warehouse, with stage and reason."""
    columns = ["source_file", "stage", "reason", "content_hash"]
    if release is not None:
        rows = read_release_quarantine(warehouse, release)
    else:
        con = connect_read_only(warehouse)
        query = f"select {', '.join(columns)} from quarantine order by source_file"
        rows = con.execute(query).fetchall()
    cut = fmt == "table" and len(rows) > limit
    emit(fmt, [("quarantine", columns, rows[:limit] if cut else rows)])
    if cut:
        err.print(describe_cut(limit))


def read_release_quarantine(warehouse: Path | None, release: str) -> list[tuple[Any, ...]]:
    """A release's quarantined inputs, from its input ledger: a release that failed a gate
    has no warehouse to ask."""
    folder = warehouse_dir(warehouse)
    try:
        find_release(folder, release)
        ledger = pq.read_table(folder / RELEASES_DIR / release / INPUT_LEDGER)
    except ReleaseError as exc:
        raise fail(f"{exc}; `occupipe releases` lists them.") from None
    except (OSError, pa.ArrowException) as exc:
        problem = str(exc).splitlines()[0]
        raise fail(f"release {release} has no readable input ledger: {problem}.") from None
    if "reason" not in ledger.column_names:
        raise fail(f"release {release} predates the reasons in its input ledger.")
    quarantined = ledger.filter(pc.starts_with(ledger["outcome"], "quarantined:"))
    return [
        (row["source"], row["outcome"].removeprefix("quarantined:"), row["reason"], row["sha256"])
        for row in quarantined.to_pylist()
    ]


def say(text: str) -> None:
    """Print a line as is: no markup, no highlighting, no wrapping."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def print_summary(summary: RunSummary) -> None:
    """The end-of-run summary: inputs, outcome, tables, stage times, warnings."""
    out.print(f"[bold]occupipe run {summary.run_id}[/]", soft_wrap=True)
    say(
        f"inputs {summary.inputs}: loaded {summary.loaded}, quarantined {summary.rejected},"
        f" ignored {summary.ignored}"
    )
    if summary.changes:
        changes = ", ".join(f"{name} {count}" for name, count in summary.changes.items())
        say(f"input files since the last run: {changes}")
    if summary.unchanged_since:
        say(f"nothing changed since release {summary.unchanged_since}: it stays current")
        say(f"warehouse: {summary.warehouse}")
        return
    for rejection in summary.rejections[:10]:
        say(f"  quarantined {rejection.source_file} [{rejection.stage}]: {rejection.reason}")
    if len(summary.rejections) > 10:
        say(f"  ... and {len(summary.rejections) - 10} more: see `occupipe quarantine`")
    tables = ", ".join(f"{name} {rows}" for name, rows in summary.table_rows.items())
    say(f"tables written ({len(summary.table_rows)}): {tables}")
    stages = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in summary.stage_seconds.items())
    say(f"time per stage: {stages}")
    results = summary.test_results
    say(f"data tests: {sum(r.passed for r in results)} of {len(results)} passed")
    for result in failed_tests(results, "warn"):
        example = dict(zip(result.columns, result.sample[0], strict=False))
        say(f"  warn {result.name}: {result.failures} row(s), e.g. {example}")
    say(f"warehouse: {summary.warehouse}")
    say(describe_next_steps(summary.warehouse))


def describe_next_steps(database: Path | None) -> str:
    """Commands to try next, naming the warehouse unless it is the one they find anyway."""
    folder = database.parent if database is not None else None
    named = ""
    if folder is not None and folder.resolve() != settings().warehouse.resolve():
        named = f" --warehouse {shlex.quote(str(folder))}"
    commands = ("report coverage", "report review", "report stats")
    return "next: " + ", ".join(f"occupipe {command}{named}" for command in commands)


def existing_warehouse(option: Path | None) -> Path:
    """The warehouse folder, which must hold releases (a mistyped path is not a new warehouse)."""
    folder = warehouse_dir(option)
    if not (folder / RELEASES_DIR).is_dir():
        raise fail(f"no warehouse at {folder}; run `occupipe run` first.")
    return folder


def connect_read_only(warehouse: Path | None) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only, with no access to files outside it."""
    path = warehouse_dir(warehouse) / DATABASE_NAME
    if not path.exists():
        raise fail(f"no warehouse at {path}; run `occupipe run` first.")
    try:
        con = duckdb.connect(str(path), read_only=True)
        # the history log is newer than any release (rollbacks come after): read it live
        load_past_runs(con, read_history(path.parent), "temp.run_history")
        con.execute("set enable_external_access = false")
    except duckdb.Error as exc:
        raise fail(f"cannot open {path}: {str(exc).splitlines()[0]}") from None
    return con


def emit(
    fmt: TextFormat | Format, parts: list[tuple[str, list[str], list[tuple[Any, ...]]]]
) -> None:
    """Print one or more result sets in the chosen format."""
    if fmt != "table":
        print_parts(fmt, [(name, columns, [rows]) for name, columns, rows in parts], len(parts))
        return
    for name, columns, rows in parts:
        print_table(out, name if len(parts) > 1 else None, columns, rows)


def print_parts(
    fmt: str, parts: Iterable[tuple[str, list[str], Iterable[Sequence[Any]]]], count: int
) -> None:
    """Print `count` named results as csv or json, each chunk of rows as it comes: one part as
    it is, several as one JSON object (name -> rows) or as CSV blocks under `# name`."""
    if fmt == "json" and count > 1:
        write_json_object(sys.stdout, parts)
        return
    for index, (name, columns, chunks) in enumerate(parts):
        prefix = f"# {name}\n" if fmt == "csv" and count > 1 else ""
        sys.stdout.write(("\n" if index else "") + prefix)
        TEXT_WRITERS[fmt](sys.stdout, columns, chunks)


def report_models(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """The report views making up report NAME: the view NAME itself, or every NAME_* view."""
    views = [
        row[0]
        for row in con.execute(
            "select view_name from duckdb_views() where not internal and schema_name = 'main'"
            " order by view_name"
        ).fetchall()
    ]
    reports = [v for v in views if not v.startswith("stg_")]  # staging views are not reports
    if name in reports:
        return [name]
    return [v for v in reports if v.startswith(f"{name}_")]


REPORTS_HELP = "coverage, review, wordcount or stats (or any report view's full name)."


@app.command()
def report(
    name: Annotated[str | None, typer.Argument(help=REPORTS_HELP)] = None,
    fmt: FormatOption = TextFormat.table,
    as_of: AsOfOption = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML report with charts here.")
    ] = None,
    limit: LimitOption = 100,
    warehouse: WarehouseOption = None,
) -> None:
    """Print a report computed by the SQL models in sql/reports (or --html FILE: charts)."""
    day = parse_date(as_of)
    if html_file is not None and name is not None:
        raise fail("--html writes every chart at once: leave out the report name.", EXIT_USAGE)
    con = connect_read_only(warehouse)
    if day:
        con.execute("set variable as_of = ?", [day])
    if html_file is not None:
        from occupipe.reporting.html import render_report

        try:
            html_file.write_text(render_report(con), encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write {html_file}: {exc.strerror or exc}") from None
        say(f"wrote {html_file}")
        return
    if name is None:
        raise fail(f"name a report: {REPORTS_HELP}", EXIT_USAGE)
    models = report_models(con, name)
    if not models:
        raise fail(f"there is no report called {name!r}; try {REPORTS_HELP}", EXIT_USAGE)
    if models == ["stats"]:
        if fmt == "csv":
            raise fail("stats is one JSON document: leave out --format csv.", EXIT_USAGE)
        row = con.execute("select stats::varchar from stats").fetchone()
        sys.stdout.write((row[0] if row else "{}") + "\n")
        return
    if fmt != "table":
        print_report_parts(con, models, fmt)
        return
    parts, cut = [], []
    for model in models:  # at 100k records review_queue alone has 50k rows to draw
        cursor = con.execute(f"select * from {model}")
        columns = [d[0] for d in cursor.description or []]
        rows, more = fetch_for_table(cursor, limit)
        if more:
            cut.append(model)
        parts.append((model, columns, rows))
    emit(fmt, parts)
    for model in cut:
        err.print(describe_cut(limit, model if len(parts) > 1 else None))


def print_report_parts(con: duckdb.DuckDBPyConnection, models: list[str], fmt: str) -> None:
    """Print report parts as csv or json as their rows come (`chunks_of`): at 100k records a
    part holds up to 50k rows."""

    def parts() -> Iterator[tuple[str, list[str], Iterator[list[Any]]]]:
        for model in models:  # each part read to its end before the next is queried
            cursor = con.execute(f"select * from {model}")
            yield model, [d[0] for d in cursor.description or []], chunks_of(cursor)

    print_parts(fmt, parts(), len(models))


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A SQL query (read-only).")],
    fmt: QueryFormatOption = Format.table,
    limit: LimitOption = 100,
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the result to this file.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Run a read-only SQL query against the warehouse (parquet needs --out)."""
    if fmt is Format.parquet and output is None:
        raise fail("--format parquet needs --out FILE.", EXIT_USAGE)
    if fmt is Format.table and output is not None:
        raise fail("--out writes csv, json or parquet: choose one with --format.", EXIT_USAGE)
    con = connect_read_only(warehouse)
    empty = "the query is empty: give a SQL statement to run."
    try:
        if fmt is Format.parquet:
            assert output is not None
            relation = con.sql(sql)
            if relation is None:
                raise fail(empty, EXIT_USAGE)
            check_distinct_names(relation.columns, fmt)
            write_parquet_result(relation, output)
            say(f"wrote {output}")
            return
        cursor = con.execute(sql)
        if cursor is None:  # only whitespace or comments
            raise fail(empty, EXIT_USAGE)
        columns = [d[0] for d in cursor.description or []]
        if fmt is Format.json:
            check_distinct_names(columns, fmt)
        if output is not None:
            written = write_text_result(fmt, columns, cursor, output)
            say(f"wrote {written} rows to {output}")
            return
        if fmt is not Format.table:  # printed as the rows come, like a file (`write_text_result`)
            TEXT_WRITERS[fmt](sys.stdout, columns, chunks_of(cursor))
            return
        rows, more = fetch_for_table(cursor, limit)
    except (duckdb.Error, pa.ArrowException) as exc:
        raise fail(f"the query failed: {str(exc).splitlines()[0]}") from None
    emit(fmt, [("query", columns, rows)])
    if more:
        err.print(describe_cut(limit))


def fetch_for_table(cursor: duckdb.DuckDBPyConnection, limit: int) -> tuple[list[Any], bool]:
    """At most `limit` rows of a result, and whether it has more."""
    rows = cursor.fetchmany(limit)
    return rows, len(rows) == limit and cursor.fetchone() is not None


def describe_cut(limit: int, part: str | None = None) -> str:
    """The note under a table cut at `limit` rows (of one report part, if named)."""
    shown = f"{limit} rows" if limit > 1 else "row"
    where = f"{part}: " if part else ""
    return f"({where}showing the first {shown}; use --limit or --format csv for more)"


def check_distinct_names(columns: list[str], fmt: Format) -> None:
    """JSON objects and Parquet schemas keep one column per name: a result naming two columns
    alike would lose one (JSON) or make a file readers refuse (Parquet)."""
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        names = ", ".join(repeated)
        raise fail(
            f"the result has more than one column named {names}: give each its own name"
            f" (`as`) for --format {fmt.value}.",
            EXIT_USAGE,
        )


# rows fetched at a time when a result is written to a file (at most one such batch in memory:
# the whole of 100k records' sections took 1.7 GB as Parquet this way)
RESULT_BATCH_ROWS = 50_000


def write_parquet_result(relation: duckdb.DuckDBPyRelation, output: Path) -> None:
    """Write a query's result as Parquet, batch by batch (`write_result_file`)."""

    def write(path: Path) -> None:
        reader = relation.to_arrow_reader(RESULT_BATCH_ROWS)
        with pq.ParquetWriter(path, reader.schema, compression="zstd") as writer:
            while batch := read_next_batch(reader):
                writer.write_batch(batch)

    try:
        write_result_file(output, write)
    except pa.ArrowException as exc:
        first = str(exc).splitlines()[0]
        raise fail(f"the result cannot be written as Parquet ({first}); try csv or json") from None


def read_next_batch(reader: pa.RecordBatchReader) -> pa.RecordBatch | None:
    """The next batch of a query's result (None at its end). The query failing midway comes
    through Arrow as an OSError: raised here as the DuckDB error it is, not as a write fault."""
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None
    except (OSError, pa.ArrowException) as exc:
        raise duckdb.Error(str(exc)) from None


def write_text_result(
    fmt: TextFormat | Format, columns: list[str], cursor: duckdb.DuckDBPyConnection, output: Path
) -> int:
    """Write a query's result as csv or json, batch by batch (`write_result_file`); rows."""
    chunks = chunks_of(cursor)
    written = 0

    def write(path: Path) -> None:
        nonlocal written
        with path.open("w", encoding="utf-8", newline="") as out:
            written = TEXT_WRITERS[fmt](out, columns, chunks)

    write_result_file(output, write)
    return written


def chunks_of(cursor: duckdb.DuckDBPyConnection) -> Iterator[list[Any]]:
    """A result's rows, `RESULT_BATCH_ROWS` at a time."""
    return iter(lambda: cursor.fetchmany(RESULT_BATCH_ROWS), [])


def write_result_file(output: Path, write: Callable[[Path], None]) -> None:
    """Write a file through a temporary one beside it: a failure, or a query that fails
    midway, leaves whatever was at `output` before."""
    partial = output.with_name(f".{output.name}.partial")
    try:
        write(partial)
        os.replace(partial, output)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the export to.")],
    tables: Annotated[
        str | None, typer.Option(help="Comma-separated tables (default: all).")
    ] = None,
    release: Annotated[str | None, typer.Option(help="Release id (default: current).")] = None,
    partition_by: Annotated[
        str | None, typer.Option("--partition-by", help="Partition by: category.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Export a release's tables as Parquet with a manifest and a data dictionary."""
    from occupipe.export.writer import export_release

    names = [t.strip() for t in tables.split(",")] if tables else None
    try:
        manifest = export_release(warehouse_dir(warehouse), out, names, release, partition_by)
    except ReleaseError as exc:
        raise fail(
            f"{exc}.", EXIT_USAGE if "unknown" in str(exc) or "only" in str(exc) else 1
        ) from None
    except OSError as exc:
        raise fail(f"cannot export to {out}: {describe_os_error(exc)}") from None
    say(f"exported {len(manifest['tables'])} table(s) of release {manifest['release_id']} to {out}")


@app.command()
def schedule(
    cron: Annotated[str, typer.Option("--cron", help='Cron schedule, e.g. "0 6 * * *" (UTC).')],
    source: Annotated[
        str | None,
        typer.Option(help="Folder, file or API URL (default data/raw, or $OCCUPIPE_SOURCE)."),
    ] = None,
    warehouse: WarehouseOption = None,
    name: Annotated[str, typer.Option(help="Deployment name.")] = "occupipe-build",
) -> None:
    """Serve the build as a Prefect deployment on a cron schedule (needs a Prefect server)."""
    defaults = settings()
    source = source or defaults.source
    folder = warehouse if warehouse is not None else defaults.warehouse
    if len(cron.split()) != 5:  # croniter would also take seconds and years, read otherwise
        raise fail(
            f"invalid schedule {cron!r}: a cron schedule has 5 fields"
            " (minute hour day-of-month month day-of-week)",
            EXIT_USAGE,
        )
    if not is_http_source(source) and not Path(source).exists():
        raise fail(f"source {source} does not exist; every scheduled run would fail", EXIT_USAGE)
    scheduling = import_prefect_module("pipelines.schedule")
    parameters = {"source": source, "warehouse": str(folder)}

    def warn_takeover(previous: dict[str, Any]) -> None:
        err.print(
            f"warn: deployment {name} was registered with {previous}; it now runs"
            f" {parameters} (another warehouse's schedule needs a --name of its own)",
            markup=False,
        )

    try:
        scheduling.serve_schedule(cron, parameters, name, warn_takeover)
    except scheduling.SchedulingUnavailable as exc:
        raise fail(f"{exc}.") from None
    except ValueError as exc:
        raise fail(f"invalid schedule {cron!r}: {str(exc).splitlines()[0]}", EXIT_USAGE) from None
    # serving ends only when interrupted (Prefect takes the Ctrl-C and returns)
    say(f"stopped serving {name}; its schedule is paused until it is served again")
    raise Interrupted()  # said: no run was under way


@app.command()
def synth(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write <slug>.json files to (no records in it).")
    ],
    records: Annotated[int, typer.Option("--records", min=1, help="How many records.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 7,
) -> None:
    """Write a deterministic corpus of realistic synthetic records (marked `synthetic: true`)."""
    from occupipe.synth.corpus import write_corpus

    if out.is_dir() and count_until_a_record(out)[0]:  # .json, .jsonl or .ndjson, at any depth
        # new records beside old ones would make a corpus nobody generated (and overwrite some)
        raise fail(f"{out} already holds records; choose an empty folder or remove them first.")
    try:
        paths = write_corpus(out, records, seed)
    except OSError as exc:
        raise fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    size = sum(p.stat().st_size for p in paths)
    say(f"wrote {len(paths)} synthetic records ({size / 1e6:.1f} MB) to {out}")


@app.command()
def releases(fmt: FormatOption = TextFormat.table, warehouse: WarehouseOption = None) -> None:
    """List releases: id, time, records, gates, status; the current one is marked."""
    folder = existing_warehouse(warehouse)
    rows = [
        (
            "*" if r.is_current else "",
            r.release_id,
            r.created_at,
            r.records,
            r.gates,
            r.status,
        )
        for r in list_releases(folder)
    ]
    emit(
        fmt,
        [("releases", ["current", "release", "finished_at", "records", "gates", "status"], rows)],
    )


@app.command("rollback")
def rollback_release(
    release: Annotated[
        str | None, typer.Argument(help="Release id (default: previous good).")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Make an earlier release current again, in one atomic step."""
    folder = existing_warehouse(warehouse)
    try:
        with run_lock(folder):
            previous, target = rollback(folder, release)
    except (ReleaseError, RunLocked) as exc:
        raise fail(f"{exc}.") from None
    except OSError as exc:
        raise fail(f"cannot roll back in {folder}: {describe_os_error(exc)}.") from None
    moved = describe_rollback(previous, target)
    say(f"{moved} from {previous} to {target}; {folder / DATABASE_NAME} now serves {target}")


@app.command()
def gc(
    keep: Annotated[int, typer.Option(min=1, help="How many newest releases to keep.")] = 10,
    warehouse: WarehouseOption = None,
) -> None:
    """Remove old releases; the current and the previous good release are always kept."""
    folder = existing_warehouse(warehouse)
    try:
        with run_lock(folder):
            removed = collect_garbage(folder, keep)
    except RunLocked as exc:
        raise fail(f"{exc}.") from None
    except OSError as exc:
        raise fail(f"cannot remove releases in {folder}: {describe_os_error(exc)}.") from None
    say(f"removed {len(removed)} release(s)" + (f": {', '.join(removed)}" if removed else ""))


def main() -> None:
    """Entry point: run the CLI; usage errors and interruptions become one sentence."""
    try:
        code = app(prog_name="occupipe", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()  # the help text, as for --help
        code = EXIT_USAGE
    except UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "occupipe"
        # typer words a bad choice "Value error, 'xml' is not one of ...": the first two words
        # say nothing
        problem = exc.format_message().rstrip(".").replace("Value error, ", "")
        code = fail(f"{problem}; see `{command} --help`.", EXIT_USAGE).exit_code
    except typer.TyperException as exc:  # other errors of the command line itself
        code = fail(f"{exc.format_message().rstrip('.')}.").exit_code
    except typer.Abort:  # end of input at a prompt
        code = fail("aborted.").exit_code
    except Interrupted as exc:
        if str(exc):
            err.print(str(exc), markup=False)
        code = EXIT_INTERRUPTED
    else:
        if code == EXIT_INTERRUPTED:  # typer's answer to Ctrl-C anywhere else
            err.print("interrupted.")
    sys.exit(code or EXIT_OK)


if __name__ == "__main__":
    main()
