"""occupipe: turn SOUL Atlas occupation records into an analytics-ready DuckDB warehouse.

The library, by stage (each imports only the ones listed before it):
core (shared types and helpers) <- contract <- ingest / synth <- warehouse <- release
<- reporting / export <- runner. Importing it never imports Prefect: the flows, the
deployments and the CLI live in the application package `pipelines`.

For notebooks: `occupipe.connect`, `occupipe.scan`, `occupipe.releases` and `occupipe.report`
(`occupipe.api`, loaded on first use: `import occupipe` stays cheap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from occupipe.api import OccupipeError, connect, releases, report, scan

__all__ = ["OccupipeError", "connect", "releases", "report", "scan"]


def __getattr__(name: str) -> Any:
    """The API's names, imported from `occupipe.api` when first asked for."""
    if name in __all__:
        from occupipe import api

        return getattr(api, name)
    raise AttributeError(f"module 'occupipe' has no attribute {name!r}")
