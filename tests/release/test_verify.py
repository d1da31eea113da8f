"""Verification: a release's or an export's files re-hashed against its manifest; rollback refuses
a release that fails it."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from occupipe.core.history import read_history
from occupipe.core.objectstore import s3_filesystem
from occupipe.export.writer import export_release
from occupipe.release.catalog import rollback
from occupipe.release.store import ReleaseError, current_release, release_path
from occupipe.release.verify import FileProblem, verify_export, verify_release
from tests.helpers import flip_byte
from tests.servers import S3Server


def releases_of(warehouse: Path) -> list[str]:
    return sorted(path.name for path in (warehouse / "releases").iterdir())


def outputs_of(warehouse: Path, release_id: str) -> dict[str, str]:
    manifest = release_path(warehouse, release_id) / "manifest.json"
    outputs: dict[str, str] = json.loads(manifest.read_text())["outputs"]
    return outputs


def test_an_intact_release_verifies_clean(small_warehouse: Path) -> None:
    for release_id in releases_of(small_warehouse):
        result = verify_release(small_warehouse, release_id)
        assert result.intact and result.problems == ()
        assert result.checked == len(outputs_of(small_warehouse, release_id)) >= 15
        assert (
            result.summary() == f"release {release_id}: {result.checked} files verified, all intact"
        )


def test_a_flipped_byte_in_a_parquet_file_is_named(small_warehouse: Path) -> None:
    release_id = releases_of(small_warehouse)[0]
    changed = release_path(small_warehouse, release_id) / "parquet" / "occupations.parquet"
    flip_byte(changed)
    result = verify_release(small_warehouse, release_id)
    expected = outputs_of(small_warehouse, release_id)["parquet/occupations.parquet"]
    actual = hashlib.sha256(changed.read_bytes()).hexdigest()
    assert result.problems == (
        FileProblem("parquet/occupations.parquet", "changed", expected, actual),
    )
    assert result.problems[0].describe() == (
        f"parquet/occupations.parquet changed (sha256 {actual[:12]}..., the manifest says"
        f" {expected[:12]}...)"
    )
    assert result.summary().endswith("files verified, 1 differs")


def test_a_deleted_file_and_a_stray_one_are_named(small_warehouse: Path) -> None:
    release_id = releases_of(small_warehouse)[1]
    folder = release_path(small_warehouse, release_id)
    (folder / "parquet" / "tags.parquet").unlink()
    (folder / "parquet" / "extra.parquet").write_bytes(b"PAR1")
    result = verify_release(small_warehouse, release_id)
    assert [p.describe() for p in result.problems] == [
        "parquet/extra.parquet is not in the manifest",
        "parquet/tags.parquet is missing",
    ]
    assert not result.intact and result.summary().endswith(", 2 differ")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "manifest.json is missing"),
        (b"{broken", "manifest.json is unreadable (not JSON: "),
        (b'{"outputs": {}}', "manifest.json is unreadable (it lists no checksums in 'outputs')"),
        (b'{"outputs": {"../../history.jsonl": "00"}}', "../../history.jsonl is unreadable ("),
    ],
)
def test_a_missing_or_damaged_manifest_fails_verification(
    small_warehouse: Path, content: bytes | None, problem: str
) -> None:
    release_id = releases_of(small_warehouse)[0]
    manifest = release_path(small_warehouse, release_id) / "manifest.json"
    manifest.unlink()
    if content is not None:
        manifest.write_bytes(content)
    result = verify_release(small_warehouse, release_id)
    assert not result.intact and result.problems[0].describe().startswith(problem)


@pytest.mark.parametrize("release_id", ["nope", "../wh", ".build"])
def test_an_unknown_release_is_refused(small_warehouse: Path, release_id: str) -> None:
    with pytest.raises(ReleaseError, match=f"there is no release {release_id} in"):
        verify_release(small_warehouse, release_id)


def test_an_export_verifies_clean_then_names_a_flipped_byte(
    small_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    manifest = export_release(small_warehouse, out, partition_by="category")
    result = verify_export(out)
    assert result.intact and result.checked == len(manifest["files"]) > 12
    assert result.summary() == f"export {out}: {result.checked} files verified, all intact"
    name = sorted(manifest["files"])[0]
    flip_byte(out / name)
    (out / "notes.txt").write_text("not exported")
    (out / "README.md").write_text("edited")  # not checksummed: prose for people
    assert [(p.name, p.kind) for p in verify_export(str(out)).problems] == [
        (name, "changed"),
        ("notes.txt", "unlisted"),
    ]


def test_a_location_without_an_export_manifest_is_no_export(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    for location in ("missing", "empty", "file"):
        with pytest.raises(ReleaseError, match=f"no export at .*{location}: it holds no manifest"):
            verify_export(tmp_path / location)


def test_an_export_on_s3_is_verified_and_a_flipped_byte_named(
    small_warehouse: Path, tmp_path: Path, s3_server: S3Server
) -> None:
    export_release(small_warehouse, tmp_path / "export")
    prefix = f"verify-{uuid.uuid4().hex[:8]}"
    fs = s3_filesystem()
    fs.put(f"{tmp_path / 'export'}/", f"{s3_server.bucket}/{prefix}", recursive=True)
    uri = s3_server.uri(prefix)
    result = verify_export(uri)
    assert result.intact and result.summary().startswith(f"export {uri}: ")
    flip_byte(tmp_path / "export" / "tags.parquet")
    fs.put_file(tmp_path / "export" / "tags.parquet", f"{s3_server.bucket}/{prefix}/tags.parquet")
    fs.rm_file(f"{s3_server.bucket}/{prefix}/aliases.parquet")
    assert [(p.name, p.kind) for p in verify_export(uri + "/").problems] == [
        ("aliases.parquet", "missing"),
        ("tags.parquet", "changed"),
    ]
    with pytest.raises(ReleaseError, match=f"no export at {s3_server.uri('nothing')}: "):
        verify_export(s3_server.uri("nothing"))


@pytest.mark.parametrize("named", [True, False], ids=["named target", "default target"])
def test_rollback_refuses_a_corrupted_release_and_leaves_current_untouched(
    small_warehouse: Path, named: bool
) -> None:
    first, second = releases_of(small_warehouse)
    folder = release_path(small_warehouse, first)
    flip_byte(folder / "parquet" / "sections.parquet")
    (folder / "report.html").unlink()
    history = read_history(small_warehouse)
    with pytest.raises(ReleaseError) as refused:
        rollback(small_warehouse, first if named else None)
    assert str(refused.value).startswith(
        f"release {first} fails verification (2 files differ from its manifest):"
        " parquet/sections.parquet changed (sha256 "
    )
    assert current_release(small_warehouse) == second and read_history(small_warehouse) == history
    flip_byte(folder / "parquet" / "sections.parquet")  # flipped back: only the report is gone
    with pytest.raises(ReleaseError, match=r"\(1 file differs .*: report.html is missing;"):
        rollback(small_warehouse, first if named else None)
