"""Verification: re-hash a release's or an export's files against its manifest's checksums."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal, Protocol

import orjson

from occupipe.core.layout import MANIFEST
from occupipe.core.objectstore import converting_s3_errors, is_s3_uri, s3_filesystem, split_s3_uri
from occupipe.release.store import ReleaseError, release_folders, release_path

if TYPE_CHECKING:
    import s3fs

# what each manifest calls its checksums (path under the folder -> sha256), and the files of
# the folder that it does not checksum: itself, and the README an export carries
RELEASE_CHECKSUMS, RELEASE_UNCHECKED = "outputs", frozenset({MANIFEST})
EXPORT_CHECKSUMS, EXPORT_UNCHECKED = "files", frozenset({MANIFEST, "README.md"})
SHOWN_DIGITS = 12  # of a sha256, in messages

ProblemKind = Literal["changed", "missing", "unlisted", "unreadable"]


@dataclass(frozen=True)
class FileProblem:
    """One file that differs from the manifest; `name` is its path under the folder (`/`)."""

    name: str
    kind: ProblemKind
    expected: str | None = None  # sha256 the manifest lists
    actual: str | None = None  # sha256 of the file now
    detail: str | None = None  # why it is unreadable

    def describe(self) -> str:
        """The file and how it differs, in words (a sha256 shown by its first digits)."""
        if self.kind == "changed":
            now, listed = (str(d)[:SHOWN_DIGITS] for d in (self.actual, self.expected))
            return f"{self.name} changed (sha256 {now}..., the manifest says {listed}...)"
        if self.kind == "unlisted":
            return f"{self.name} is not in the manifest"
        if self.kind == "unreadable":
            return f"{self.name} is unreadable ({self.detail})"
        return f"{self.name} is missing"


@dataclass(frozen=True)
class Verification:
    """What verifying one release or export found: how many listed files, which differ."""

    target: str  # "release <id>" or "export <location>"
    checked: int  # files the manifest lists with a checksum
    problems: tuple[FileProblem, ...]  # sorted by file name

    @property
    def intact(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: `release X: 42 files verified, 1 differs`."""
        files = f"{self.checked} file{'' if self.checked == 1 else 's'} verified"
        count = len(self.problems)
        found = "all intact" if not count else f"{count} differ{'s' if count == 1 else ''}"
        return f"{self.target}: {files}, {found}"


class FileStore(Protocol):
    """Where a manifest and its files are: a local folder, an object-storage prefix."""

    def open(self, name: str) -> BufferedIOBase:
        """A file by its path under the location; FileNotFoundError if there is none."""
        ...

    def names(self) -> Iterator[str]:
        """Every file under the location, by its path under it (with `/`)."""
        ...


@dataclass(frozen=True)
class LocalFolder:
    """A folder on this machine."""

    root: Path

    def open(self, name: str) -> BufferedIOBase:
        return (self.root / name).open("rb")

    def names(self) -> Iterator[str]:
        for folder, _, files in os.walk(self.root):
            for file in files:
                yield (Path(folder) / file).relative_to(self.root).as_posix()


@dataclass(frozen=True)
class S3Prefix:
    """Every object under `s3://bucket/prefix`, read through the one S3 client."""

    base: str  # bucket/prefix, without `s3://`
    fs: s3fs.S3FileSystem

    def open(self, name: str) -> BufferedIOBase:
        handle: BufferedIOBase = self.fs.open(f"{self.base}/{name}", "rb")
        return handle

    def names(self) -> Iterator[str]:
        self.fs.invalidate_cache(self.base)  # the objects there now, not a listing seen before
        for key in self.fs.find(self.base):
            yield str(key)[len(self.base) + 1 :]


def verify_release(warehouse: Path, release_id: str) -> Verification:
    """Re-hash every file a release's manifest lists; name those changed, missing or unlisted."""
    if release_id not in {path.name for path in release_folders(warehouse)}:
        raise ReleaseError(f"there is no release {release_id} in {warehouse}")
    store = LocalFolder(release_path(warehouse, release_id))
    return verify_store(store, f"release {release_id}", RELEASE_CHECKSUMS, RELEASE_UNCHECKED)


def verify_export(location: str | Path) -> Verification:
    """Re-hash every file an export's manifest lists: a folder or `s3://bucket/prefix`."""
    local = not is_s3_uri(location)
    store = LocalFolder(Path(location)) if local else s3_prefix(str(location))
    with nullcontext() if local else converting_s3_errors(str(location)):
        found = has_file(store, MANIFEST)
        target = f"export {location}"
        result = verify_store(store, target, EXPORT_CHECKSUMS, EXPORT_UNCHECKED) if found else None
    if result is None:
        raise ReleaseError(f"there is no export at {location}: it holds no {MANIFEST}")
    return result


def s3_prefix(uri: str) -> S3Prefix:
    """The objects under an `s3://bucket/prefix` URI."""
    bucket, prefix = split_s3_uri(uri)
    return S3Prefix(f"{bucket}/{prefix}".rstrip("/"), s3_filesystem())


def has_file(store: FileStore, name: str) -> bool:
    """Whether the location holds that file (a local location that is a file holds none)."""
    try:
        store.open(name).close()
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True


def verify_store(
    store: FileStore, target: str, key: str, unchecked: frozenset[str]
) -> Verification:
    """Check the files the manifest's `key` lists, and look for files it leaves out."""
    checksums = read_checksums(store, key)
    if isinstance(checksums, FileProblem):
        return Verification(target, 0, (checksums,))
    problems = [check_file(store, name, expected) for name, expected in checksums.items()]
    problems += [
        FileProblem(name, "unlisted")
        for name in store.names()
        if name not in checksums and name not in unchecked
    ]
    found = sorted((p for p in problems if p is not None), key=lambda p: p.name)
    return Verification(target, len(checksums), tuple(found))


def read_checksums(store: FileStore, key: str) -> dict[str, str] | FileProblem:
    """The manifest's checksums by file, or the problem that makes it unusable."""
    try:
        with store.open(MANIFEST) as handle:
            manifest = orjson.loads(handle.read())
    except FileNotFoundError:
        return FileProblem(MANIFEST, "missing")
    except orjson.JSONDecodeError as exc:
        return FileProblem(MANIFEST, "unreadable", detail=f"not JSON: {exc}")
    checksums = manifest.get(key) if isinstance(manifest, dict) else None
    if not isinstance(checksums, dict) or not checksums:
        return FileProblem(MANIFEST, "unreadable", detail=f"it lists no checksums in {key!r}")
    return {str(name): str(digest) for name, digest in checksums.items()}


def check_file(store: FileStore, name: str, expected: str) -> FileProblem | None:
    """The file's problem, or None when its sha256 is the one the manifest lists."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return FileProblem(name, "unreadable", detail="a path outside the folder")
    try:
        with store.open(name) as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
    except (FileNotFoundError, NotADirectoryError):  # the latter: a file where a folder was
        return FileProblem(name, "missing", expected=expected)
    except IsADirectoryError:
        return FileProblem(name, "unreadable", detail="a folder, not a file")
    return None if actual == expected else FileProblem(name, "changed", expected, actual)


def check_release(warehouse: Path, release_id: str) -> None:
    """Raise ReleaseError, one sentence naming the first differing file and the count, when a
    release's files differ from its manifest."""
    result = verify_release(warehouse, release_id)
    if result.intact:
        return
    count = len(result.problems)
    files = "1 file differs" if count == 1 else f"{count} files differ"
    raise ReleaseError(
        f"{result.target} fails verification ({files} from its manifest):"
        f" {result.problems[0].describe()}; `occupipe verify --release {release_id}` lists them"
    )
