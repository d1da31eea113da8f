"""Run-time settings: defaults, environment variables (OCCUPIPE_*), and where things live."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/occupipe
PROJECT_DIR = PACKAGE_DIR.parents[1]  # the checkout (in an editable install)


def find_sql_dir() -> Path:
    """The SQL models: shipped inside the package when installed, else the checkout's `sql/`."""
    packaged = PACKAGE_DIR / "sql"
    return packaged if packaged.is_dir() else PROJECT_DIR / "sql"


# files per extraction batch: each batch is one task for a worker and one set of part files
# (cached together). 1,000 rather than 500: faster and less CPU, all of it saved in what goes
# with each batch (the pool's round trips, the cache's links, thirteen part files written and
# opened again), for a little more memory at the peak and twice the files re-extracted
# around one changed file (benchmarks/HISTORY.md)
DEFAULT_BATCH_SIZE = 1000


# where a checkout keeps its data: the CLI's defaults, the scheduled flow's and prefect.yaml's
DEFAULT_SOURCE = "data/raw"
DEFAULT_WAREHOUSE = Path("data/warehouse")
DEFAULT_CRON = "0 6 * * *"  # the deployment in prefect.yaml: every morning, UTC


class Settings(BaseSettings):
    """Defaults for the CLI; each can be set as OCCUPIPE_<NAME> (e.g. OCCUPIPE_WAREHOUSE)."""

    # an empty variable means "not set" (OCCUPIPE_WAREHOUSE= is no order to use the cwd)
    model_config = SettingsConfigDict(env_prefix="OCCUPIPE_", env_ignore_empty=True)

    warehouse: Path = DEFAULT_WAREHOUSE
    # a folder, a file, an s3:// prefix or an http(s) URL (text: a Path would eat "//")
    source: str = DEFAULT_SOURCE
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1)
    cluster: str | None = None  # a Dask scheduler (tcp://HOST:PORT) to extract batches on
    # with no PREFECT_API_URL: one Prefect server in the background, started by the first run
    # and reused (`occupipe server`), or a server started and stopped by each command
    prefect_server: Literal["background", "per-run"] = "background"


DEFAULT_MAX_REJECT_RATE = 0.05  # the share of quarantined inputs a run may publish with
DEFAULT_MAX_SHRINK = 0.10  # the share of records a run may lose against the current release
DEFAULT_SOURCE_RETRIES = 2  # a scheduled run tries a remote source's fetch or listing again
