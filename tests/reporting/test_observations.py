"""What a run tells its observers, from a RunSummary alone: lines, markdown, rows, events."""

from __future__ import annotations

import json
from pathlib import Path

from occupipe.core.history import append_history
from occupipe.core.rejection import Rejection
from occupipe.core.runs import DataTestResult, RunSummary
from occupipe.reporting.observations import (
    data_test_rows,
    describe_result,
    gate_lines,
    previous_quarantined,
    quarantine_rows,
    rollback_event,
    run_events,
    run_markdown,
    summary_lines,
)


def failed_summary() -> RunSummary:
    """A run whose volume gate failed after one input was quarantined."""
    return RunSummary(
        "r2",
        inputs=3,
        loaded=2,
        rejected=1,
        rejections=[Rejection("bad.json", "parse", "not valid JSON", None)],
        test_results=[
            DataTestResult("unique_slug", "error", 0, [], []),
            DataTestResult("few_tags", "warn", 2, [("a", 1)], ["slug", "tags"]),
        ],
        release_id="r2",
        failure="gate volume failed: 2 records, 10 before",
        gates={
            "reject_rate": {"passed": True, "detail": "ok"},
            "volume": {"passed": False, "detail": "2 records, 10 before"},
        },
    )


def test_the_lines_say_counts_quarantine_warnings_and_gates() -> None:
    summary = failed_summary()
    lines = summary_lines(summary)
    assert lines[0] == "inputs 3: loaded 2, quarantined 1, ignored 0"
    assert "  quarantined bad.json [parse]: not valid JSON" in lines
    assert "data tests: 1 of 2 passed" in lines
    assert "  warn few_tags: 2 row(s), e.g. {'slug': 'a', 'tags': 1}" in lines
    assert gate_lines(summary) == [
        "gate reject_rate: passed (ok)",
        "gate volume: FAILED (2 records, 10 before)",
        "run failed: gate volume failed: 2 records, 10 before",
    ]


def test_the_tables_and_the_markdown() -> None:
    summary = failed_summary()
    assert data_test_rows(summary) == [
        {"name": "unique_slug", "severity": "error", "status": "pass", "rows": 0},
        {"name": "few_tags", "severity": "warn", "status": "warn", "rows": 2},
    ]
    assert quarantine_rows(summary) == [
        {"source": "bad.json", "stage": "parse", "reason": "not valid JSON"}
    ]
    markdown = run_markdown(summary, "file:///wh/releases/r2")
    assert markdown.startswith("# occupipe run r2: failed\n")
    assert "| volume | **failed** | 2 records, 10 before |" in markdown
    assert "[file:///wh/releases/r2](file:///wh/releases/r2)" in markdown
    summary.gates["schema"] = {"passed": False, "detail": "a | b\nc"}
    assert "| schema | **failed** | a \\| b c |" in run_markdown(summary, None)


def test_a_failed_gate_and_a_grown_quarantine_are_events(tmp_path: Path) -> None:
    events = run_events(failed_summary(), tmp_path, previous=0)
    assert [e.event for e in events] == ["occupipe.gate.failed", "occupipe.quarantine.grew"]
    failed = events[0]
    assert failed.resource["prefect.resource.id"] == f"occupipe.warehouse.{tmp_path.resolve()}"
    assert failed.related[0]["prefect.resource.id"] == "occupipe.release.r2"
    assert (failed.payload["gate"], failed.payload["reason"]) == ("volume", "2 records, 10 before")
    assert events[1].payload["previous"] == 0
    json.dumps([e.payload for e in events])  # payloads are plain JSON


def test_a_published_run_is_an_event_and_a_steady_quarantine_is_none(tmp_path: Path) -> None:
    summary = failed_summary()
    summary.failure = None
    summary.gates["volume"] = {"passed": True, "detail": "ok"}
    events = run_events(summary, tmp_path, previous=1)
    assert [e.event for e in events] == ["occupipe.release.published"]
    assert events[0].payload["gates"] == {"reject_rate": True, "volume": True}


def test_the_previous_quarantine_is_the_last_published_release_s(tmp_path: Path) -> None:
    assert previous_quarantined(tmp_path, "r3") is None
    for run_id, status, quarantined in [("r1", "published", 4), ("r2", "failed", 9)]:
        append_history(
            tmp_path,
            {"event": "run", "run_id": run_id, "status": status, "quarantined": quarantined},
        )
    assert previous_quarantined(tmp_path, "r3") == 4


def test_a_rollback_names_both_releases(tmp_path: Path) -> None:
    event = rollback_event(tmp_path, "r2", "r1")
    assert event.event == "occupipe.release.rolled_back"
    assert [r["prefect.resource.role"] for r in event.related] == ["release", "previous-release"]
    assert event.payload == {"from_release": "r2", "to_release": "r1"}


def test_a_stage_s_result_in_a_few_words() -> None:
    from types import SimpleNamespace

    assert describe_result(SimpleNamespace(records=["a.json", "b.json"])) == "2 record files, "
    assert describe_result({"occupations": 2, "tags": 5}) == "occupations 2, tags 5; "
    assert describe_result(None) == describe_result({"a": "b"}) == ""
