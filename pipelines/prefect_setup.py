"""Configure Prefect for quiet, self-contained local runs; import this before `prefect`."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Measured (shared/docs/prefect-notes.md and our own runs): with these, a run on the embedded
# server prints nothing. Task runs are recorded only by a real server (`prefect server start`
# and PREFECT_API_URL); flow runs and their final states are always recorded. Prefect's own
# console output is limited to CRITICAL: the CLI turns every failure into one sentence, and
# `occupipe run --verbose` brings Prefect's logs (tracebacks included) back.
QUIET_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "CRITICAL",
}
VERBOSE = {
    "PREFECT_LOGGING_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "INFO",
}


def default_prefect_home() -> Path:
    """Prefect's state lives in the project (git-ignored), or in the user's home if installed."""
    if (PROJECT_DIR / "pyproject.toml").exists():
        return PROJECT_DIR / ".prefect"
    return Path.home() / ".occupipe" / "prefect"


def configure_prefect(verbose: bool = False) -> None:
    """Set Prefect's environment defaults; values the user already set win."""
    os.environ.setdefault("PREFECT_HOME", str(default_prefect_home()))
    for name, value in {**QUIET_DEFAULTS, **(VERBOSE if verbose else {})}.items():
        os.environ.setdefault(name, value)
