"""The warehouse for notebooks: read-only DuckDB connections and polars frames of any release."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from occupipe.core.history import read_history
from occupipe.core.layout import DATABASE_NAME, PARQUET_DIR, RELEASES_DIR
from occupipe.core.settings import Settings
from occupipe.ingest.tables import TABLES_BY_NAME
from occupipe.release.catalog import list_releases
from occupipe.release.store import current_release, release_path
from occupipe.warehouse.load import load_past_runs

if TYPE_CHECKING:
    import polars as pl

__all__ = ["OccupipeError", "connect", "releases", "report", "scan"]


class OccupipeError(Exception):
    """What the API cannot do, in one sentence (no warehouse, an unknown table or release)."""


def warehouse_folder(warehouse: str | Path | None) -> Path:
    """The warehouse asked for, or the CLI's default: `OCCUPIPE_WAREHOUSE`, then
    `data/warehouse`; one that holds no releases is an error."""
    folder = Path(warehouse) if warehouse is not None else Settings().warehouse
    if not (folder / RELEASES_DIR).is_dir():
        raise OccupipeError(f"no warehouse at {folder}; build one with `occupipe run`")
    return folder


def release_folder(warehouse: str | Path | None, release: str | None) -> Path:
    """The folder of a release (default: the current one)."""
    folder = warehouse_folder(warehouse)
    chosen = release or current_release(folder)
    if chosen is None:
        raise OccupipeError(f"the warehouse at {folder} has no current release")
    path = release_path(folder, chosen)
    if "/" in chosen or chosen.startswith(".") or not path.is_dir():
        raise OccupipeError(f"the warehouse at {folder} has no release {chosen!r}")
    return path


def connect(
    warehouse: str | Path | None = None, release: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection to the current release (or `release`), with the runs of
    the history as `run_history` (newer than any release: rollbacks come after)."""
    path = release_folder(warehouse, release) / DATABASE_NAME
    if not path.exists():
        raise OccupipeError(f"release {path.parent.name} has no warehouse file (it failed)")
    try:
        con = duckdb.connect(str(path), read_only=True)
        load_past_runs(con, read_history(warehouse_folder(warehouse)), "temp.run_history")
    except duckdb.Error as exc:
        raise OccupipeError(f"cannot open {path}: {str(exc).splitlines()[0]}") from None
    return con


def scan(
    table: str, warehouse: str | Path | None = None, release: str | None = None
) -> pl.LazyFrame:
    """A polars LazyFrame over one published table of the current release (or `release`)."""
    import polars as pl

    if table not in TABLES_BY_NAME:
        known = ", ".join(sorted(TABLES_BY_NAME))
        raise OccupipeError(f"there is no table {table!r}; the tables are {known}")
    path = release_folder(warehouse, release) / PARQUET_DIR / f"{table}.parquet"
    if not path.exists():
        raise OccupipeError(f"release {path.parent.parent.name} has no {table} file (it failed)")
    return pl.scan_parquet(path)


def releases(warehouse: str | Path | None = None) -> pl.DataFrame:
    """Every release of the warehouse, oldest first: id, creation time, records, gates,
    status (published, failed, rolled back) and whether it is the current one."""
    import polars as pl

    rows = [
        {
            "release_id": info.release_id,
            "created_at": info.created_at,
            "records": info.records,
            "gates": info.gates,
            "status": info.status,
            "is_current": info.is_current,
        }
        for info in list_releases(warehouse_folder(warehouse))
    ]
    schema = {
        "release_id": pl.String,
        "created_at": pl.String,
        "records": pl.Int64,
        "gates": pl.String,
        "status": pl.String,
        "is_current": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def report(name: str, warehouse: str | Path | None = None) -> pl.DataFrame:
    """One report of the current release as a DataFrame: a report view by its name (as
    `occupipe report NAME` prints it; a report of several parts names them)."""
    import polars as pl

    with connect(warehouse) as con:
        views = report_views(con)
        if name not in views:
            parts = [view for view in views if view.startswith(f"{name}_")]
            if parts:
                raise OccupipeError(f"report {name!r} has parts: name one of {', '.join(parts)}")
            raise OccupipeError(f"there is no report {name!r}; the reports are {', '.join(views)}")
        frame = pl.from_arrow(con.sql(f'select * from "{name}"').to_arrow_table())
    assert isinstance(frame, pl.DataFrame)  # a table gives a DataFrame, never a Series
    return frame


def report_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's report views (staging views are not reports), by name."""
    rows = con.execute(
        "select view_name from duckdb_views() where not internal and schema_name = 'main'"
        " and view_name not like 'stg\\_%' escape '\\' order by view_name"
    ).fetchall()
    return [row[0] for row in rows]
