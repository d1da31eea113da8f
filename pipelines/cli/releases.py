"""`occupipe quarantine`, `releases`, `rollback` and `gc`: a warehouse's releases and rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from occupipe.core.history import describe_rollback
from occupipe.core.layout import DATABASE_NAME, INPUT_LEDGER, RELEASES_DIR
from occupipe.release.catalog import collect_garbage, find_release, list_releases, rollback
from occupipe.release.lock import RunLocked, run_lock
from occupipe.release.store import ReleaseError
from occupipe.reporting.observations import rollback_event
from pipelines.cli.common import (
    FormatOption,
    LimitOption,
    TextFormat,
    WarehouseOption,
    connect_read_only,
    describe_os_error,
    err,
    existing_warehouse,
    fail,
    say,
    warehouse_dir,
)
from pipelines.cli.events import send_if_observed
from pipelines.cli.results import describe_cut, emit


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
    import pyarrow as pa  # here, not at the top: every command would pay for pyarrow.compute
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

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
    # for automations: only to a Prefect API already in use (none is started for it)
    send_if_observed(rollback_event(folder, previous, target))


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
