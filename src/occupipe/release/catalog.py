"""The releases of a warehouse as a list: their status, rollback and garbage collection."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from occupipe.core.history import (
    HistoryEvent,
    append_history,
    now_utc,
    read_history,
    rolled_back_releases,
)
from occupipe.release.store import (
    ReleaseError,
    current_release,
    has_warehouse,
    read_manifest,
    release_folders,
    release_path,
    remove_release,
    switch_current,
)
from occupipe.release.verify import check_release


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


def recorded_records(manifest: dict[str, Any], run: HistoryEvent) -> int | None:
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


def rollback(warehouse: Path, target: str | None = None) -> tuple[str | None, str]:
    """Make an earlier good release current (default: the one published before the current).

    A target whose files differ from its manifest is refused (ReleaseError naming the first
    such file), the default one too: an older release is not chosen behind the user's back.
    """
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
    check_release(warehouse, target)  # a release whose files changed is not served again
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
