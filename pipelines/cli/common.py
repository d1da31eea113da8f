"""What the commands share: exit codes, consoles, options, settings, one-sentence failures."""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Annotated

import duckdb
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from occupipe.core.history import read_history
from occupipe.core.layout import DATABASE_NAME, RELEASES_DIR
from occupipe.core.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

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


WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", help="Warehouse folder (default data/warehouse, or $OCCUPIPE_WAREHOUSE)."
    ),
]
ReleaseOption = Annotated[
    str | None, typer.Option("--release", help="Release id (default: the current one).")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Reference date for staleness, YYYY-MM-DD (default today)."),
]
FormatOption = Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")]
QueryFormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
LimitOption = Annotated[int, typer.Option(min=1, help="Most rows shown in table format.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", help="Show Prefect's own logs.")]
WaitOption = Annotated[
    float, typer.Option(min=0.0, help="Seconds to wait for a run already in progress.")
]


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print one sentence on stderr; return the exit to raise with `code`."""
    err.print(Text("error: ", style="bold red") + Text(message), highlight=False, soft_wrap=True)
    return typer.Exit(code)


class Interrupted(Exception):
    """Ctrl-C that a command reports itself: `main` prints the sentence (if any), exit 130."""


def say(text: str) -> None:
    """Print a line as is: no markup, no highlighting, no wrapping."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def parse_date(value: str | None) -> dt.date | None:
    """The --as-of date (None if not given); anything but YYYY-MM-DD is a usage error."""
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
    """The warehouse folder: --warehouse, or the one the settings name."""
    return option if option is not None else settings().warehouse


def existing_warehouse(option: Path | None, code: int = EXIT_FAILED) -> Path:
    """The warehouse folder, which must hold releases (a mistyped path is not a new warehouse);
    `code`: the exit when it does not."""
    folder = warehouse_dir(option)
    if not (folder / RELEASES_DIR).is_dir():
        raise fail(f"no warehouse at {folder}; run `occupipe run` first.", code)
    return folder


def chosen_release(warehouse: Path | None, release: str | None) -> tuple[Path, str]:
    """The warehouse a command names (it must exist) and the release it names there, or the
    current one; a missing warehouse or no current release is a usage error."""
    from occupipe.release.store import current_release

    folder = existing_warehouse(warehouse, EXIT_USAGE)
    chosen = release or current_release(folder)
    if chosen is None:
        raise fail(f"no release of {folder} is current; name one with --release.", EXIT_USAGE)
    return folder, chosen


def connect_read_only(warehouse: Path | None) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only, with no access to files outside it."""
    from occupipe.warehouse.load import load_past_runs  # not at the top: every command would

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
