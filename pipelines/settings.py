"""Run-time settings: defaults, environment variables (OCCUPIPE_*), and where things live."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def find_sql_dir() -> Path:
    """The SQL models: shipped inside the package when installed, else the checkout's `sql/`."""
    packaged = PACKAGE_DIR / "sql"
    return packaged if packaged.is_dir() else PROJECT_DIR / "sql"


class Settings(BaseSettings):
    """Defaults for the CLI; each can be set as OCCUPIPE_<NAME> (e.g. OCCUPIPE_WAREHOUSE)."""

    # an empty variable means "not set" (OCCUPIPE_WAREHOUSE= is no order to use the cwd)
    model_config = SettingsConfigDict(env_prefix="OCCUPIPE_", env_ignore_empty=True)

    warehouse: Path = Path("data/warehouse")
    source: str = "data/raw"  # a folder, a file or an http(s) URL (text: a Path would eat "//")
    batch_size: int = Field(default=500, ge=1)
