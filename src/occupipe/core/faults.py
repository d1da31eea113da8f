"""Crash points for testing crash safety: OCCUPIPE_CRASH_AT=<name> kills the run right there."""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    """SIGKILL this process when OCCUPIPE_CRASH_AT names this point (tests only)."""
    if os.environ.get("OCCUPIPE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
