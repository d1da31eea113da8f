"""Folder sources read again: single files, unchanged and incremental re-runs, the file index."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from occupipe.core.history import read_history
from occupipe.core.rejection import SourceError
from occupipe.ingest import cache as cache_module
from occupipe.ingest.batch import process_batch
from occupipe.ingest.cache import ExtractCache
from occupipe.ingest.fingerprints import (
    fingerprint_files,
    index_matches,
    reuse_fingerprints,
    summarize_changes,
)
from occupipe.release.store import current_release
from tests.helpers import SOULS, build, copy_records, parquet_digests, query


def test_a_single_file_source_is_accepted(tmp_path: Path) -> None:
    records = [json.loads(p.read_text()) for p in sorted(SOULS.glob("*.json"))[:5]]
    dump = tmp_path / "dump.ndjson"
    dump.write_text("\n".join(json.dumps(r) for r in records))
    summary = build(dump, tmp_path / "wh")
    assert (summary.loaded, summary.rejected) == (5, 0)


def count_extractions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = process_batch  # what the cache module calls

    def counting(batch: list[Path], *args: Any) -> Any:
        calls.append(len(batch))
        return original(batch, *args)

    monkeypatch.setattr(cache_module, "process_batch", counting)
    return calls


def test_an_unchanged_rerun_parses_nothing_and_publishes_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = copy_records(tmp_path / "in", sorted(SOULS.glob("*.json")))
    warehouse = tmp_path / "wh"
    calls = count_extractions(monkeypatch)
    build(source, warehouse, batch_size=20)
    parsed_first = sum(calls)
    before = parquet_digests(warehouse)
    calls.clear()
    summary = build(source, warehouse, batch_size=20)
    assert parsed_first == 182 and calls == []
    assert summary.changes == {"new": 0, "changed": 0, "unchanged": 182, "removed": 0}
    assert parquet_digests(warehouse) == before
    build(source, warehouse, batch_size=20, full_refresh=True)
    assert sum(calls) == 182


def test_an_incremental_run_equals_a_full_rebuild_and_reparses_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = sorted(SOULS.glob("*.json"))
    source = copy_records(tmp_path / "in", paths[:150])
    warehouse = tmp_path / "wh"
    build(source, warehouse, batch_size=20)
    calls = count_extractions(monkeypatch)
    (source / paths[0].name).unlink()  # removed
    shutil.copy(paths[160], source / paths[160].name)  # new
    edited = json.loads(paths[10].read_text())
    edited["title"] = "Edited Title"
    (source / paths[10].name).write_text(json.dumps(edited))  # changed
    summary = build(source, warehouse, batch_size=20)
    assert summary.changes == {"new": 1, "changed": 1, "unchanged": 148, "removed": 1}
    assert 0 < sum(calls) <= 3 * 40  # only the batches holding the three changes
    full = build(source, tmp_path / "full", batch_size=20, full_refresh=True)
    assert parquet_digests(warehouse) == parquet_digests(tmp_path / "full")
    assert full.loaded == 150
    changes = query(
        warehouse, f"select change, slug from entity_changes where run_id = '{summary.run_id}'"
    )
    assert sorted(changes) == sorted(
        [("removed", paths[0].stem), ("added", paths[160].stem), ("changed", paths[10].stem)]
    )


def test_only_new_and_modified_files_must_be_read_again(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    for name in ("a.json", "b.json", "c.json"):
        (folder / name).write_text("{}")
    paths = sorted(folder.iterdir())
    prints = fingerprint_files(paths, folder, reuse_fingerprints(paths, folder, None))
    assert reuse_fingerprints(paths, folder, prints).equals(prints)
    assert index_matches(prints, prints)
    (folder / "b.json").write_text('{"changed": true}')
    (folder / "d.json").write_text("{}")
    paths = sorted(folder.iterdir())
    reused = reuse_fingerprints(paths, folder, prints)
    names, digests = reused["source_file"].to_pylist(), reused["sha256"].to_pylist()
    assert [n if d else None for n, d in zip(names, digests, strict=True)] == [
        b"a.json",
        None,
        b"c.json",
        None,
    ]
    after = fingerprint_files(paths, folder, reused)
    assert not index_matches(prints, after)
    assert summarize_changes(prints, after) == {
        "new": 1,
        "changed": 1,
        "unchanged": 2,
        "removed": 0,
    }
    (folder / "a.json").unlink()
    gone = fingerprint_files(paths[1:], folder, reuse_fingerprints(paths[1:], folder, after))
    assert summarize_changes(after, gone) == {"new": 0, "changed": 0, "unchanged": 3, "removed": 1}


def test_the_json_index_of_earlier_versions_still_tells_what_changed(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "a.json").write_text("{}")
    (folder / "b.json").write_text("{}")
    cache = ExtractCache(tmp_path / "warehouse", "code")
    cache.root.mkdir(parents=True)
    old = {"a.json": {"source_file": "a.json", "size": 2, "mtime_ns": 1, "sha256": "stale"}}
    old["b.json"] = {
        **old["a.json"],
        "source_file": "b.json",
        "sha256": hashlib.sha256(b"{}").hexdigest(),
    }
    (cache.root / "index.json").write_text(json.dumps({"code": "old", "files": old}))
    known = cache.load_index()
    paths = sorted(str(p) for p in folder.iterdir())
    reused = reuse_fingerprints(paths, folder, known)
    assert reused["sha256"].null_count == 2  # written by other code: every file is read again
    changes = summarize_changes(known, fingerprint_files(paths, folder, reused))
    assert changes == {"new": 0, "changed": 1, "unchanged": 1, "removed": 0}
    cache.save_index(fingerprint_files(paths, folder, reused))
    assert not (cache.root / "index.json").exists()


def test_a_saved_index_is_reused_only_by_the_same_code(tmp_path: Path) -> None:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "a.json").write_text("{}")
    paths = [folder / "a.json"]
    prints = fingerprint_files(paths, folder, reuse_fingerprints(paths, folder, None))
    ExtractCache(tmp_path / "warehouse", "code-1").save_index(prints)
    same = ExtractCache(tmp_path / "warehouse", "code-1").load_index()
    other = ExtractCache(tmp_path / "warehouse", "code-2").load_index()
    assert same is not None and same.equals(prints)
    assert other is not None and other["sha256"].equals(prints["sha256"])
    assert reuse_fingerprints(paths, folder, other)["sha256"].null_count == 1  # read again


@pytest.mark.parametrize(
    ("stray_files", "message"),
    [
        ([], "holds no record files (.json, .jsonl or .ndjson): nothing to build"),
        (["notes.txt"], "(1 other file ignored): nothing to build"),
        (["notes.txt", "a.csv"], "(2 other files ignored): nothing to build"),
    ],
)
def test_a_folder_without_record_files_fails_and_keeps_the_current_release(
    tmp_path: Path, stray_files: list[str], message: str
) -> None:
    source = copy_records(tmp_path / "in", sorted(SOULS.glob("*.json"))[:3])
    warehouse = tmp_path / "wh"
    first = build(source, warehouse)
    for record in source.glob("*.json"):
        record.unlink()
    for name in stray_files:
        (source / name).write_text("not a record\n")
    with pytest.raises(SourceError, match=re.escape(message)):
        build(source, warehouse, allow_shrink=True)
    assert current_release(warehouse) == first.run_id
    assert read_history(warehouse)[-1]["status"] == "failed"
    assert message in str(read_history(warehouse)[-1]["reason"])
