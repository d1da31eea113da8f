"""The run history (`history.jsonl`): one event per run and per rollback, appended and read back."""

from __future__ import annotations

import datetime as dt
import json
import os
import types
from pathlib import Path
from typing import Any, Literal, TypedDict

from occupipe.core.layout import HISTORY


class HistoryEvent(TypedDict, total=False):
    """One line of `history.jsonl`: a run (`event` "run") or a rollback (`event` "rollback").

    A run has `run_id`, `status` (published, failed, unchanged), its times, counts, gates and
    headline metrics; a rollback has `at`, `from_release` and `to_release`. Lines written by
    older versions may lack fields, so every reader uses `.get`.
    """

    event: Literal["run", "rollback"]
    run_id: str
    started_at: str | None
    finished_at: str | None
    status: str
    reason: str | None
    release_id: str | None
    records: int | None
    quarantined: int | None
    ignored: int
    gates: dict[str, dict[str, Any]]
    metrics: dict[str, Any] | None
    at: str
    from_release: str | None
    to_release: str


def now_utc() -> str:
    """The time now, UTC, as ISO 8601 with microseconds (the history's and manifests' times)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def append_history(warehouse: Path, event: HistoryEvent) -> None:
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


def read_history(warehouse: Path) -> list[HistoryEvent]:
    """Every recorded run and rollback, oldest first. A line that is not one is skipped: the
    partial line a crash mid-write leaves, or a hand edit (every command reads the history)."""
    path = warehouse / HISTORY
    if not path.exists():
        return []
    events: list[HistoryEvent] = []
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


def rolled_back_releases(history: list[HistoryEvent]) -> set[str]:
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


def describe_rollback(from_release: str | None, to_release: str | None) -> str:
    """'rolled back' to an older release, 'rolled forward' to a newer one (release ids sort
    by time)."""
    if from_release is not None and to_release is not None and to_release > from_release:
        return "rolled forward"
    return "rolled back"
