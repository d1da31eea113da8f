"""Releases: immutable, gated, published atomically, reversible, remembered, crash-safe."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from occupipe.core.history import append_history, read_history
from occupipe.core.runs import RunFailed
from occupipe.core.settings import PROJECT_DIR
from occupipe.release.catalog import collect_garbage, list_releases, rollback
from occupipe.release.lock import RunLocked, run_lock
from occupipe.release.manifest import dump_indented, file_sha256
from occupipe.release.store import ReleaseError, current_release, release_path, store_release
from tests.helpers import SOULS, build, copy_records, query

ALL = sorted(SOULS.glob("*.json"))


def source_with(folder: Path, paths: list[Path]) -> Path:
    """A fresh folder holding exactly these records."""
    shutil.rmtree(folder, ignore_errors=True)
    return copy_records(folder, paths)


def count(warehouse: Path) -> int:
    return int(query(warehouse, "select count(*) from occupations")[0][0])


def test_each_run_is_a_release_with_a_complete_manifest(tmp_path: Path) -> None:
    source = source_with(tmp_path / "in", ALL[:30])
    summary = build(source, tmp_path / "wh")
    release = tmp_path / "wh" / "releases" / summary.run_id
    assert current_release(tmp_path / "wh") == summary.run_id
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["status"] == "published"
    assert manifest["inputs"] == {"ledger": "inputs.parquet", "documents": 30}
    ledger = pq.read_table(release / "inputs.parquet")
    assert ledger.num_rows == 30 and set(ledger.column("outcome").to_pylist()) == {"loaded"}
    assert "inputs.parquet" in manifest["outputs"]
    assert (
        manifest["occupipe"]["git_commit"] is None or len(manifest["occupipe"]["git_commit"]) == 40
    )
    assert manifest["dependencies"]["duckdb"] == duckdb.__version__
    assert manifest["row_counts"]["occupations"] == 30
    assert {"extract", "parquet", "load", "models", "tests"} <= set(manifest["stage_seconds"])
    models = {path.stem for path in Path("sql").rglob("*.sql") if path.parent.name != "tests"}
    assert set(manifest["model_seconds"]) == models  # every model, timed
    assert all(seconds >= 0 for seconds in manifest["model_seconds"].values())
    assert all(g["passed"] for g in manifest["gates"].values())
    assert set(manifest["gates"]) == {"reject_rate", "volume", "schema", "data_tests"}
    assert manifest["options"]["max_shrink"] == "0.1"
    for name, digest in manifest["outputs"].items():
        assert file_sha256(release / name) == digest
    assert {"parquet/occupations.parquet", "occupations.duckdb"} <= set(manifest["outputs"])
    # immutable: published files are read-only
    assert not os.stat(release / "occupations.duckdb").st_mode & 0o222


@pytest.mark.parametrize(
    "value",
    [
        {"inputs": [{"source": "a.json", "sha256": "00"}], "counts": {"loaded": 1}},
        {"options": {"source": "données/\u00e9"}, "when": dt.date(2026, 1, 2)},
        {"options": {"source": "undecodable-\udcff.json"}},  # orjson refuses: json escapes it
    ],
)
def test_the_manifest_is_indented_json_that_reads_back_the_same(value: dict[str, object]) -> None:
    written = dump_indented(value)
    assert json.loads(written) == json.loads(json.dumps(value, default=str))
    assert written.startswith(b'{\n  "')


def test_stable_paths_follow_the_current_release(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    second = build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    assert (warehouse / "occupations.duckdb").resolve().parent.name == second.run_id
    assert (warehouse / "parquet").resolve().parent.name == second.run_id
    assert pq.read_metadata(warehouse / "parquet" / "occupations.parquet").num_rows == 31
    assert first.run_id < second.run_id  # ids sort by time


def test_a_reader_keeps_its_view_and_never_blocks_a_run(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    reader = duckdb.connect(str(warehouse / "occupations.duckdb"), read_only=True)
    build(source_with(tmp_path / "in", ALL[:32]), warehouse)  # publishes while the reader is open
    assert reader.execute("select count(*) from occupations").fetchall() == [(30,)]
    reader.close()
    assert count(warehouse) == 32


def test_the_volume_guard_stops_a_large_drop_unless_allowed(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    build(source_with(tmp_path / "in", ALL[:40]), warehouse)
    smaller = source_with(tmp_path / "in", ALL[:35])  # 12.5% fewer
    with pytest.raises(RunFailed, match=r"gate volume failed: records would drop from 40 to 35"):
        build(smaller, warehouse)
    assert count(warehouse) == 40
    releases = list_releases(warehouse)
    assert [r.status for r in releases] == ["published", "failed"]
    # the failed release keeps what it built (the Parquet is written beside the load), and its
    # manifest checksums exactly that
    failed = release_path(warehouse, releases[1].release_id)
    outputs = json.loads((failed / "manifest.json").read_text())["outputs"]
    assert "parquet/occupations.parquet" in outputs and "inputs.parquet" in outputs
    assert all(file_sha256(failed / name) == digest for name, digest in outputs.items())
    build(smaller, warehouse, allow_shrink=True)
    assert count(warehouse) == 35
    build(source_with(tmp_path / "in", ALL[:33]), warehouse)  # 5.7% fewer: within 10%


def test_the_schema_gate_stops_a_removed_or_retyped_column(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    source = source_with(tmp_path / "in", ALL[:30])
    build(source, warehouse)
    # pretend the published `tags` table had a column this code no longer writes
    published = (warehouse / "parquet" / "tags.parquet").resolve()
    table = pq.read_table(published)
    published.chmod(0o644)
    pq.write_table(table.append_column("weight", pa.array([1.0] * table.num_rows)), published)
    with pytest.raises(RunFailed, match=r"gate schema failed: .*tags.weight removed"):
        build(source, warehouse, full_refresh=True)
    build(source, warehouse, full_refresh=True, allow_schema_change=True)


def test_rollback_restores_the_previous_good_release_in_one_step(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    second = build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    with pytest.raises(RunFailed):
        build(source_with(tmp_path / "in", ALL[:20]), warehouse)  # a failed run in between
    failed = list_releases(warehouse)[-1]
    assert (failed.status, failed.records) == ("failed", 20)
    with pytest.raises(ReleaseError, match=r"never published \(its build failed\)"):
        rollback(warehouse, failed.release_id)
    assert current_release(warehouse) == second.run_id
    assert rollback(warehouse) == (second.run_id, first.run_id)
    assert count(warehouse) == 30
    assert [r.status for r in list_releases(warehouse)] == ["published", "rolled back", "failed"]
    assert rollback(warehouse, second.run_id) == (first.run_id, second.run_id)
    assert count(warehouse) == 31
    with pytest.raises(ReleaseError, match="already current"):
        rollback(warehouse, second.run_id)
    for unknown in ("nope", f"../../{warehouse.name}/releases/{first.run_id}"):
        with pytest.raises(ReleaseError, match="there is no release"):
            rollback(warehouse, unknown)


def test_a_plain_rollback_passes_over_a_release_that_lost_its_warehouse_file(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "wh"
    ids = [build(source_with(tmp_path / "in", ALL[: 30 + i]), warehouse).run_id for i in range(3)]
    (release_path(warehouse, ids[1]) / "occupations.duckdb").unlink()
    assert rollback(warehouse) == (ids[2], ids[0])


def test_rollback_without_an_earlier_release_says_so(tmp_path: Path) -> None:
    build(source_with(tmp_path / "in", ALL[:30]), tmp_path / "wh")
    with pytest.raises(ReleaseError, match="no earlier good release"):
        rollback(tmp_path / "wh")


def test_gc_keeps_the_newest_and_never_the_current_or_previous_good(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    ids = [build(source_with(tmp_path / "in", ALL[: 30 + i]), warehouse).run_id for i in range(4)]
    rollback(warehouse, ids[1])  # current is now the second; the previous good is the first
    removed = collect_garbage(warehouse, keep=1)
    assert removed == [ids[2]]
    assert [r.release_id for r in list_releases(warehouse)] == [ids[0], ids[1], ids[3]]
    assert count(warehouse) == 31


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


def test_a_second_run_at_once_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    with run_lock(warehouse), pytest.raises(RunLocked, match="another run is in progress \\(pid"):
        build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    # a lock held by some other program (it writes nothing in the file) is named as such
    with (warehouse / ".lock").open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(RunLocked, match="another process holds the warehouse lock"):
            build(source_with(tmp_path / "in", ALL[:30]), warehouse)


def test_the_lock_does_not_survive_a_killed_run(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse)], stdout=subprocess.PIPE, cwd=PROJECT_DIR
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
    with pytest.raises(RunLocked):
        build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    build(source_with(tmp_path / "in", ALL[:30]), warehouse)  # no manual cleanup needed


HOLD_LOCK = """
import sys, time
from pathlib import Path
from occupipe.release.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""

RUN = """
import sys
from pathlib import Path
from tests.helpers import build
build(Path(sys.argv[1]), Path(sys.argv[2]))
"""


@pytest.mark.parametrize("point", ["after-extract", "after-load", "before-publish"])
def test_a_run_killed_at_any_point_leaves_the_current_release_intact(
    tmp_path: Path, point: str
) -> None:
    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    source = source_with(tmp_path / "in", ALL[:32])
    env = {**os.environ, "OCCUPIPE_CRASH_AT": point}
    killed = subprocess.run(
        [sys.executable, "-c", RUN, str(source), str(warehouse)],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    assert current_release(warehouse) == first.run_id
    assert count(warehouse) == 30
    assert any((warehouse / ".build").iterdir())  # the partial build is still there
    build(source, warehouse)  # the next run cleans it up and publishes
    assert count(warehouse) == 32
    assert [p.name for p in (warehouse / ".build").iterdir()] == []
    assert len(list_releases(warehouse)) == 2


def test_a_process_a_test_starts_shares_the_sessions_prefect_home() -> None:
    # the killed runs above import the fixtures: a home of their own was left in /tmp each time
    shown = subprocess.run(
        [sys.executable, "-c", "import os, tests.conftest; print(os.environ['PREFECT_HOME'])"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert shown.stdout.strip() == os.environ["PREFECT_HOME"]


def test_a_rerun_after_files_were_touched_but_not_changed_keeps_the_current_release(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "wh"
    source = source_with(tmp_path / "in", ALL[:30])
    first = build(source, warehouse)
    touched = sorted(source.glob("*.json"))[3]
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    again = build(source, warehouse)  # the file is hashed again: same bytes, same build
    assert again.unchanged_since == first.run_id
    assert (again.inputs, again.loaded, again.rejected) == (30, 30, 0)
    assert [r.release_id for r in list_releases(warehouse)] == [first.run_id]


def test_a_rerun_with_nothing_changed_keeps_the_current_release(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    source = source_with(tmp_path / "in", ALL[:30])
    first = build(source, warehouse)
    again = build(source, warehouse)
    assert again.unchanged_since == first.run_id
    assert (again.loaded, again.rejected) == (30, 0)
    assert [r.release_id for r in list_releases(warehouse)] == [first.run_id]
    assert read_history(warehouse)[-1]["status"] == "unchanged"
    other_day = build(source, warehouse, as_of=dt.date(2026, 7, 1))  # the reference date counts
    assert other_day.unchanged_since is None and current_release(warehouse) == other_day.run_id


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


def test_a_damaged_manifest_neither_breaks_listing_nor_passes_for_unchanged(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "wh"
    source = source_with(tmp_path / "in", ALL[:30])
    first = build(source, warehouse)
    manifest = release_path(warehouse, first.run_id) / "manifest.json"
    manifest.chmod(0o644)
    manifest.write_text("{broken")
    (info,) = list_releases(warehouse)
    assert (info.status, info.gates, info.records) == ("published", "unknown", 30)
    second = build(source, warehouse)  # the release cannot say what it was built from: rebuilt
    assert second.release_id != first.run_id and current_release(warehouse) == second.run_id


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


def test_entries_under_releases_that_are_not_releases_are_ignored(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    ids = [build(source_with(tmp_path / "in", ALL[: 30 + i]), warehouse).run_id for i in range(3)]
    (warehouse / "releases" / "00-notes.txt").write_text("hi")
    assert [r.release_id for r in list_releases(warehouse)] == ids
    assert collect_garbage(warehouse, keep=1) == [ids[0]]
    assert (warehouse / "releases" / "00-notes.txt").exists()


@pytest.mark.parametrize("damage", ["published Parquet removed", "current link removed"])
def test_the_volume_gate_holds_when_the_current_release_lost_a_file(
    tmp_path: Path, damage: str
) -> None:
    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:40]), warehouse)
    if damage == "current link removed":
        (warehouse / "current").unlink()
    else:
        (release_path(warehouse, first.run_id) / "parquet" / "occupations.parquet").unlink()
    with pytest.raises(RunFailed, match=r"gate volume failed: records would drop from 40 to 30"):
        build(source_with(tmp_path / "in", ALL[:30]), warehouse)


def test_a_damaged_current_warehouse_file_does_not_stop_its_replacement(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    database = release_path(warehouse, first.run_id) / "occupations.duckdb"
    database.chmod(0o644)
    with database.open("r+b") as damaged:
        damaged.seek(4096)
        damaged.write(os.urandom(64 * 1024))
    second = build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    assert current_release(warehouse) == second.run_id and count(warehouse) == 31


def test_a_release_that_cannot_be_made_current_is_not_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from occupipe.release import store as releases

    warehouse = tmp_path / "wh"
    first = build(source_with(tmp_path / "in", ALL[:30]), warehouse)

    def refuse(warehouse: Path, release_id: str) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(releases, "switch_current", refuse)
    with pytest.raises(PermissionError):
        build(source_with(tmp_path / "in", ALL[:31]), warehouse)
    assert [r.release_id for r in list_releases(warehouse)] == [first.run_id]
    assert read_history(warehouse)[-1]["status"] == "failed"


def test_a_warehouse_copied_with_its_links_followed_is_refused_before_any_work(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "wh"
    build(source_with(tmp_path / "in", ALL[:30]), warehouse)
    copy = tmp_path / "copy"
    shutil.copytree(warehouse, copy, symlinks=False)  # `cp -rL`: current becomes a folder
    before = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    with pytest.raises(RunFailed, match=r"current is not a link to a release"):
        build(source_with(tmp_path / "in", ALL[:31]), copy)
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == before  # nothing touched
