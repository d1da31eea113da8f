"""Releases: immutable, gated, published atomically, reversible, collected; unchanged reruns."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from occupipe.core.history import read_history
from occupipe.core.runs import RunFailed
from occupipe.release.catalog import collect_garbage, list_releases, rollback
from occupipe.release.manifest import dump_indented, file_sha256
from occupipe.release.store import ReleaseError, current_release, release_path
from tests.helpers import ALL, build, count, source_with


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
