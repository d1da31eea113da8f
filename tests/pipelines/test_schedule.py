"""Scheduled runs: a deployment is registered with the cron and parameters asked for."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from uuid import UUID

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


def test_a_deployment_is_registered_with_the_cron_and_parameters() -> None:
    from prefect import get_client

    from pipelines.schedule import make_deployment

    parameters = {"source": "data/raw", "warehouse": "/srv/warehouse"}
    deployment_id = make_deployment("0 6 * * *", parameters, name="morning").apply()
    assert isinstance(deployment_id, UUID)  # called outside an event loop: sync

    async def read() -> tuple[list[str], dict[str, object], str]:
        async with get_client() as client:
            deployment = await client.read_deployment(deployment_id)
        crons = [getattr(s.schedule, "cron", "") for s in deployment.schedules]
        return crons, deployment.parameters, deployment.name

    crons, stored, name = asyncio.run(read())
    assert (crons, stored, name) == (["0 6 * * *"], parameters, "morning")


def test_prefect_yaml_deploys_the_scheduled_flow_with_the_settings_defaults() -> None:
    import yaml

    from occupipe.core import settings
    from pipelines.flows import scheduled_build
    from pipelines.schedule import DEPLOYMENT_NAME

    config = yaml.safe_load((settings.PROJECT_DIR / "prefect.yaml").read_text())
    (deployment,) = config["deployments"]
    assert deployment["name"] == DEPLOYMENT_NAME
    assert deployment["entrypoint"] == "pipelines/flows.py:scheduled_build"
    assert deployment["schedules"][0]["cron"] == settings.DEFAULT_CRON
    defaults = {
        "source": settings.DEFAULT_SOURCE,
        "warehouse": str(settings.DEFAULT_WAREHOUSE),
        "max_reject_rate": settings.DEFAULT_MAX_REJECT_RATE,
        "max_shrink": settings.DEFAULT_MAX_SHRINK,
        "source_retries": settings.DEFAULT_SOURCE_RETRIES,
    }
    assert deployment["parameters"] == defaults
    flow_defaults = {k: v["default"] for k, v in scheduled_build.parameters.properties.items()}
    assert flow_defaults == defaults


def test_prefect_yaml_and_the_automation_apply_to_a_server_and_read_back(tmp_path: Path) -> None:
    import subprocess

    from prefect import get_client
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import get_current_settings

    from occupipe.core.settings import PROJECT_DIR
    from pipelines.automations import GATE_FAILED, apply_automation

    CustomWebhookNotificationBlock(name="alerts", url="http://127.0.0.1:9/hook").save(
        "occupipe-alerts", overwrite=True
    )
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="occupipe", type="process"), overwrite=True)
    env = {
        **os.environ,
        "PREFECT_API_URL": str(get_current_settings().api.url),
        "OCCUPIPE_CHECKOUT": str(PROJECT_DIR),
    }
    deploy = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"]
    done = subprocess.run(
        deploy, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    automation_id = apply_automation(GATE_FAILED)
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("scheduled-build/occupipe-build")
        automation = client.read_automation(automation_id)
    assert deployment.work_pool_name == "occupipe"
    assert deployment.parameters["source_retries"] == 2
    assert [s.schedule.cron for s in deployment.schedules] == ["0 6 * * *"]  # type: ignore[union-attr]
    assert deployment.global_concurrency_limit is not None
    assert deployment.global_concurrency_limit.limit == 1
    assert deployment.concurrency_options is not None
    assert deployment.concurrency_options.collision_strategy == "ENQUEUE"
    assert automation is not None and automation.name == "occupipe-gate-failed"
    assert automation.actions[0].type == "send-notification"


def test_the_scheduled_flow_builds_and_publishes(tmp_path: Path) -> None:
    from pipelines.flows import scheduled_build
    from tests.helpers import copy_sample

    source = copy_sample(tmp_path / "in", 20)
    result = scheduled_build(source=str(source), warehouse=str(tmp_path / "wh"))
    assert result["loaded"] == 20 and result["quarantined"] == 0


def test_a_bad_schedule_or_an_unreachable_server_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipelines import schedule
    from pipelines.prefect_setup import ServerFailed, check_api

    with pytest.raises(ValueError):  # the CLI's "invalid schedule", exit 2, server or not
        schedule.serve_schedule("not a cron", {})
    with pytest.raises(
        ServerFailed, match=r"^cannot reach the Prefect API at http://127\.0\.0\.1:1/api"
    ):
        check_api("http://127.0.0.1:1/api", timeout=2.0)
    monkeypatch.setattr(schedule, "configured_api_url", lambda: "http://127.0.0.1:1/api")
    with pytest.raises(schedule.SchedulingUnavailable, match="cannot reach the Prefect API"):
        schedule.serve_schedule("0 6 * * *", {})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--cron", "* * * * * */10"], "a cron schedule has 5 fields"),  # seconds, to croniter
        (["--cron", "0 6 * * * 5 2030"], "a cron schedule has 5 fields"),  # a year
        (["--cron", "0 6 * * *", "--source", "/no/such/folder"], "does not exist"),
    ],
)
def test_a_schedule_that_could_not_run_as_asked_is_a_usage_error(
    tmp_path: Path, options: list[str], message: str
) -> None:
    from tests.helpers import invoke

    code, _, err = invoke("schedule", *options, "--warehouse", str(tmp_path / "wh"))
    assert code == 2 and message in err and err.count("\n") == 1


def test_stopping_a_schedule_says_so_and_exits_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines import schedule
    from pipelines.cli import main

    monkeypatch.setattr(schedule, "serve_schedule", lambda *args: None)  # Ctrl-C ends serve()
    monkeypatch.setattr(sys, "argv", ["occupipe", "schedule", "--cron", "0 6 * * *"])
    monkeypatch.setattr(sys, "argv", [*sys.argv, "--source", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 130
    assert "stopped serving occupipe-build; its schedule is paused" in out
    assert err == ""  # no run was under way: nothing to say about one


def test_a_schedule_takes_its_default_source_and_warehouse_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines import schedule
    from pipelines.cli import main

    served: list[dict[str, str]] = []
    monkeypatch.setattr(schedule, "serve_schedule", lambda cron, params, *_: served.append(params))
    monkeypatch.setenv("OCCUPIPE_SOURCE", str(tmp_path))
    monkeypatch.setenv("OCCUPIPE_WAREHOUSE", str(tmp_path / "wh"))
    monkeypatch.setattr(sys, "argv", ["occupipe", "schedule", "--cron", "0 6 * * *"])
    with pytest.raises(SystemExit):
        main()
    assert served == [{"source": str(tmp_path), "warehouse": str(tmp_path / "wh")}]


def test_serving_a_name_registered_with_other_parameters_warns_of_the_takeover(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import prefect

    from pipelines import schedule

    first = {"source": "data/raw", "warehouse": "/srv/one"}
    schedule.make_deployment("0 6 * * *", first, name="shared").apply()
    monkeypatch.setattr(prefect, "serve", lambda *deployments: None)
    told: list[dict[str, object]] = []
    schedule.serve_schedule("0 6 * * *", first, "shared", told.append)
    assert told == []  # the same schedule served again
    schedule.serve_schedule("0 7 * * *", {**first, "warehouse": "/srv/two"}, "shared", told.append)
    assert told == [first]
    schedule.serve_schedule("0 6 * * *", first, "never-registered", told.append)
    assert told == [first]
