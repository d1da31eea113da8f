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
from pipelines.replay import replay_quarantine  # noqa: E402

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


@flow(name="replay-quarantine", validate_parameters=False)
def replay_warehouse(options: RunOptions) -> RunSummary:
    """Re-validate the kept quarantined documents and rebuild with those that now pass."""
    return replay_quarantine(options, stage=run_as_task)


def run_flow_quietly(chosen: Callable[[RunOptions], RunSummary], options: RunOptions) -> RunSummary:
    """Call a flow with no heartbeat thread, flushing Prefect's event queue before returning.

    The heartbeat only serves crashed-run detection by a worker, which a CLI run does not have;
    flushing the events here is what keeps the interpreter's exit free of "still processing".
    """
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        try:
            return chosen(options)
        finally:
            EventsWorker.instance().wait_until_empty()


def run_build_flow(options: RunOptions) -> RunSummary:
    """The build-warehouse flow, quietly."""
    return run_flow_quietly(build_warehouse, options)


def run_replay_flow(options: RunOptions) -> RunSummary:
    """The replay-quarantine flow, quietly."""
    return run_flow_quietly(replay_warehouse, options)
