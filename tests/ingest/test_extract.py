"""Turning bytes into records or rejections, and finding inputs in a folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from occupipe.core.rejection import Rejection, SourceError
from occupipe.ingest.discover import discover_inputs, relative_name, walk_files
from occupipe.ingest.documents import BOM, Extracted, extract_documents, extract_record, hash_bytes
from tests.helpers import minimal_record


def test_valid_bytes_become_a_record_with_its_hash() -> None:
    outcome = extract_record(json.dumps(minimal_record()).encode(), "a.json")
    assert isinstance(outcome, Extracted)
    assert outcome.record.slug == "test-role"
    assert len(outcome.content_hash) == 64


@pytest.mark.parametrize(
    ("raw", "stage", "reason_start"),
    [
        (b"", "read", "file is empty"),
        (b"  \n", "read", "file is empty"),
        (b'{"slug": "x", "title":', "parse", "not valid JSON"),
        (b"hello", "parse", "not valid JSON"),
        (b"42", "parse", "top-level value is a number"),
        (b'{"slug": "x"}', "validate", "title: required field is missing (and 2 more problems)"),
    ],
)
def test_bad_bytes_are_rejected_with_stage_and_reason(
    raw: bytes, stage: str, reason_start: str
) -> None:
    outcome = extract_record(raw, "bad.json")
    assert isinstance(outcome, Rejection)
    assert (outcome.source_file, outcome.stage) == ("bad.json", stage)
    assert outcome.reason.startswith(reason_start)
    assert "\n" not in outcome.reason


def test_discover_finds_records_recursively_and_ignores_other_files(tmp_path: Path) -> None:
    for folder in ("sub", ".hidden", "a"):
        (tmp_path / folder).mkdir()
    names = [
        "b.json",
        "a.json",
        "sub/c.json",
        "a-b.json",
        "NOTES.txt",
        ".hidden/d.json",
        "a/z.json",
    ]
    for name in names:
        (tmp_path / name).write_text("{}")
    (tmp_path / ".e.json").write_text("{}")
    (tmp_path / "linked").symlink_to(tmp_path / "sub")  # a link to a folder is not followed
    (tmp_path / "gone.json").symlink_to(tmp_path / "missing.json")  # listed, fails when read
    records, ignored = discover_inputs(tmp_path)
    # in path order, folder by folder: `a/z.json` sorts before `a-b.json` (`a` < `a-b.json`)
    assert [Path(p).relative_to(tmp_path).as_posix() for p in records] == [
        "a/z.json",
        "a-b.json",
        "a.json",
        "b.json",
        "gone.json",
        "sub/c.json",
    ]
    assert [Path(p).name for p in ignored] == ["NOTES.txt"]


def test_found_paths_join_the_folder_with_one_slash(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "r.json").write_text("{}")
    for folder in (str(tmp_path), f"{tmp_path}/"):
        assert list(walk_files(folder)) == [f"{tmp_path}/sub/r.json"]


def test_a_warehouse_inside_the_source_is_not_read_as_input(tmp_path: Path) -> None:
    (tmp_path / "wh" / "releases").mkdir(parents=True)
    (tmp_path / "wh" / "history.jsonl").write_text("{}")
    (tmp_path / "wh" / "releases" / "manifest.json").write_text("{}")
    (tmp_path / "r.json").write_text("{}")
    records, ignored = discover_inputs(tmp_path, skip=tmp_path / "wh")
    assert (records, ignored) == ([f"{tmp_path}/r.json"], [])


@pytest.mark.parametrize("source", [".", "wh", "wh/sub"])
def test_a_source_that_is_the_warehouse_or_lies_inside_it_is_refused(
    tmp_path: Path, source: str
) -> None:
    (tmp_path / "wh" / "sub").mkdir(parents=True)
    (tmp_path / "wh" / "history.jsonl").write_text("{}")
    (tmp_path / "wh" / "sub" / "r.json").write_text("{}")
    warehouse = tmp_path / "wh" if source != "." else tmp_path
    with pytest.raises(SourceError, match="keep the source outside the warehouse"):
        discover_inputs(tmp_path / source, skip=warehouse)


@pytest.mark.parametrize(
    ("folder", "history", "read"),
    [
        ("releases", True, False),  # another run's warehouse: left out
        ("releases", False, True),  # a folder of records that happens to be called so
        ("batches", True, True),
    ],
)
def test_another_warehouse_inside_the_source_is_not_read_either(
    tmp_path: Path, folder: str, history: bool, read: bool
) -> None:
    old = tmp_path / "old-warehouse"
    (old / folder / "r1").mkdir(parents=True)
    (old / folder / "r1" / "manifest.json").write_text("{}")
    if history:
        (old / "history.jsonl").write_text("{}")
    (tmp_path / "r.json").write_text("{}")
    records, _ = discover_inputs(tmp_path, skip=tmp_path / "wh")
    inside = [f"{old}/{folder}/r1/manifest.json", *([f"{old}/history.jsonl"] if history else [])]
    expected = sorted(inside) if read else []
    assert records == [*expected, f"{tmp_path}/r.json"]


def test_a_missing_source_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        discover_inputs(tmp_path / "nope")


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("data/raw/a.json", "data/raw", "a.json"),
        ("/srv/corpus/x/y.json", "/srv/corpus", "x/y.json"),
        ("a.json", ".", "a.json"),
        ("/a.json", "/", "a.json"),
    ],
)
def test_relative_name_agrees_with_pathlib(path: str, root: str, expected: str) -> None:
    assert (
        relative_name(Path(path), Path(root)) == expected == Path(path).relative_to(root).as_posix()
    )


def test_a_known_digest_is_the_content_hash_unless_a_bom_was_stripped() -> None:
    raw = json.dumps(minimal_record()).encode()
    (outcome,) = extract_documents(raw, "a.json", hash_bytes(raw))
    assert isinstance(outcome, Extracted) and outcome.content_hash == hash_bytes(raw)
    (outcome,) = extract_documents(BOM + raw, "a.json", hash_bytes(BOM + raw))
    assert isinstance(outcome, Extracted) and outcome.content_hash == hash_bytes(raw)
