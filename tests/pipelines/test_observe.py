"""A run as Prefect shows it (a test server): INFO logs, four artifacts, events, an automation."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from occupipe.core.runs import RunFailed, RunOptions, RunSummary
from tests.helpers import copy_sample, options_for

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

T = TypeVar("T")


def eventually(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 20.0) -> T:
    """`read()` until `done` says so (the server records logs and events asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def read_events(name: str, warehouse: Path) -> list[Any]:
    """The events of one name whose resource is the warehouse, oldest first."""
    from prefect import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    from occupipe.reporting.observations import warehouse_resource

    resource = warehouse_resource(warehouse)["prefect.resource.id"]
    event_filter = EventFilter(
        event=EventNameFilter(name=[name]), resource=EventResourceFilter(id=[resource])
    )
    with get_client(sync_client=True) as client:
        return list(reversed(client.read_events(filter=event_filter, limit=50).events))


def flow_run_of(event: Any) -> str:
    """The flow run an event was emitted in (Prefect relates it)."""
    ids: list[str] = [r.id for r in event.related if r.id.startswith("prefect.flow-run.")]
    assert ids, event.related
    return ids[0].removeprefix("prefect.flow-run.")


def run_flow(options: RunOptions) -> RunSummary:
    from pipelines.flows import run_build_flow

    return run_build_flow(options)


def with_bad_record(source: Path) -> Path:
    (source / "broken.json").write_text("{not json", encoding="utf-8")
    return source


def test_a_published_run_has_info_logs_four_artifacts_and_an_event(tmp_path: Path) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    from pipelines.observe import QUARANTINE_KEY, REPORT_KEY, SUMMARY_KEY, TESTS_KEY

    source = with_bad_record(copy_sample(tmp_path / "in", 20))
    summary = run_flow(options_for(source, tmp_path / "wh"))
    assert (summary.loaded, summary.rejected) == (20, 1)
    (event,) = eventually(lambda: read_events("occupipe.release.published", tmp_path / "wh"), bool)
    assert event.payload["release_id"] == summary.release_id
    assert event.payload["loaded"] == 20 and event.payload["quarantined"] == 1
    assert event.resource.id == f"occupipe.warehouse.{(tmp_path / 'wh').resolve()}"
    assert f"occupipe.release.{summary.release_id}" in [r.id for r in event.related]
    flow_run_id = flow_run_of(event)
    with get_client(sync_client=True) as client:
        logs = eventually(
            lambda: client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            ),
            lambda found: any("published release" in log.message for log in found),
        )
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
        (flow_run,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    assert flow_run.name and flow_run.state is not None and flow_run.state.is_completed()
    messages = [log.message for log in logs if log.level == 20]  # INFO
    assert "inputs 21: loaded 20, quarantined 1, ignored 0" in messages
    assert any(m.startswith("  quarantined ") and "broken.json" in m for m in messages)
    assert any(m.startswith("time per stage: ") for m in messages)
    assert "gate reject_rate: passed (ok)" in messages
    assert f"published release {summary.release_id}" in messages
    with get_client(sync_client=True) as client:
        task_logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
    task_messages = [log.message for log in task_logs if log.task_run_id is not None]
    assert any(m.startswith("discover: 21 record files, done in ") for m in task_messages)
    assert any(m.startswith("load-warehouse: occupations 20, ") for m in task_messages)
    by_key = {artifact.key: artifact for artifact in artifacts}
    assert set(by_key) == {SUMMARY_KEY, TESTS_KEY, QUARANTINE_KEY, REPORT_KEY}
    assert by_key[SUMMARY_KEY].type == "markdown"
    assert f"`{summary.release_id}`" in str(by_key[SUMMARY_KEY].data)
    tests = json.loads(str(by_key[TESTS_KEY].data))
    assert len(tests) == len(summary.test_results)
    assert set(tests[0]) == {"name", "severity", "status", "rows"}
    (quarantined,) = json.loads(str(by_key[QUARANTINE_KEY].data))
    assert quarantined["source"].endswith("broken.json") and quarantined["stage"]
    assert str(by_key[REPORT_KEY].data).endswith(f"releases/{summary.release_id}/site/index.html)")


class Receiver(BaseHTTPRequestHandler):
    """Records the body of every POST (a webhook's receiving end)."""

    bodies: list[bytes]

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[bytes]]]:
    """A local HTTP server on a free port: (its URL, the bodies POSTed to it)."""
    bodies: list[bytes] = []
    handler = type("Handler", (Receiver,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


def test_a_failed_gate_is_an_event_that_the_documented_automation_acts_on(
    tmp_path: Path, webhook: tuple[str, list[bytes]]
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from pipelines.automations import GATE_FAILED, apply_automation

    url, bodies = webhook
    CustomWebhookNotificationBlock(
        name="occupipe-alerts",
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
        allow_private_urls=True,
    ).save("occupipe-alerts", overwrite=True)
    apply_automation(GATE_FAILED)
    apply_automation(GATE_FAILED)  # again: still one automation of that name
    time.sleep(1)  # the triggers service loads new automations
    source = copy_sample(tmp_path / "in", 20)
    warehouse = tmp_path / "wh"
    run_flow(options_for(source, warehouse))
    with pytest.raises(RunFailed, match="gate reject_rate failed"):
        run_flow(options_for(with_bad_record(source), warehouse, strict=True))
    (failed,) = eventually(lambda: read_events("occupipe.gate.failed", warehouse), bool)
    assert failed.payload["gate"] == "reject_rate"
    assert "quarantined" in failed.payload["reason"]
    (grew,) = eventually(lambda: read_events("occupipe.quarantine.grew", warehouse), bool)
    assert (grew.payload["quarantined"], grew.payload["previous"]) == (1, 0)
    eventually(lambda: bodies, bool, timeout=30)
    (body,) = [json.loads(b) for b in bodies]
    assert body["subject"] == "occupipe: gate reject_rate failed"
    assert failed.payload["run_id"] in body["body"]


def test_a_rollback_is_an_event_when_a_prefect_api_is_in_use(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app
    from tests.helpers import build

    warehouse = tmp_path / "wh"
    first = build(copy_sample(tmp_path / "a", 20), warehouse).release_id
    second = build(copy_sample(tmp_path / "b", 21), warehouse).release_id
    result = CliRunner().invoke(app, ["rollback", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    (event,) = eventually(lambda: read_events("occupipe.release.rolled_back", warehouse), bool)
    assert event.payload == {"from_release": second, "to_release": first}
    assert f"occupipe.release.{first}" in [r.id for r in event.related]


def test_telemetry_off_sends_nothing_and_wraps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines import observe

    def stage() -> int:
        return 1

    monkeypatch.setenv("OCCUPIPE_PREFECT_TELEMETRY", "off")
    assert observe.logged_stage("stage", stage) is stage
    observe.report_run(RunSummary("r1"), Path("nowhere"))  # outside any flow: nothing is sent
    monkeypatch.setenv("OCCUPIPE_PREFECT_TELEMETRY", "on")
    assert observe.logged_stage("stage", stage) is not stage
