"""Find a source's record files (and the files ignored), never a warehouse's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from occupipe.core.layout import HISTORY, RELEASES_DIR
from occupipe.core.rejection import SourceError

JSON_SUFFIXES = (".json",)
LINE_SUFFIXES = (".jsonl", ".ndjson")
RECORD_SUFFIXES = JSON_SUFFIXES + LINE_SUFFIXES


StrPath = str | os.PathLike[str]  # a found file: a string from discovery, a Path elsewhere


def discover_inputs(source: Path, skip: Path | None = None) -> tuple[list[str], list[str]]:
    """Return (record files, ignored files) under a source folder or a single file, in path
    order (folder by folder, as sorting by `Path.parts` would); the folder `skip` (the
    warehouse, when it lies inside the source) is left out."""
    if not source.exists():
        raise SourceError(f"source folder {source} does not exist")
    if source.is_file():
        found = [str(source)]
        return (found, []) if source.suffix.lower() in RECORD_SUFFIXES else ([], found)
    if skip is not None and is_within(source, skip):
        raise SourceError(describe_source_in_warehouse(source, skip))
    # anything that is not a folder counts, so a broken link fails loudly instead of vanishing
    records: list[str] = []
    ignored: list[str] = []
    skipped = os.path.realpath(skip) if skip is not None else None
    for path in walk_files(str(source), skipped):
        (records if path.lower().endswith(RECORD_SUFFIXES) else ignored).append(path)
    return records, ignored


def is_within(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies inside it (links resolved)."""
    inner, outer = os.path.realpath(path), os.path.realpath(folder)
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def describe_source_in_warehouse(source: Path, warehouse: Path) -> str:
    """Why a source folder inside the warehouse is refused: its releases, manifests and
    history would be read as records."""
    where = "is" if os.path.realpath(source) == os.path.realpath(warehouse) else "lies inside"
    return (
        f"the source {source} {where} the warehouse {warehouse}, whose own files would be read"
        " as records: keep the source outside the warehouse"
    )


def count_until_a_record(source: Path, skip: Path | None = None) -> tuple[bool, int]:
    """Whether a source folder or file holds a record file, looking no further than the first
    one; if it holds none, how many other files it holds (a quick check before a run)."""
    if source.is_file():
        records, ignored = discover_inputs(source)  # one file: its suffix says it all
        return bool(records), len(ignored)
    others = 0
    for path in walk_files(str(source), os.path.realpath(skip) if skip is not None else None):
        if path.lower().endswith(RECORD_SUFFIXES):
            return True, others
        others += 1
    return False, others


def relative_name(path: StrPath, root: StrPath) -> str:
    """A found file's path under the source folder, with `/` (string work: no Path arithmetic,
    which costs more than hashing the file)."""
    text, prefix = os.fspath(path), os.fspath(root).rstrip("/") + "/"
    return (
        text[len(prefix) :]
        if text.startswith(prefix)
        else Path(path).relative_to(Path(root)).as_posix()
    )


def walk_files(folder: str, skip: str | None = None, nested: bool = False) -> Iterator[str]:
    """Every entry under a folder that is not a folder itself, hidden names left out, in path
    order: each folder's entries sorted by name, a subfolder's files at its place.

    Plain strings and one `scandir` per folder: `os.walk` with a `Path` per file and a sort by
    `Path.parts` was much slower and took more memory a file. Only names are kept while
    a folder is listed (each directory entry is freed at once): sorting the entries themselves
    left the paths scattered among their freed memory, far more than the paths need. Links to
    folders are not followed; a broken link is listed (and fails loudly
    when read). The folder whose real path is `skip` is not entered, nor a subfolder that
    holds an occupipe warehouse (`releases/` beside `history.jsonl`): its manifests and
    history are not records.
    """
    names: list[str] = []
    folders: dict[str, bool] = {}  # subfolder name -> whether to descend (not a link)
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                names.append(entry.name)
                if is_folder(entry):
                    folders[entry.name] = not entry.is_symlink()
    except OSError as error:
        raise SourceError(f"cannot list {folder}: {error.strerror or error}") from None
    if nested and is_warehouse_listing(names, folders):
        return
    names.sort()
    prefix = folder if folder.endswith("/") else folder + "/"
    for name in names:
        descend = folders.get(name)
        if descend is None:
            yield prefix + name
        elif descend and (skip is None or os.path.realpath(prefix + name) != skip):
            yield from walk_files(prefix + name, skip, nested=True)


def is_warehouse_listing(names: list[str], folders: dict[str, bool]) -> bool:
    """Whether a folder's names are an occupipe warehouse's: `releases/` and `history.jsonl`."""
    return folders.get(RELEASES_DIR) is not None and HISTORY in names


def is_folder(entry: os.DirEntry[str]) -> bool:
    """Whether an entry is a folder or a link to one (a link that cannot be followed is not)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


@dataclass(frozen=True)
class Inputs:
    root: Path
    records: list[str]
    ignored: list[str]


def discover(source: Path, warehouse: Path | None = None) -> Inputs:
    """Find the record files under the source folder (sorted) and the files ignored; never
    the warehouse's own files, should it lie inside the source."""
    records, ignored = discover_inputs(source, warehouse)
    return Inputs(source if source.is_dir() else source.parent, records, ignored)
