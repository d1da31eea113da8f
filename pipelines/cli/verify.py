"""`occupipe verify`: re-hash a release's or an export's files against its manifest."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from occupipe.core.objectstore import ObjectStoreError
from occupipe.release.store import ReleaseError
from occupipe.release.verify import Verification, verify_export, verify_release
from pipelines.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    WarehouseOption,
    chosen_release,
    describe_os_error,
    existing_warehouse,
    fail,
    say,
)
from pipelines.cli.output import render_json


class VerifyFormat(StrEnum):
    table = "table"
    json = "json"


def verify(
    release: Annotated[
        str | None, typer.Option(help="Release id (default: the current one).")
    ] = None,
    export: Annotated[
        str | None,
        typer.Option(help="An export's folder (or s3://BUCKET/PREFIX) to verify instead."),
    ] = None,
    fmt: Annotated[
        VerifyFormat, typer.Option("--format", "-f", help="Output format.")
    ] = VerifyFormat.table,
    warehouse: WarehouseOption = None,
) -> None:
    """Re-hash a release's (or an export's) files against its manifest; name any that differ."""
    if release is not None and export is not None:
        raise fail("give --release or --export, not both: each is verified apart.", EXIT_USAGE)
    where = export if export is not None else "the release"
    try:
        result = verify_export(export) if export is not None else verify_chosen(warehouse, release)
    except ReleaseError as exc:
        raise fail(f"{exc}.", EXIT_USAGE) from None
    except ObjectStoreError as exc:
        raise fail(f"{exc}.") from None
    except OSError as exc:
        raise fail(f"cannot verify {where}: {describe_os_error(exc)}.") from None
    if fmt == VerifyFormat.json:
        say(render_json(as_json(result)))
    else:
        for problem in result.problems:
            say(problem.describe())
        say(result.summary())
    if not result.intact:
        raise typer.Exit(EXIT_FAILED)


def verify_chosen(warehouse: Path | None, release: str | None) -> Verification:
    """Verify the named release of the warehouse, or its current one."""
    folder = existing_warehouse(warehouse, EXIT_USAGE)
    return verify_release(folder, chosen_release(folder, release))


def as_json(result: Verification) -> dict[str, Any]:
    """A verification as plain JSON values, with whole sha256 digests."""
    return {
        "target": result.target,
        "intact": result.intact,
        "files_verified": result.checked,
        "problems": [
            {
                "file": p.name,
                "problem": p.kind,
                "expected_sha256": p.expected,
                "actual_sha256": p.actual,
                "detail": p.detail,
            }
            for p in result.problems
        ],
    }
