"""`occupipe verify` and `occupipe docs`: a release's files checked against its manifest, or
rendered as a static data-docs site."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer

from occupipe.core.layout import SITE_INDEX
from occupipe.core.objectstore import ObjectStoreError
from occupipe.core.settings import find_sql_dir
from occupipe.release.store import ReleaseError, has_warehouse
from occupipe.release.verify import Verification, verify_export, verify_release
from pipelines.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    ReleaseOption,
    WarehouseOption,
    chosen_release,
    describe_os_error,
    fail,
    say,
)
from pipelines.cli.output import render_json


class VerifyFormat(StrEnum):
    table = "table"
    json = "json"


def verify(
    release: ReleaseOption = None,
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
    return verify_release(*chosen_release(warehouse, release))


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


def docs(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the site to (created if missing).")
    ],
    release: ReleaseOption = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Write a release's data-docs site (figures, charts, dictionary, lineage) to a folder."""
    from occupipe.reporting.site import release_source, render_site, write_site

    folder, chosen = chosen_release(warehouse, release)
    if not has_warehouse(folder, chosen):
        missing = f"release {chosen} of {folder} has no warehouse file"
        raise fail(f"{missing}; see `occupipe releases`.", EXIT_USAGE)
    if out.exists() and not out.is_dir():
        raise fail(f"{out} is a file; --out names a folder.", EXIT_USAGE)
    try:
        source, gates = release_source(folder, chosen, find_sql_dir())
        written = write_site(render_site(source), gates, out)
    except ReleaseError as exc:
        raise fail(f"{exc}.", EXIT_USAGE) from None
    except OSError as exc:
        raise fail(f"cannot write the site to {out}: {describe_os_error(exc)}.") from None
    except duckdb.Error as exc:
        raise fail(f"cannot read release {chosen}: {str(exc).splitlines()[0]}.") from None
    say(f"wrote {len(written)} pages of release {chosen} to {out}; open {out / SITE_INDEX}")
