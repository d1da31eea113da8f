"""`occupipe docs`: write a release's static data-docs site to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import duckdb
import typer

from occupipe.core.layout import SITE_INDEX
from occupipe.core.settings import find_sql_dir
from occupipe.release.store import ReleaseError, has_warehouse
from pipelines.cli.common import (
    EXIT_USAGE,
    WarehouseOption,
    chosen_release,
    describe_os_error,
    existing_warehouse,
    fail,
    say,
)


def docs(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the site to (created if missing).")
    ],
    release: Annotated[
        str | None, typer.Option(help="Release id (default: the current one).")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Write a release's data-docs site (figures, charts, dictionary, lineage) to a folder."""
    from occupipe.reporting.site import release_source, render_site, write_site

    folder = existing_warehouse(warehouse, EXIT_USAGE)
    chosen = chosen_release(folder, release)
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
