"""Releases: every run builds an immutable release; `current` points at the published one.

warehouse/
  current -> releases/<id>                 switched by one atomic rename
  occupations.duckdb -> current/occupations.duckdb   (stable paths analysts use)
  parquet -> current/parquet
  releases/<id>/{occupations.duckdb, parquet/, manifest.json}
  history.jsonl                            one line per run and per rollback
  quarantine/<sha256>.raw                  kept bytes of quarantined documents
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

DATABASE_NAME = "occupations.duckdb"
PARQUET_DIR = "parquet"
QUARANTINE_DIR = "quarantine"
PARTS_DIR = "parts"  # a build's intermediate Parquet part files, one folder per table
RELEASES_DIR = "releases"
CURRENT = "current"
HISTORY = "history.jsonl"
MANIFEST = "manifest.json"
INPUT_LEDGER = "inputs.parquet"  # every input document, its hash and outcome
BUILD_DIR = ".build"
HTTP_CACHE = Path(".cache") / "http"


class ReleaseError(Exception):
    """A release operation cannot be done (unknown release, nothing to roll back to)."""


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def current_release(warehouse: Path) -> str | None:
    """The id of the published release, or None before the first publish."""
    link = warehouse / CURRENT
    return Path(os.readlink(link)).name if link.is_symlink() else None


def release_path(warehouse: Path, release_id: str) -> Path:
    return warehouse / RELEASES_DIR / release_id


def has_warehouse(warehouse: Path, release_id: str) -> bool:
    """Whether a release holds its DuckDB file (the one thing serving it needs)."""
    return (release_path(warehouse, release_id) / DATABASE_NAME).exists()


def switch_current(warehouse: Path, release_id: str) -> None:
    """Point `current` (and so the stable paths) at a release, in one atomic rename."""
    if not has_warehouse(warehouse, release_id):
        raise ReleaseError(f"release {release_id} has no warehouse to publish")
    link_stable_paths(warehouse)
    staging = warehouse / f".{CURRENT}.{release_id}"
    staging.unlink(missing_ok=True)
    staging.symlink_to(Path(RELEASES_DIR) / release_id)
    os.replace(staging, warehouse / CURRENT)


def link_stable_paths(warehouse: Path) -> None:
    """Make `occupations.duckdb` and `parquet` links through `current` (once)."""
    for name in (DATABASE_NAME, PARQUET_DIR):
        path = warehouse / name
        if path.is_symlink():
            continue
        if path.is_dir():
            shutil.rmtree(path)  # a warehouse from before releases: its data is superseded
        elif path.exists():
            path.unlink()
        path.symlink_to(Path(CURRENT) / name)


def publish_release(build_dir: Path, warehouse: Path, release_id: str) -> Path:
    """Move a finished, gated build into `releases/` read-only, then make it current."""
    kept = warehouse / QUARANTINE_DIR
    kept.mkdir(parents=True, exist_ok=True)
    for path in (build_dir / QUARANTINE_DIR).glob("*.raw"):
        os.replace(path, kept / path.name)
    shutil.rmtree(build_dir / QUARANTINE_DIR, ignore_errors=True)
    shutil.rmtree(build_dir / PARTS_DIR, ignore_errors=True)
    stored = store_release(build_dir, warehouse, release_id)
    try:
        switch_current(warehouse, release_id)
    except BaseException:
        remove_release(stored)  # never made current: not left looking published
        raise
    return warehouse / DATABASE_NAME


def store_release(build_dir: Path, warehouse: Path, release_id: str) -> Path:
    """Move a build folder to `releases/<id>` and make its files read-only."""
    target = release_path(warehouse, release_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(build_dir, target)
    for path in target.rglob("*"):
        if path.is_file():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return target


def append_history(warehouse: Path, event: dict[str, Any]) -> None:
    """Add one line to the run history (append-only JSON lines)."""
    warehouse.mkdir(parents=True, exist_ok=True)
    with (warehouse / HISTORY).open("a+b") as history:  # appends, wherever it has read
        size = history.seek(0, os.SEEK_END)
        torn = False
        if size:
            history.seek(size - 1)
            torn = history.read(1) != b"\n"
        # after a crash mid-write, end the partial line first: this event keeps a line of its own
        line = json.dumps(event, sort_keys=True, default=str) + "\n"
        history.write((("\n" if torn else "") + line).encode("utf-8"))
        history.flush()
        os.fsync(history.fileno())


def read_history(warehouse: Path) -> list[dict[str, Any]]:
    """Every recorded run and rollback, oldest first. A line that is not one is skipped: the
    partial line a crash mid-write leaves, or a hand edit (every command reads the history)."""
    path = warehouse / HISTORY
    if not path.exists():
        return []
    events = []
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if is_history_event(event):
            events.append(event)
    return events


def is_history_event(event: object) -> bool:
    """A run or rollback line, with the types the warehouse's run history takes from it."""
    if not isinstance(event, dict):
        return False
    if event.get("event") == "run":
        names = isinstance(event.get("run_id"), str) and _is(event.get("status"), str)
    elif event.get("event") == "rollback":
        names = isinstance(event.get("to_release"), str)
    else:
        return False
    metrics = event.get("metrics") or {}
    return (
        names
        and all(_is(event.get(k), str) for k in ("reason", "release_id", "from_release"))
        and all(_is(event.get(k), int) for k in ("records", "quarantined"))
        and all(_is_time(event.get(k)) for k in ("started_at", "finished_at", "at"))
        and isinstance(metrics, dict)
        and all(_is(value, int | float) for value in metrics.values())
    )


def _is(value: object, kind: type | types.UnionType) -> bool:
    """None, or a value of `kind` (a boolean is not a number here)."""
    return value is None or (isinstance(value, kind) and not isinstance(value, bool))


def _is_time(value: object) -> bool:
    """None, or an ISO 8601 time."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def read_manifest(warehouse: Path, release_id: str) -> dict[str, Any]:
    """A release's manifest; empty when it has none or it cannot be read (a hand edit)."""
    path = release_path(warehouse, release_id) / MANIFEST
    try:
        manifest = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


@dataclass(frozen=True)
class ReleaseInfo:
    release_id: str
    created_at: str
    records: int | None
    gates: str
    status: str  # published, failed, rolled back
    is_current: bool


def list_releases(warehouse: Path) -> list[ReleaseInfo]:
    """Every release folder, oldest first, with what the history says happened to it.

    A release no run recorded was left by a run killed while publishing: `interrupted`
    (unless it is current), never a rollback target; the next run records it.
    """
    history = read_history(warehouse)
    runs = {e["run_id"]: e for e in history if e["event"] == "run"}
    rolled_back = rolled_back_releases(history)
    current = current_release(warehouse)
    infos = []
    for path in release_folders(warehouse):
        run = runs.get(path.name, {})
        manifest = read_manifest(warehouse, path.name)
        status = run.get("status") or manifest.get("status", "unknown")
        if not run and path.name != current:
            status = "interrupted"
        if status == "published" and path.name in rolled_back and path.name != current:
            status = "rolled back"
        infos.append(
            ReleaseInfo(
                release_id=path.name,
                created_at=run.get("finished_at") or str(manifest.get("finished_at", "")),
                records=recorded_records(manifest, run),
                gates=describe_gates(manifest.get("gates")),
                status=status,
                is_current=path.name == current,
            )
        )
    return infos


def release_folders(warehouse: Path) -> list[Path]:
    """The release folders, oldest first (other entries under `releases/` are not releases)."""
    root = warehouse / RELEASES_DIR
    entries = sorted(root.iterdir()) if root.is_dir() else []
    return [path for path in entries if path.is_dir() and not path.name.startswith(".")]


def rolled_back_releases(history: list[dict[str, Any]]) -> set[str]:
    """Releases rolled back away from: left for an older one, and not made current since
    (leaving a release for a newer one, undoing a rollback, says nothing against it)."""
    rolled_back: set[str] = set()
    for event in history:
        if event["event"] != "rollback":
            continue
        left, target = event.get("from_release"), event["to_release"]
        rolled_back.discard(target)
        if left and target < left:
            rolled_back.add(left)
    return rolled_back


def recorded_records(manifest: dict[str, Any], run: dict[str, Any]) -> int | None:
    """Records a release loaded: its manifest's count, else its run's."""
    counts = manifest.get("row_counts")
    records = counts.get("occupations") if isinstance(counts, dict) else None
    return records if isinstance(records, int) else run.get("records")


def describe_gates(gates: object) -> str:
    """passed, failed, or unknown (no gates recorded)."""
    if not isinstance(gates, dict) or not gates:
        return "unknown"
    passed = all(isinstance(g, dict) and g.get("passed") for g in gates.values())
    return "passed" if passed else "failed"


def find_release(warehouse: Path, release_id: str) -> ReleaseInfo:
    """A release by its id (a folder name under `releases/`, nothing else)."""
    for info in list_releases(warehouse):
        if info.release_id == release_id:
            return info
    raise ReleaseError(f"there is no release {release_id} in {warehouse}")


def good_releases(warehouse: Path) -> list[str]:
    """Published releases that were not rolled back away from, oldest first."""
    return [
        r.release_id
        for r in list_releases(warehouse)
        if r.status == "published" or (r.is_current and r.status == "rolled back")
    ]


def describe_rollback(from_release: str | None, to_release: str | None) -> str:
    """'rolled back' to an older release, 'rolled forward' to a newer one (release ids sort
    by time)."""
    if from_release is not None and to_release is not None and to_release > from_release:
        return "rolled forward"
    return "rolled back"


def rollback(warehouse: Path, target: str | None = None) -> tuple[str | None, str]:
    """Make an earlier good release current (default: the one published before the current)."""
    current = current_release(warehouse)
    if target is None:
        earlier = [
            r
            for r in good_releases(warehouse)
            if (current is None or r < current)
            and has_warehouse(warehouse, r)  # not one damaged by hand
        ]
        if not earlier:
            raise ReleaseError("there is no earlier good release to roll back to")
        target = earlier[-1]
    found = find_release(warehouse, target)
    if found.status not in ("published", "rolled back"):
        raise ReleaseError(
            f"release {target} was never published (its build {found.status}): only a"
            " published release can be made current again"
        )
    if not has_warehouse(warehouse, target):
        raise ReleaseError(f"there is no release {target} with a warehouse")
    if target == current:
        raise ReleaseError(f"release {target} is already current")
    switch_current(warehouse, target)
    append_history(
        warehouse,
        {"event": "rollback", "at": now_utc(), "from_release": current, "to_release": target},
    )
    return current, target


def collect_garbage(warehouse: Path, keep: int) -> list[str]:
    """Remove all but the `keep` newest releases; never the current or the previous good one."""
    releases = [r.release_id for r in list_releases(warehouse)]
    current = current_release(warehouse)
    good = [r for r in good_releases(warehouse) if current is None or r < current]
    protected = {current, good[-1] if good else None}
    doomed = [r for r in releases[: max(0, len(releases) - keep)] if r not in protected]
    for release_id in doomed:
        remove_release(release_path(warehouse, release_id))
    return doomed


def remove_release(path: Path) -> None:
    """Delete a (read-only) release folder: renamed out of `releases/` first, so a removal
    cut short leaves no half-release listed."""
    doomed = path.parent / f".removing.{path.name}"
    os.replace(path, doomed)
    delete_read_only(doomed)


def delete_read_only(path: Path) -> None:
    """Delete a folder whose files were made read-only."""
    for item in [path, *path.rglob("*")]:
        item.chmod(item.stat().st_mode | stat.S_IWUSR)
    shutil.rmtree(path)


def check_current_link(warehouse: Path) -> None:
    """Raise ReleaseError when `current` exists but is not a link: a copy of the warehouse
    that followed its links, which no release switch could replace."""
    link = warehouse / CURRENT
    if link.exists() and not link.is_symlink():
        raise ReleaseError(
            f"{link} is not a link to a release (was the warehouse copied with its links"
            " followed?); replace it with a link to one of releases/<id>, or remove it"
        )


def record_unrecorded_releases(warehouse: Path) -> list[str]:
    """Give a history line to every release no run recorded (its run was killed between
    storing it and writing the history): the current one as published, any other as failed,
    since it was never made current. Returns their ids."""
    recorded = {e["run_id"] for e in read_history(warehouse) if e["event"] == "run"}
    current = current_release(warehouse)
    found = []
    for path in release_folders(warehouse):
        if path.name in recorded:
            continue
        manifest = read_manifest(warehouse, path.name)
        counts = manifest.get("counts")
        counts = counts if isinstance(counts, dict) else {}
        published = path.name == current
        event = {
            "event": "run",
            "run_id": path.name,
            "started_at": manifest.get("started_at"),
            "finished_at": manifest.get("finished_at"),
            "status": "published" if published else "failed",
            "reason": None if published else "interrupted before it was made current",
            "release_id": path.name,
            "records": counts.get("loaded"),
            "quarantined": counts.get("quarantined"),
            "metrics": manifest.get("metrics") if published else None,
        }
        append_history(warehouse, event if is_history_event(event) else _bare(event))
        found.append(path.name)
    return found


def _bare(event: dict[str, Any]) -> dict[str, Any]:
    """A recovered history line without what a damaged manifest made unusable."""
    keep = ("event", "run_id", "status", "reason", "release_id")
    return {key: event[key] for key in keep}


def clean_partial_builds(warehouse: Path) -> list[str]:
    """Remove what a killed run left behind: build folders and unlinked staging links."""
    removed = []
    build_root = warehouse / BUILD_DIR
    for path in sorted(build_root.iterdir() if build_root.exists() else []):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for path in warehouse.glob(f".{CURRENT}.*"):
        path.unlink(missing_ok=True)
    for path in (warehouse / RELEASES_DIR).glob(".removing.*"):
        delete_read_only(path)  # a removal cut short
    return removed
