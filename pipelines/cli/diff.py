"""`occupipe diff`: what changed between two releases, per table and per occupation."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Annotated

import duckdb
import typer

from occupipe.core.duck import describe_duckdb_error
from occupipe.release.store import ReleaseError
from pipelines.cli.common import (
    FormatOption,
    TextFormat,
    WarehouseOption,
    existing_warehouse,
    fail,
    say,
)
from pipelines.cli.results import emit


def diff(
    old: Annotated[
        str | None, typer.Argument(help="Release to compare from (default: the one before TO).")
    ] = None,
    new: Annotated[
        str | None, typer.Argument(help="Release to compare to (default: current).")
    ] = None,
    fmt: FormatOption = TextFormat.table,
    warehouse: WarehouseOption = None,
) -> None:
    """Rows added, removed and changed per table, and what changed per occupation."""
    from occupipe.release.diff import choose_releases, diff_releases

    folder = existing_warehouse(warehouse)
    try:
        old, new = choose_releases(folder, old, new)
        tables, occupations = diff_releases(folder, old, new)
    except ReleaseError as exc:
        raise fail(f"{exc}.") from None
    except duckdb.Error as exc:
        raise fail(f"cannot compare {old} and {new}: {describe_duckdb_error(exc)}.") from None
    if fmt == "json":
        document = {
            "from": old,
            "to": new,
            "tables": [dataclasses.asdict(table) for table in tables],
            "occupations": [dataclasses.asdict(item) for item in occupations],
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    table_rows = [(t.table, t.added, t.removed, t.changed) for t in tables]
    occupation_rows = [(o.slug, o.change, ", ".join(o.fields)) for o in occupations]
    title = f"tables, {old} -> {new}"
    if fmt == "table":  # the ids above the table: as its title they wrapped at 80 columns
        say(f"releases: {old} -> {new}")
        title = "tables"
    emit(
        fmt,
        [
            (title, ["table", "added", "removed", "changed"], table_rows),
            ("occupations", ["slug", "change", "fields"], occupation_rows),
        ],
    )
