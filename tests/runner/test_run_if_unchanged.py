"""A run that would change nothing is found and recorded without a stage runner; any change
leaves the run to a real one, with nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from occupipe.core.layout import BUILD_DIR
from occupipe.runner.run import run_if_unchanged
from tests.helpers import SOULS, build, copy_records, copy_sample, options_for


def history(warehouse: Path) -> list[dict[str, Any]]:
    lines = (warehouse / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_run_with_nothing_changed_keeps_the_release_and_is_recorded(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "source", 12)
    first = build(source, tmp_path / "w")
    kept = run_if_unchanged(options_for(source, tmp_path / "w"))
    assert kept is not None
    assert (kept.unchanged_since, kept.loaded) == (first.release_id, 12)
    assert kept.changes == {"new": 0, "changed": 0, "unchanged": 12, "removed": 0}
    assert [event["status"] for event in history(tmp_path / "w")] == ["published", "unchanged"]


@pytest.mark.parametrize(
    "change",
    ["edit a file", "add a file", "remove a file", "another reference date", "full refresh"],
)
def test_any_change_leaves_the_run_to_a_stage_runner_and_records_nothing(
    tmp_path: Path, change: str
) -> None:
    source = copy_sample(tmp_path / "source", 12)
    build(source, tmp_path / "w")
    overrides: dict[str, Any] = {}
    files = sorted(source.glob("*.json"))
    if change == "edit a file":
        files[0].write_text(files[0].read_text().replace('"status"', ' "status"', 1))
    elif change == "add a file":
        copy_records(source, [sorted(SOULS.glob("*.json"))[12]])
    elif change == "remove a file":
        files[0].unlink()
    elif change == "another reference date":
        overrides["as_of"] = options_for(source, tmp_path / "w").as_of.replace(year=2027)
    else:
        overrides["full_refresh"] = True
    assert run_if_unchanged(options_for(source, tmp_path / "w", **overrides)) is None
    assert [event["status"] for event in history(tmp_path / "w")] == ["published"]
    assert not list((tmp_path / "w" / BUILD_DIR).glob("*"))  # no build folder left behind


def test_a_warehouse_without_a_release_needs_a_real_run(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "source", 3)
    assert run_if_unchanged(options_for(source, tmp_path / "w")) is None
    assert not (tmp_path / "w" / "history.jsonl").exists()
