"""Where an export goes: a local folder or an `s3://BUCKET/PREFIX`, listed and written alike."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path

from occupipe.core.files import write_bytes_atomically
from occupipe.core.objectstore import (
    converting_s3_errors,
    is_s3_uri,
    s3_filesystem,
    split_s3_uri,
)


@dataclass(frozen=True)
class Location:
    """An export's destination: `uri` as the user wrote it (a folder or an `s3://` prefix)."""

    uri: str

    @property
    def is_s3(self) -> bool:
        """Whether the destination is object storage."""
        return is_s3_uri(self.uri)

    @property
    def key(self) -> str:
        """`bucket/prefix` (no slash at the end) for s3fs; the absolute folder otherwise."""
        if not self.is_s3:
            return str(Path(self.uri).absolute())
        bucket, prefix = split_s3_uri(self.uri)
        return f"{bucket}/{prefix}" if prefix else bucket

    def child(self, name: str) -> str:
        """The URI of an entry directly under the destination (`s3://...` or a local path)."""
        return f"s3://{self.key}/{name}" if self.is_s3 else str(Path(self.key) / name)

    def entries(self) -> list[str]:
        """Names directly under the destination; none if it does not exist yet (a missing bucket,
        or one that cannot be read, is an `ObjectStoreError`)."""
        if not self.is_s3:
            folder = Path(self.key)
            if folder.exists() and not folder.is_dir():
                raise NotADirectoryError(20, "Not a directory", self.uri)
            return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
        with converting_s3_errors(self.uri):
            try:
                listed = s3_filesystem().ls(self.key, detail=False, refresh=True)
            except FileNotFoundError as exc:
                if "bucket" in str(exc).lower():  # the bucket itself is missing: say so
                    raise
                return []
        # not the prefix itself: a folder marker (`prefix/`), or the empty folder SeaweedFS keeps
        children = {str(path).rstrip("/") for path in listed} - {self.key}
        return sorted(path.rsplit("/", 1)[-1] for path in children)

    def is_empty(self) -> bool:
        """Whether nothing is under the destination yet (a missing bucket is an error). On S3,
        one listing of at most one object: a folder marker or an empty folder left by a server
        that keeps them (SeaweedFS) is not content, and a full prefix is not listed whole."""
        if not self.is_s3:
            return not self.entries()
        bucket, prefix = split_s3_uri(self.uri)
        with converting_s3_errors(self.uri):
            listed = s3_filesystem().call_s3(
                "list_objects_v2", Bucket=bucket, Prefix=f"{prefix}/" if prefix else "", MaxKeys=2
            )
        return not [o for o in listed.get("Contents", []) if o["Key"] != f"{prefix}/"]

    def files(self) -> list[str]:
        """Every file under the destination, by its path under it (with `/`)."""
        if not self.is_s3:
            root = Path(self.key)
            return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        fs = s3_filesystem()
        with converting_s3_errors(self.uri):
            # the objects there now: no listing seen before, of this folder or of one inside it
            # (opening a file checks its folder's cached listing, which this export outdated)
            fs.invalidate_cache()
            keys = fs.find(self.key)
        return sorted(str(key)[len(self.key) + 1 :] for key in keys)

    def sha256(self, name: str) -> str:
        """The SHA-256 of one file under the destination, read in full (from S3: downloaded)."""
        if not self.is_s3:
            with (Path(self.key) / name).open("rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        with converting_s3_errors(self.uri), s3_filesystem().open(f"{self.key}/{name}") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()

    def write_text(self, name: str, text: str) -> None:
        """Write (or replace) one small file under the destination in one step: an S3 PUT, or a
        local file renamed into place, so a reader never sees half of it."""
        if self.is_s3:
            with converting_s3_errors(self.uri):
                s3_filesystem().pipe_file(f"{self.key}/{name}", text.encode("utf-8"))
            return
        write_bytes_atomically(Path(self.key) / name, text.encode("utf-8"))

    def read_text(self, name: str) -> str | None:
        """One small file under the destination; None if it is not there."""
        if not self.is_s3:
            path = Path(self.key) / name
            return path.read_text(encoding="utf-8") if path.is_file() else None
        with converting_s3_errors(self.uri):
            try:
                return bytes(s3_filesystem().cat_file(f"{self.key}/{name}")).decode("utf-8")
            except FileNotFoundError:
                return None

    def upload(self, folder: Path, last: str) -> None:
        """Copy every file of the local `folder` under this S3 prefix at its relative path,
        concurrently, and the file `last` only once all others are there: a reader never sees a
        manifest before its files. If a copy fails, those made are removed (as far as the store
        still answers), so the prefix can be exported to again."""
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p != folder / last)
        remote = [f"{self.key}/{path.relative_to(folder).as_posix()}" for path in files]
        fs = s3_filesystem()
        with converting_s3_errors(self.uri):
            try:
                fs.put([str(path) for path in files], remote)
                fs.put_file(str(folder / last), f"{self.key}/{last}")
            except BaseException:
                with contextlib.suppress(Exception):
                    fs.rm([*remote, f"{self.key}/{last}"])
                raise
