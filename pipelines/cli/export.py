"""`occupipe export`: a release's tables as Parquet or Delta Lake, in a folder or on S3."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from occupipe.core.objectstore import ObjectStoreError
from occupipe.release.store import ReleaseError
from pipelines.cli.common import (
    EXIT_USAGE,
    WarehouseOption,
    describe_os_error,
    fail,
    say,
    warehouse_dir,
)


class ExportFormat(StrEnum):
    parquet = "parquet"
    delta = "delta"


def export(
    out: Annotated[
        str, typer.Option("--out", help="Folder or s3://BUCKET/PREFIX to write the export to.")
    ],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="parquet files or delta tables.")
    ] = ExportFormat.parquet,
    tables: Annotated[
        str | None, typer.Option(help="Comma-separated tables (default: all).")
    ] = None,
    release: Annotated[str | None, typer.Option(help="Release id (default: current).")] = None,
    partition_by: Annotated[
        str | None, typer.Option("--partition-by", help="Partition by: category (parquet).")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Export a release's tables as Parquet or Delta Lake, with a manifest and a data dictionary."""
    from occupipe.export.targets import export as export_release
    from occupipe.export.writer import ExportUsageError

    names = [t.strip() for t in tables.split(",")] if tables else None
    try:
        result = export_release(
            warehouse_dir(warehouse), out, fmt.value, names, release, partition_by
        )
    except ExportUsageError as exc:
        raise fail(f"{exc}.", EXIT_USAGE) from None
    except (ReleaseError, ObjectStoreError) as exc:
        raise fail(f"{exc}.") from None
    except OSError as exc:
        raise fail(f"cannot export to {out}: {describe_os_error(exc)}") from None
    say(result.summary())
