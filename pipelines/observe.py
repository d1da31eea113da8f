"""Prefect's view of a run: its summary in the run's logs, four artifacts, and events."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from prefect.client.schemas.actions import ArtifactCreate
from prefect.context import FlowRunContext
from prefect.events import emit_event
from prefect.logging import get_run_logger

from occupipe.core.layout import RELEASES_DIR, SITE_DIR, SITE_INDEX
from occupipe.core.rejection import first_line
from occupipe.core.runs import RunFailed, RunSummary
from occupipe.reporting.html import REPORT_NAME
from occupipe.reporting.observations import (
    ObservedEvent,
    data_test_rows,
    describe_result,
    gate_lines,
    previous_quarantined,
    quarantine_rows,
    run_events,
    run_markdown,
    summary_lines,
)
from pipelines.prefect_setup import telemetry_on

T = TypeVar("T")

# stable keys: the Artifacts page shows each one's history across runs
SUMMARY_KEY = "occupipe-run-summary"
TESTS_KEY = "occupipe-data-tests"
QUARANTINE_KEY = "occupipe-quarantine"
REPORT_KEY = "occupipe-release-report"


def observed(warehouse_dir: Path, run: Callable[[], RunSummary]) -> RunSummary:
    """`run()`, its summary reported to Prefect whether it publishes or fails a gate (the
    failure is reported, then raised)."""
    try:
        summary = run()
    except RunFailed as exc:
        if exc.summary is not None:
            report_run(exc.summary, warehouse_dir)
        raise
    report_run(summary, warehouse_dir)
    return summary


def logged_stage(name: str, fn: Callable[..., T]) -> Callable[..., T]:
    """`fn`, saying in its task run's logs what it produced and how long it took (as is when
    telemetry is off)."""
    if not telemetry_on():
        return fn

    @functools.wraps(fn)
    def stage(*args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds = time.perf_counter() - started
        get_run_logger().info(f"{name}: {describe_result(result)}done in {seconds:.2f} s")
        return result

    return stage


def report_run(summary: RunSummary, warehouse_dir: Path) -> None:
    """Events first (queued, sent by Prefect's events worker), then the summary lines to the
    run logger (queued too) and the artifacts (API calls, at the end, once)."""
    if not telemetry_on():
        return
    for event in run_events(
        summary, warehouse_dir, previous_quarantined(warehouse_dir, summary.run_id)
    ):
        send_event(event)
    logger = get_run_logger()
    for line in [f"occupipe run {summary.run_id}", *summary_lines(summary), *gate_lines(summary)]:
        logger.info(line)
    try:
        create_artifacts(summary, warehouse_dir)
    except Exception as exc:  # the run's outcome stands whatever the API says of its artifacts
        logger.warning("the run's artifacts could not be created: %s", first_line(exc))


def send_event(event: ObservedEvent) -> None:
    """Emit one event (inside a run, Prefect adds the flow run as a related resource)."""
    emit_event(
        event=event.event, resource=event.resource, related=event.related, payload=event.payload
    )


def report_link(summary: RunSummary, warehouse_dir: Path) -> str | None:
    """A file:// link to the release's docs site, else its HTML report, else its folder."""
    release = summary.release_id or summary.unchanged_since
    if not release:
        return None
    folder = (warehouse_dir / RELEASES_DIR / release).resolve()
    for page in (folder / SITE_DIR / SITE_INDEX, folder / REPORT_NAME):
        if page.exists():
            return page.as_uri()
    return folder.as_uri()


def create_artifacts(summary: RunSummary, warehouse_dir: Path) -> None:
    """The run summary, the data tests, the quarantine and the report link, keyed stably,
    through the flow run's own client (Prefect's `create_*_artifact` each make a client)."""
    link = report_link(summary, warehouse_dir)
    contents: list[tuple[str, str, str, str]] = [  # key, type, description, data
        (SUMMARY_KEY, "markdown", "occupipe run summary", run_markdown(summary, link)),
        (
            TESTS_KEY,
            "table",
            "data tests: name, severity, status, rows",
            json.dumps(data_test_rows(summary)),
        ),
        (
            QUARANTINE_KEY,
            "table",
            "quarantined inputs: source, stage, reason",
            json.dumps(quarantine_rows(summary)),
        ),
    ]
    if link:
        release = summary.release_id or summary.unchanged_since
        contents.append(
            (REPORT_KEY, "markdown", "the release's docs site", f"[release {release}]({link})")
        )
    context = FlowRunContext.get()
    assert context is not None and context.flow_run is not None, "report_run runs in a flow"
    for key, kind, description, data in contents:
        context.client.create_artifact(
            ArtifactCreate(
                key=key,
                type=kind,
                description=description,
                data=data,
                flow_run_id=context.flow_run.id,
            )
        )
