"""Releases are crash-safe: one run at a time, killed runs, damaged or foreign files in releases."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from occupipe.core.history import read_history
from occupipe.core.runs import RunFailed
from occupipe.core.settings import PROJECT_DIR
from occupipe.release.catalog import collect_garbage, list_releases
from occupipe.release.lock import RunLocked, run_lock
from occupipe.release.store import current_release, release_path
from tests.helpers import ALL, build, count, source_with


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
