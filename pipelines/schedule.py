"""Scheduled runs: serve the build as a Prefect deployment on a cron schedule from this machine."""

from __future__ import annotations

from collections.abc import Callable
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


def serve_schedule(
    cron: str,
    parameters: dict[str, Any],
    name: str = DEPLOYMENT_NAME,
    on_takeover: Callable[[dict[str, Any]], None] = lambda previous: None,
) -> None:
    """Register the deployment and run its scheduled flow runs here until interrupted.

    The schedule is checked first (a bad one is the user's mistake, with or without a server).
    A deployment of this name registered with other parameters (another warehouse's schedule)
    is taken over: `on_takeover` is told its parameters first.
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
    previous = registered_parameters(name)
    if previous is not None and previous != parameters:
        on_takeover(previous)
    from prefect import serve

    serve(deployment)


def registered_parameters(name: str) -> dict[str, Any] | None:
    """The parameters the server holds for this deployment name, if it is registered."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(f"{scheduled_build.name}/{name}")
        except ObjectNotFound:
            return None
    return dict(deployment.parameters)
