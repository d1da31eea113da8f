"""Events of commands that run outside a flow (`rollback`), sent only to a Prefect API in use."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from occupipe.reporting.observations import ObservedEvent
from pipelines.background_server import answers, find_server
from pipelines.prefect_setup import api_url_set, configure_prefect, configured_api_url, telemetry_on


def api_in_use() -> str | None:
    """The Prefect API a run would report to without starting anything: PREFECT_API_URL, or
    the background server of `occupipe server start` if it runs and answers; None otherwise."""
    configured = configured_api_url()
    if configured:
        return configured
    found = find_server(Path(os.environ["PREFECT_HOME"]))
    if found.ours and found.problem is None and found.state and answers(found.state.url):
        return found.state.url
    return None


def send_if_observed(event: ObservedEvent) -> bool:
    """Emit `event` to the Prefect API in use and wait until it is sent; skipped (False), at
    no cost, when none is configured or runs, or OCCUPIPE_PREFECT_TELEMETRY is off."""
    configure_prefect()
    url = api_in_use() if telemetry_on() else None
    if url is None:
        return False
    own = configured_api_url() is None
    with api_url_set(url) if own else contextlib.nullcontext():
        from prefect.events.worker import EventsWorker

        from pipelines.observe import send_event

        send_event(event)
        EventsWorker.instance().wait_until_empty()
    return True
