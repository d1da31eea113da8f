"""Prefect wiring only: the `build_warehouse` flow runs the pipeline's stages as tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pipelines.prefect_setup import configure_prefect

configure_prefect()

from prefect import flow, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.events.worker import EventsWorker  # noqa: E402
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings  # noqa: E402

from pipelines.pipeline import RunOptions, RunSummary, run_pipeline  # noqa: E402

T = TypeVar("T")


def run_as_task(name: str, fn: Callable[..., T], /, *args: Any) -> T:
    """Run one stage as a Prefect task named after the stage."""
    stage_task = task(
        name=name.rstrip("-0123456789"),
        task_run_name=name,
        cache_policy=NO_CACHE,
        persist_result=False,
    )(fn)
    return stage_task(*args)


@flow(name="build-warehouse", validate_parameters=False)
def build_warehouse(options: RunOptions) -> RunSummary:
    """Extract, validate, normalize, load, model and test: one warehouse build."""
    return run_pipeline(options, stage=run_as_task)


def run_build_flow(options: RunOptions) -> RunSummary:
    """Call the flow quietly: no heartbeat thread, and Prefect's event queue flushed before return.

    The heartbeat only serves crashed-run detection by a worker, which a CLI run does not have;
    flushing the events here is what keeps the interpreter's exit free of "still processing".
    """
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        try:
            return build_warehouse(options)
        finally:
            EventsWorker.instance().wait_until_empty()
