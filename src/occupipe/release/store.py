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

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import orjson

from occupipe.core.history import HistoryEvent, append_history, is_history_event, read_history
from occupipe.core.layout import (
    BUILD_DIR,
    CURRENT,
    DATABASE_NAME,
    MANIFEST,
    PARQUET_DIR,
    PARTS_DIR,
    QUARANTINE_DIR,
    RELEASES_DIR,
)


class ReleaseError(Exception):
    """A release operation cannot be done (unknown release, nothing to roll back to)."""


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
        event: HistoryEvent = {
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


def _bare(event: HistoryEvent) -> HistoryEvent:
    """A recovered history line without what a damaged manifest made unusable."""
    return {
        "event": event["event"],
        "run_id": event["run_id"],
        "status": event["status"],
        "reason": event.get("reason"),
        "release_id": event.get("release_id"),
    }


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


def read_manifest(warehouse: Path, release_id: str) -> dict[str, Any]:
    """A release's manifest; empty when it has none or it cannot be read (a hand edit)."""
    path = release_path(warehouse, release_id) / MANIFEST
    try:
        manifest = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def release_folders(warehouse: Path) -> list[Path]:
    """The release folders, oldest first (other entries under `releases/` are not releases)."""
    root = warehouse / RELEASES_DIR
    entries = sorted(root.iterdir()) if root.is_dir() else []
    return [path for path in entries if path.is_dir() and not path.name.startswith(".")]
