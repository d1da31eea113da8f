"""Scheduled runs: serve the build as a Prefect deployment on a cron schedule from this machine."""

from __future__ import annotations

from typing import Any

from pipelines.prefect_setup import ServerFailed, check_api, configure_prefect, configured_api_url

configure_prefect()

from prefect.deployments.runner import RunnerDeployment  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from pipelines.flows import scheduled_build  # noqa: E402

DEPLOYMENT_NAME = "occupipe-build"


class SchedulingUnavailable(Exception):
    """Schedules need a real Prefect server."""


def make_deployment(
    cron: str, parameters: dict[str, Any], name: str = DEPLOYMENT_NAME, timezone: str = "UTC"
) -> RunnerDeployment:
    """The scheduled-build flow as a deployment with a cron schedule and fixed parameters."""
    deployment = scheduled_build.to_deployment(
        name=name, schedules=[Cron(cron, timezone=timezone)], parameters=parameters
    )
    assert isinstance(deployment, RunnerDeployment)  # called outside an event loop: sync
    return deployment


def serve_schedule(cron: str, parameters: dict[str, Any], name: str = DEPLOYMENT_NAME) -> None:
    """Register the deployment and run its scheduled flow runs here until interrupted.

    The schedule is checked first (a bad one is the user's mistake, with or without a server).
    """
    deployment = make_deployment(cron, parameters, name)
    url = configured_api_url()
    if not url:
        raise SchedulingUnavailable(
            "scheduling needs a Prefect server: run `prefect server start` and set"
            " PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    try:
        check_api(url)
    except ServerFailed as exc:
        raise SchedulingUnavailable(str(exc)) from None
    from prefect import serve

    serve(deployment)
