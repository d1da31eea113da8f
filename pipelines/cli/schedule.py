"""`occupipe schedule`: serve the build as a Prefect deployment on a cron schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from occupipe.core.objectstore import is_s3_uri
from occupipe.ingest.http import is_http_source
from pipelines.cli.common import (
    EXIT_USAGE,
    Interrupted,
    WarehouseOption,
    err,
    fail,
    import_prefect_module,
    say,
    settings,
)


def schedule(
    cron: Annotated[str, typer.Option("--cron", help='Cron schedule, e.g. "0 6 * * *" (UTC).')],
    source: Annotated[
        str | None,
        typer.Option(
            help="Folder, file, s3:// prefix or API URL (default data/raw, or $OCCUPIPE_SOURCE)."
        ),
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
    if not (is_http_source(source) or is_s3_uri(source)) and not Path(source).exists():
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
