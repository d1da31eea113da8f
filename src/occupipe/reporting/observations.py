"""What a run tells its observers: summary lines, markdown, table rows and event payloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from occupipe.core.history import read_history
from occupipe.core.runs import DataTestResult, RunSummary

SHOWN_REJECTIONS = 10  # in the lines; the quarantine table lists up to QUARANTINE_ROWS
QUARANTINE_ROWS = 1000
EVENT_PREFIX = "occupipe"


def summary_lines(summary: RunSummary) -> list[str]:
    """The lines `occupipe run` prints after its title (inputs, quarantine, tables, stage
    times, data tests, warehouse), as plain text."""
    lines = [
        f"inputs {summary.inputs}: loaded {summary.loaded}, quarantined {summary.rejected},"
        f" ignored {summary.ignored}"
    ]
    if summary.changes:
        changes = ", ".join(f"{name} {count}" for name, count in summary.changes.items())
        lines.append(f"input files since the last run: {changes}")
    if summary.unchanged_since:
        lines.append(f"nothing changed since release {summary.unchanged_since}: it stays current")
        lines.append(f"warehouse: {summary.warehouse}")
        return lines
    lines += [
        f"  quarantined {r.source_file} [{r.stage}]: {r.reason}"
        for r in summary.rejections[:SHOWN_REJECTIONS]
    ]
    if len(summary.rejections) > SHOWN_REJECTIONS:
        more = len(summary.rejections) - SHOWN_REJECTIONS
        lines.append(f"  ... and {more} more: see `occupipe quarantine`")
    tables = ", ".join(f"{name} {rows}" for name, rows in summary.table_rows.items())
    lines.append(f"tables written ({len(summary.table_rows)}): {tables}")
    stages = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in summary.stage_seconds.items())
    lines.append(f"time per stage: {stages}")
    results = summary.test_results
    lines.append(f"data tests: {sum(r.passed for r in results)} of {len(results)} passed")
    for result in results:
        if result.severity == "warn" and not result.passed:
            example = dict(zip(result.columns, result.sample[0], strict=False))
            lines.append(f"  warn {result.name}: {result.failures} row(s), e.g. {example}")
    lines.append(f"warehouse: {summary.warehouse}")
    return lines


def describe_result(result: object) -> str:
    """What a stage returned, for its log line (`120 record files, `, `occupations 120, ...`),
    or nothing for a result of another shape."""
    records = getattr(result, "records", None)
    if isinstance(records, list):
        return f"{len(records)} record files, "
    if isinstance(result, dict) and result and all(isinstance(v, int) for v in result.values()):
        return ", ".join(f"{key} {value}" for key, value in list(result.items())[:12]) + "; "
    return ""


def outcome(summary: RunSummary) -> str:
    """published, unchanged or failed."""
    if summary.failure:
        return "failed"
    return "unchanged" if summary.unchanged_since else "published"


def gate_lines(summary: RunSummary) -> list[str]:
    """One line per gate applied (`gate volume: passed (ok)`), then the run's outcome."""
    lines = [
        f"gate {name}: {'passed' if gate['passed'] else 'FAILED'} ({gate['detail']})"
        for name, gate in summary.gates.items()
    ]
    if summary.failure:
        lines.append(f"run failed: {summary.failure}")
    elif summary.unchanged_since:
        lines.append(f"release {summary.unchanged_since} stays current")
    else:
        lines.append(f"published release {summary.release_id}")
    return lines


def data_test_status(result: DataTestResult) -> str:
    """pass, or the severity of a test that found rows (warn, error)."""
    return "pass" if result.passed else result.severity


def data_test_rows(summary: RunSummary) -> list[dict[str, Any]]:
    """The data tests as table rows: name, severity, status, rows."""
    return [
        {"name": r.name, "severity": r.severity, "status": data_test_status(r), "rows": r.failures}
        for r in summary.test_results
    ]


def quarantine_rows(summary: RunSummary, limit: int = QUARANTINE_ROWS) -> list[dict[str, str]]:
    """The quarantined inputs as table rows (source, stage, reason), the first `limit`."""
    return [
        {"source": r.source_file, "stage": r.stage, "reason": r.reason}
        for r in summary.rejections[:limit]
    ]


def table_cell(value: object) -> str:
    """A value as a markdown table cell: its pipes escaped, on one line."""
    return " ".join(str(value).replace("|", "\\|").splitlines())


def run_markdown(summary: RunSummary, report: str | None) -> str:
    """The run summary artifact: outcome, counts, gates, release and links, in markdown."""
    failed_tests = [r for r in summary.test_results if not r.passed]
    lines = [
        f"# occupipe run {summary.run_id}: {outcome(summary)}",
        "",
        "| inputs | loaded | quarantined | ignored | data tests passed |",
        "| --- | --- | --- | --- | --- |",
        f"| {summary.inputs} | {summary.loaded} | {summary.rejected} | {summary.ignored}"
        f" | {len(summary.test_results) - len(failed_tests)} of {len(summary.test_results)} |",
        "",
        "## Gates",
        "",
        "| gate | result | detail |",
        "| --- | --- | --- |",
        *(
            f"| {name} | {'passed' if gate['passed'] else '**failed**'}"
            f" | {table_cell(gate['detail'])} |"
            for name, gate in summary.gates.items()
        ),
        "",
    ]
    if summary.failure:
        lines += [f"**Failed:** {summary.failure}", ""]
    release = summary.release_id or summary.unchanged_since
    if release:
        lines.append(f"Release: `{release}` ({outcome(summary)})")
    if summary.warehouse:
        lines.append(f"Warehouse: `{summary.warehouse}`")
    if report:
        lines.append(f"Report: [{report}]({report})")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ObservedEvent:
    """An event for an events API: its name, primary resource, related resources, payload."""

    event: str
    resource: dict[str, str]
    related: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)


def warehouse_resource(warehouse_dir: Path) -> dict[str, str]:
    """The warehouse as a resource: `occupipe.warehouse.<absolute folder>`."""
    folder = str(warehouse_dir.resolve())
    return {
        "prefect.resource.id": f"{EVENT_PREFIX}.warehouse.{folder}",
        "prefect.resource.name": folder,
    }


def release_resource(release_id: str, role: str = "release") -> dict[str, str]:
    """A release as a related resource."""
    return {
        "prefect.resource.id": f"{EVENT_PREFIX}.release.{release_id}",
        "prefect.resource.name": release_id,
        "prefect.resource.role": role,
    }


def previous_quarantined(warehouse_dir: Path, run_id: str) -> int | None:
    """How many inputs the last published release before `run_id` quarantined (None: none)."""
    published = [
        event
        for event in read_history(warehouse_dir)
        if event.get("event") == "run"
        and event.get("status") == "published"
        and event.get("run_id") != run_id
    ]
    return published[-1].get("quarantined") if published else None


def run_events(
    summary: RunSummary, warehouse_dir: Path, previous: int | None
) -> list[ObservedEvent]:
    """The events of a finished run: each failed gate, the published release, a quarantine
    larger than the previous published release's (`previous`)."""
    warehouse = warehouse_resource(warehouse_dir)
    release = [release_resource(summary.release_id)] if summary.release_id else []
    counts = {"loaded": summary.loaded, "quarantined": summary.rejected, "inputs": summary.inputs}
    base = {"run_id": summary.run_id, "release_id": summary.release_id}
    events = [
        ObservedEvent(
            f"{EVENT_PREFIX}.gate.failed",
            warehouse,
            release,
            {**base, "gate": name, "reason": gate["detail"], "failure": summary.failure, **counts},
        )
        for name, gate in summary.gates.items()
        if not gate["passed"]
    ]
    if outcome(summary) == "published" and summary.release_id:
        gates = {name: gate["passed"] for name, gate in summary.gates.items()}
        events.append(
            ObservedEvent(
                f"{EVENT_PREFIX}.release.published",
                warehouse,
                release,
                {**base, **counts, "gates": gates, "tables": dict(summary.table_rows)},
            )
        )
    if previous is not None and summary.rejected > previous and not summary.unchanged_since:
        events.append(
            ObservedEvent(
                f"{EVENT_PREFIX}.quarantine.grew",
                warehouse,
                release,
                {**base, "quarantined": summary.rejected, "previous": previous},
            )
        )
    return events


def rollback_event(warehouse_dir: Path, previous: str | None, target: str) -> ObservedEvent:
    """`occupipe.release.rolled_back`: the warehouse now serves `target` instead of `previous`."""
    related = [release_resource(target)]
    if previous:
        related.append(release_resource(previous, "previous-release"))
    payload = {"from_release": previous, "to_release": target}
    return ObservedEvent(
        f"{EVENT_PREFIX}.release.rolled_back", warehouse_resource(warehouse_dir), related, payload
    )
