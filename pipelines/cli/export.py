"""`occupipe export`: a release's tables as Parquet with a manifest and a data dictionary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from occupipe.release.store import ReleaseError
from pipelines.cli.common import (
    EXIT_USAGE,
    WarehouseOption,
    describe_os_error,
    fail,
    say,
    warehouse_dir,
)


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
