"""Releases remembered: run history, entity changes, the health report, torn or missing lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from occupipe.core.history import append_history, read_history
from occupipe.core.runs import RunFailed
from occupipe.release.catalog import collect_garbage, list_releases, rollback
from occupipe.release.store import release_path, store_release
from tests.helpers import ALL, build, query, source_with


def test_run_history_and_entity_changes_remember_every_run(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    source = source_with(tmp_path / "in", ALL[:30])
    first = build(source, warehouse)
    (source / ALL[0].name).unlink()  # removed
    shutil.copy(ALL[30], source / ALL[30].name)  # added
    changed = json.loads(ALL[1].read_text())
    changed["metadata"]["status"] = (
        "stable" if changed["metadata"]["status"] != "stable" else "draft"
    )
    (source / ALL[1].name).write_text(json.dumps(changed))  # changed, with a status transition
    second = build(source, warehouse)
    history = query(
        warehouse, "select run_id, status, records from run_history order by started_at"
    )
    assert history == [(first.run_id, "published", 30), (second.run_id, "published", 30)]
    changes = query(
        warehouse,
        f"select slug, change, from_status is distinct from to_status from entity_changes"
        f" where run_id = '{second.run_id}' order by slug",
    )
    assert changes == [
        (ALL[0].stem, "removed", True),
        (ALL[1].stem, "changed", True),
        (ALL[30].stem, "added", True),
    ]
    assert (
        query(warehouse, f"select count(*) from entity_changes where run_id = '{first.run_id}'")[0][
            0
        ]
        == 30
    )  # everything was added by the first run


def test_failed_runs_and_rollbacks_feed_the_health_report(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    # nothing changed: a run that keeps the release rolled back below, not a failed change
    build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    with pytest.raises(RunFailed):
        build(source_with(tmp_path / "in", ALL[:10]), warehouse)
    rollback(warehouse)
    build(source_with(tmp_path / "in", ALL[:30]), warehouse)  # nothing changed: kept as is
    build(source_with(tmp_path / "in", ALL[:32]), warehouse)  # carries the whole history
    events = [(e["event"], e.get("status")) for e in read_history(warehouse)]
    assert events == [
        ("run", "published"),
        ("run", "published"),
        ("run", "unchanged"),
        ("run", "failed"),
        ("rollback", None),
        ("run", "unchanged"),
        ("run", "published"),
    ]
    ((runs, failure_rate, unrestored),) = query(
        warehouse, "select runs, change_failure_rate, unrestored_failures from health_dora"
    )
    assert (runs, failure_rate, unrestored) == (6, 0.333, 0)  # the failed and the rolled back
    trend = query(warehouse, "select status, records, records_change from trend_runs")
    assert [r[1:] for r in trend if r[0] == "published"] == [(30, None), (31, 1), (32, 1)]
    assert all(r[2] is None for r in trend if r[0] != "published")  # failed, unchanged, rollback


def test_failures_at_the_same_instant_are_each_restored_in_the_health_report(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "wh"
    build(source_with(tmp_path / "in", ALL[:30]), warehouse)

    def run(run_id: str, status: str, at: str) -> str:
        line = {"event": "run", "run_id": run_id, "status": status, "started_at": at}
        return json.dumps({**line, "finished_at": at, "reason": None}) + "\n"

    # two runs failed at the same instant, a third half an hour later; all restored at 01:00
    with (warehouse / "history.jsonl").open("a") as history:
        history.write(run("a", "failed", "2026-01-01T00:00:00+00:00"))
        history.write(run("b", "failed", "2026-01-01T00:00:00+00:00"))
        history.write(run("c", "failed", "2026-01-01T00:30:00+00:00"))
        history.write(run("d", "published", "2026-01-01T01:00:00+00:00"))
    # the hand-written published run states no record count: the HTML report's chart of
    # records over runs once failed the whole run on it
    build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    minutes = query(warehouse, "select mean_minutes_to_restore from health_dora")
    assert minutes == [(50.0,)]  # (60 + 60 + 30) / 3; the two alike counted once gave 45


def test_an_event_after_a_torn_history_line_keeps_a_line_of_its_own(tmp_path: Path) -> None:
    append_history(tmp_path, {"event": "run", "run_id": "a"})
    with (tmp_path / "history.jsonl").open("a") as history:
        history.write('{"event": "run", "run_id": "b", "sta')  # a crash mid-write
    append_history(tmp_path, {"event": "run", "run_id": "c"})
    assert [e["run_id"] for e in read_history(tmp_path)] == ["a", "c"]


@pytest.mark.parametrize(
    "line",
    [
        b"42",
        b"null",
        b"[1, 2]",
        b'{"event": "rollback"}',
        b'{"event": "run"}',
        b'{"event": "run", "run_id": "x", "started_at": "not-a-time"}',
        b'{"event": "run", "run_id": "y", "records": "many"}',
        b'{"event": "run", "run_id": "z", "metrics": {"words": "lots"}}',
        b"abc\xff",
    ],
)
def test_a_hand_edited_history_line_is_skipped_by_every_reader(tmp_path: Path, line: bytes) -> None:
    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    with (warehouse / "history.jsonl").open("ab") as history:
        history.write(line + b"\n")
    assert [e["run_id"] for e in read_history(warehouse)] == [first.run_id]
    assert [r.status for r in list_releases(warehouse)] == ["published"]
    second = build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    assert query(warehouse, "select count(*) from run_history") == [(2,)]
    assert rollback(warehouse) == (second.run_id, first.run_id)


def test_a_release_no_run_recorded_is_never_a_rollback_target_and_gets_recorded(
    tmp_path: Path,
) -> None:
    """A run killed after storing its release, before making it current (or before writing
    its history line), leaves a release the history does not know."""
    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    second = build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    orphan = "20990101T000000.000000Z-dead"  # stored, never made current
    shutil.copytree(release_path(warehouse, second.run_id), tmp_path / "copy")
    store_release(tmp_path / "copy", warehouse, orphan)
    lines = (warehouse / "history.jsonl").read_text().splitlines()
    (warehouse / "history.jsonl").write_text(lines[0] + "\n")  # the second run's line is lost
    assert [(r.status, r.is_current) for r in list_releases(warehouse)] == [
        ("published", False),
        ("published", True),
        ("interrupted", False),
    ]
    assert rollback(warehouse) == (second.run_id, first.run_id)
    build(source_with(tmp_path / "in", ALL[:32]), warehouse)  # records both
    recorded = {e["run_id"]: e for e in read_history(warehouse) if e["event"] == "run"}
    assert recorded[second.run_id]["status"] == "failed"  # no longer current when recorded
    assert (recorded[orphan]["status"], recorded[orphan]["reason"]) == (
        "failed",
        "interrupted before it was made current",
    )


def test_the_current_release_without_a_history_line_is_recorded_as_published(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    (warehouse / "history.jsonl").unlink()  # killed after the switch, before the history
    build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    recorded = [e for e in read_history(warehouse) if e["event"] == "run"]
    assert (recorded[0]["run_id"], recorded[0]["status"], recorded[0]["records"]) == (
        first.run_id,
        "published",
        30,
    )
    assert rollback(warehouse)[1] == first.run_id


def test_undoing_a_rollback_leaves_both_releases_good(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    ids = [build(source_with(tmp_path / "in", ALL[: 30 + i]), warehouse).run_id for i in range(3)]
    rollback(warehouse)  # third -> second
    rollback(warehouse, ids[2])  # and back: the second was not bad for being left
    assert [r.status for r in list_releases(warehouse)] == ["published"] * 3
    assert collect_garbage(warehouse, keep=1) == [ids[0]]  # the second is the previous good
    assert rollback(warehouse) == (ids[2], ids[1])
    # the health report agrees: of four published runs one failed (the third, just rolled
    # back), not the second, which the undone rollback left for a newer release
    build(source_with(tmp_path / "in", ALL[:33]), warehouse)
    assert query(warehouse, "select runs, change_failure_rate from health_dora") == [(4, 0.25)]
    # the run history marks the release `occupipe releases` calls rolled back, and only it
    flagged = query(warehouse, "select distinct release_id from run_history where is_rolled_back")
    marked = [(r.release_id,) for r in list_releases(warehouse) if r.status == "rolled back"]
    assert flagged == marked == [(ids[2],)]
    # and names each rollback's direction: back, forward (undone), back again
    moves = query(
        warehouse,
        "select status, from_release, to_release from run_history where event = 'rollback'"
        " order by started_at",
    )
    assert moves == [
        ("rolled back", ids[2], ids[1]),
        ("rolled forward", ids[1], ids[2]),
        ("rolled back", ids[2], ids[1]),
    ]
