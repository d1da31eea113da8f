"""Exports to a real S3 server: the same bytes as a folder export, and errors as sentences."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
import s3fs
from typer.testing import CliRunner

from occupipe.core.objectstore import ObjectStoreError, client_for, s3_filesystem
from occupipe.export.targets import export
from occupipe.release.store import ReleaseError
from occupipe.release.verify import verify_export
from pipelines.cli import app
from tests.export.conftest import TwoReleases
from tests.servers import SECRET_KEY, S3Server


def prefix() -> str:
    """A prefix no other test uses."""
    return f"export-{uuid.uuid4().hex[:8]}"


def folder_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of each file under a local folder, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def prefix_digests(server: S3Server, name: str) -> dict[str, str]:
    """SHA-256 of each object under a prefix, by key relative to it."""
    fs = s3_filesystem()
    root = f"{server.bucket}/{name}/"
    return {
        key.removeprefix(root): hashlib.sha256(fs.cat_file(key)).hexdigest()
        for key in sorted(fs.find(root, refresh=True))
        if key.startswith(root)  # not the folder entry SeaweedFS keeps once its files are gone
    }


@pytest.mark.parametrize("partition_by", [None, "category"])
def test_a_parquet_export_to_s3_is_the_folder_export_byte_for_byte(
    two_releases: TwoReleases, s3_server: S3Server, tmp_path: Path, partition_by: str | None
) -> None:
    name, warehouse = prefix(), two_releases.warehouse
    local = export(warehouse, str(tmp_path / "local"), partition_by=partition_by)
    remote = export(warehouse, s3_server.uri(name), partition_by=partition_by)
    assert (remote.release_id, remote.tables) == (local.release_id, local.tables)
    expected = folder_digests(tmp_path / "local")
    assert "manifest.json" in expected and len(expected) > 3
    assert prefix_digests(s3_server, name) == expected
    assert verify_export(s3_server.uri(name)).intact
    manifest = (tmp_path / "local" / "manifest.json").read_text()
    assert SECRET_KEY not in manifest and s3_server.endpoint not in manifest


def test_a_prefix_that_is_not_empty_is_refused(
    two_releases: TwoReleases, s3_server: S3Server
) -> None:
    name = prefix()
    s3_filesystem().pipe_file(f"{s3_server.bucket}/{name}/mine.txt", b"keep me")
    with pytest.raises(ReleaseError, match=r"is not empty; export into a new or empty prefix"):
        export(two_releases.warehouse, s3_server.uri(name), tables=["tags"])
    assert prefix_digests(s3_server, name) == {"mine.txt": hashlib.sha256(b"keep me").hexdigest()}


def run_export(warehouse: Path, out: str, fmt: str) -> tuple[int, str, str]:
    """`occupipe export` to `out` in `fmt`: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(
        app, ["export", "--out", out, "-f", fmt, "--tables", "tags", "--warehouse", str(warehouse)]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_bad_credentials_are_one_sentence(
    two_releases: TwoReleases, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    out = s3_server.uri(prefix())
    code, stdout, stderr = run_export(two_releases.warehouse, out, fmt)
    assert (code, stdout) == (1, "")
    assert stderr.startswith(f"error: access to {out} was denied by {s3_server.endpoint}")
    assert stderr.count("\n") == 1 and "not-the-secret" not in stderr


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_missing_bucket_is_one_sentence(
    two_releases: TwoReleases, s3_server: S3Server, fmt: str
) -> None:
    bucket = f"missing-{uuid.uuid4().hex[:8]}"
    code, stdout, stderr = run_export(two_releases.warehouse, f"s3://{bucket}/x", fmt)
    assert (code, stdout) == (1, "")
    assert stderr == (
        f"error: the bucket of s3://{bucket}/x does not exist at {s3_server.endpoint}.\n"
    )
    with pytest.raises(FileNotFoundError):  # nothing was written (SeaweedFS makes buckets on PUT)
        s3_filesystem().ls(bucket, refresh=True)


@pytest.mark.parametrize("uri", ["s3://", "s3:///x", "s3://key:secret@bucket/x"])
def test_an_s3_uri_without_a_bucket_or_with_credentials_is_a_usage_error(
    two_releases: TwoReleases, uri: str
) -> None:
    code, _, stderr = run_export(two_releases.warehouse, uri, "parquet")
    assert code == 2 and stderr.count("\n") == 1 and "secret" not in stderr


def test_an_upload_failing_midway_leaves_nothing_so_it_can_be_retried(
    two_releases: TwoReleases, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, put = prefix(), []
    put_file = s3fs.S3FileSystem._put_file
    client_for.cache_clear()  # a client binds its methods when made: make one with the patch

    async def refuse_the_manifest(
        self: s3fs.S3FileSystem, lpath: str, rpath: str, **kw: object
    ) -> None:
        if rpath.endswith("manifest.json"):
            raise PermissionError("Access Denied")
        await put_file(self, lpath, rpath, **kw)
        put.append(rpath)

    monkeypatch.setattr(s3fs.S3FileSystem, "_put_file", refuse_the_manifest)
    with pytest.raises(ObjectStoreError, match="was denied"):
        export(two_releases.warehouse, s3_server.uri(name), tables=["tags"])
    monkeypatch.undo()
    client_for.cache_clear()  # a client made while patched keeps the patch
    assert sorted(p.rsplit("/", 1)[-1] for p in put) == ["README.md", "tags.parquet"]
    assert prefix_digests(s3_server, name) == {}
    export(two_releases.warehouse, s3_server.uri(name), tables=["tags"])  # so it can be retried
    assert sorted(prefix_digests(s3_server, name)) == ["README.md", "manifest.json", "tags.parquet"]
