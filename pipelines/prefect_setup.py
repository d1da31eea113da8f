"""Configure Prefect for quiet, self-contained local runs; import this before `prefect`."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Measured (docs/prefect-notes): with these, a run on the embedded server prints nothing and
# loses nothing it would otherwise record; task runs are only recorded by a real server.
QUIET_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
}


def default_prefect_home() -> Path:
    """Prefect's state lives in the project (git-ignored), or in the user's home if installed."""
    if (PROJECT_DIR / "pyproject.toml").exists():
        return PROJECT_DIR / ".prefect"
    return Path.home() / ".occupipe" / "prefect"


def configure_prefect() -> None:
    """Set Prefect's environment defaults; values the user already set win."""
    os.environ.setdefault("PREFECT_HOME", str(default_prefect_home()))
    for name, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(name, value)
