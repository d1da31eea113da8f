"""Incremental runs: a batch whose files and code are unchanged reuses its Parquet parts.

Files are fingerprinted by content (SHA-256); their size and mtime only decide whether the
content must be read again (as git does). Batches are cut where a path's hash says so, so
adding or removing a file changes only the batch it falls in.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.batch import (
    BatchResult,
    process_batch,
    read_input_and_status,
    store_rejected_bytes,
    write_whole,
)
from pipelines.extract import Rejection, StrPath, relative_name
from pipelines.settings import PACKAGE_DIR

CACHE_DIR = Path(".cache") / "extract"
INDEX_FILE = "index.parquet"


# The last run's fingerprints, one row per input file, kept as Arrow columns: about 150 bytes a
# file where a dict per file took 600 (a run holds them for the whole corpus). A file's name is
# kept as bytes (`encode_name`): a name need not be valid UTF-8.
INDEX_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.binary()),
        pa.field("size", pa.int64()),
        pa.field("mtime_ns", pa.int64()),
        pa.field("sha256", pa.string()),
    ]
)


def code_fingerprint(sections_spec: Path, with_html: bool) -> str:
    """Changes whenever the code or the section spec that shapes the parts changes."""
    digest = hashlib.sha256(f"html={with_html}".encode())
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(sections_spec.read_bytes())
    return digest.hexdigest()


def fingerprint_files(
    paths: Sequence[StrPath],
    root: Path,
    reused: pa.Table,
    contents: dict[StrPath, tuple[bytes, str]] | None = None,
) -> pa.Table:
    """Content fingerprints (`INDEX_SCHEMA`): those `reused` from the last run's index (rows
    with a digest, from `reuse_fingerprints`) as they are, and every other file read and hashed.

    The files that were read go into `contents` (bytes and digest): no need to read them twice.
    """
    rows = [
        row if row["sha256"] is not None else read_fingerprint(path, root, contents)
        for path, row in zip(paths, reused.to_pylist(), strict=True)
    ]
    return pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)


def read_fingerprint(
    path: StrPath, root: Path, contents: dict[StrPath, tuple[bytes, str]] | None
) -> dict[str, Any]:
    """Read and hash one file (its `INDEX_SCHEMA` row); its bytes and digest go into `contents`."""
    raw, info = read_input_and_status(path)  # the status of the file read: one open, no stat
    digest = hashlib.sha256(raw).hexdigest()
    if contents is not None:
        contents[path] = (raw, digest)
    return {
        "source_file": encode_name(relative_name(path, root)),
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "sha256": digest,
    }


def encode_name(name: str) -> bytes:
    """A file name as the bytes it was found as (undecodable bytes come back)."""
    return name.encode("utf-8", "surrogateescape")


def reuse_fingerprints(paths: Sequence[StrPath], root: Path, known: pa.Table | None) -> pa.Table:
    """Each file's fingerprint (`INDEX_SCHEMA`), with the digest from the last run's index if
    its size and mtime are unchanged; a null digest for a file that must be read (new, changed,
    unreadable: reading will say why; or every file, when `known` is None)."""
    names = pa.array([encode_name(relative_name(path, root)) for path in paths], pa.binary())
    if known is None:
        nothing = pa.nulls(len(paths), pa.int64())
        return pa.Table.from_arrays(
            [names, nothing, nothing, pa.nulls(len(paths), pa.string())], schema=INDEX_SCHEMA
        )
    sizes, mtimes = stat_files(paths)
    rows = pc.index_in(names, value_set=known["source_file"])
    same = pc.and_(
        pc.equal(known["size"].take(rows), sizes), pc.equal(known["mtime_ns"].take(rows), mtimes)
    )
    digests = pc.if_else(pc.fill_null(same, False), known["sha256"].take(rows), None)
    return pa.Table.from_arrays([names, sizes, mtimes, digests], schema=INDEX_SCHEMA)


def stat_files(paths: Sequence[StrPath]) -> tuple[pa.Array, pa.Array]:
    """Sizes and mtimes (ns) of files; nulls for a file that cannot be stat'ed."""
    sizes: list[int | None] = []
    mtimes: list[int | None] = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            sizes.append(None)
            mtimes.append(None)
            continue
        sizes.append(info.st_size)
        mtimes.append(info.st_mtime_ns)
    return pa.array(sizes, pa.int64()), pa.array(mtimes, pa.int64())


def index_matches(known: pa.Table | None, prints: pa.Table) -> bool:
    """Whether the saved index already says exactly this (then it need not be written)."""
    return known is not None and known.select(INDEX_SCHEMA.names).equals(prints)


def split_table(table: pa.Table, batches: Sequence[Sequence[Any]]) -> list[pa.Table]:
    """Cut a table into consecutive runs of rows as long as the batches, each with buffers of
    its own (a slice would pickle the whole table's buffers on its way to a worker)."""
    runs, start = [], 0
    for batch in batches:
        runs.append(table.take(pa.array(range(start, start + len(batch)), pa.int64())))
        start += len(batch)
    return runs


def plan_stable_batches(paths: Sequence[StrPath], batch_size: int) -> list[list[StrPath]]:
    """Cut batches where a path's CRC says so: about `batch_size` files each, and stable."""
    batches: list[list[StrPath]] = []
    current: list[StrPath] = []
    for path in paths:
        current.append(path)
        # str(path) is its POSIX form here, and 3x cheaper than as_posix()
        boundary = zlib.crc32(str(path).encode("utf-8", "surrogateescape")) % batch_size == 0
        if boundary or len(current) >= 2 * batch_size:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def batch_key(code: str, prints: pa.Table) -> str:
    """What a batch's parts depend on: the code, and each file's name and content."""
    digest = hashlib.sha256(code.encode())
    names, digests = prints["source_file"].to_pylist(), prints["sha256"].to_pylist()
    for name, sha256 in zip(names, digests, strict=True):
        digest.update(b"%s\0%s\n" % (name, sha256.encode()))
    return digest.hexdigest()


def summarize_changes(previous: pa.Table | None, current: pa.Table) -> dict[str, int]:
    """How many input files are new, changed, unchanged or removed since the last run."""
    if previous is None or previous.num_rows == 0:
        return {"new": current.num_rows, "changed": 0, "unchanged": 0, "removed": 0}
    rows = pc.index_in(current["source_file"], value_set=previous["source_file"])
    same = pc.equal(previous["sha256"].take(rows), current["sha256"])
    new = rows.null_count
    unchanged = pc.sum(pc.fill_null(same, False)).as_py() or 0
    kept = pc.sum(pc.is_in(previous["source_file"], value_set=current["source_file"])).as_py()
    return {
        "new": new,
        "changed": current.num_rows - new - unchanged,
        "unchanged": unchanged,
        "removed": previous.num_rows - (kept or 0),
    }


class ExtractCache:
    """Cached batch results under `<warehouse>/.cache/extract`."""

    def __init__(self, warehouse: Path, code: str) -> None:
        self.root = warehouse / CACHE_DIR
        self.code = code

    def load_index(self) -> pa.Table | None:
        """The fingerprints of the last run's files (sizes unknown if the code changed: every
        file is read again); None before the first run."""
        if not (self.root / INDEX_FILE).exists():
            return self.load_json_index()
        try:
            saved = pq.ParquetFile(self.root / INDEX_FILE)
            index = saved.read(columns=INDEX_SCHEMA.names).cast(INDEX_SCHEMA)
        except (OSError, KeyError, ValueError, pa.ArrowException):
            return None
        finally:
            # reading takes about three times the table's size, which Arrow would keep for
            # later (at 400k files 170 MB more, 90 MB of it given back here)
            pa.default_memory_pool().release_unused()
        if (saved.schema_arrow.metadata or {}).get(b"code") != self.code.encode():
            size = INDEX_SCHEMA.get_field_index("size")
            index = index.set_column(size, "size", pa.nulls(index.num_rows, pa.int64()))
        return index

    def load_json_index(self) -> pa.Table | None:
        """The JSON index earlier versions kept, once: other code wrote it, so every file is
        read again, but its digests still tell which files changed."""
        try:
            files = json.loads((self.root / "index.json").read_text(encoding="utf-8"))["files"]
            digests = [seen["sha256"] for seen in files.values()]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        unknown = pa.nulls(len(digests), pa.int64())
        names = pa.array([encode_name(name) for name in files], pa.binary())
        return pa.Table.from_arrays(
            [names, unknown, unknown, pa.array(digests, pa.string())], schema=INDEX_SCHEMA
        )

    def save_index(self, prints: pa.Table) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f"{INDEX_FILE}.partial"
        pq.write_table(prints.replace_schema_metadata({"code": self.code}), partial)
        os.replace(partial, self.root / INDEX_FILE)
        (self.root / "index.json").unlink(missing_ok=True)  # see load_json_index

    def restore(
        self, key: str, parts_dir: Path, part_name: str, quarantine_dir: Path
    ) -> BatchResult | None:
        """Link a cached batch's parts into this run's parts folder and copy its rejected
        documents' bytes into the quarantine folder (file to file, never read into memory);
        None on a miss."""
        entry = self.root / "batches" / key
        try:
            result = load_result(json.loads((entry / "result.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError):
            return None
        for part in sorted(entry.glob("*.parquet")):
            target = parts_dir / part.stem / part_name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(part, target)
        for rejection in result.rejections:
            kept = entry / f"{rejection.content_hash}.raw"
            if rejection.content_hash and kept.exists():
                copy_rejected_bytes(kept, quarantine_dir)
        return result

    def store(self, key: str, parts_dir: Path, part_name: str, result: BatchResult) -> None:
        """Keep a batch's parts (hard links) and result for the next run."""
        entry = self.root / "batches" / key
        staging = entry.with_name(f".{key}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for part in sorted(parts_dir.glob(f"*/{part_name}")):
            os.link(part, staging / f"{part.parent.name}.parquet")
        for rejection in result.rejections:
            if rejection.raw is not None and rejection.content_hash:
                (staging / f"{rejection.content_hash}.raw").write_bytes(rejection.raw)
        (staging / "result.json").write_text(json.dumps(dump_result(result)), encoding="utf-8")
        shutil.rmtree(entry, ignore_errors=True)
        os.replace(staging, entry)

    def prune(self, keep: set[str]) -> None:
        """Drop cached batches this run did not use."""
        batches = self.root / "batches"
        for entry in batches.iterdir() if batches.exists() else []:
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)


def dump_result(result: BatchResult) -> dict[str, Any]:
    return {
        "documents": result.documents,
        "rejections": [
            {
                "source_file": r.source_file,
                "stage": r.stage,
                "reason": r.reason,
                "content_hash": r.content_hash,
            }
            for r in result.rejections
        ],
        "drift": dict(result.drift),
    }


def load_result(data: dict[str, Any]) -> BatchResult:
    rejections = [
        Rejection(r["source_file"], r["stage"], r["reason"], r["content_hash"])
        for r in data["rejections"]
    ]
    return BatchResult(data["documents"], rejections, Counter(data["drift"]))


def copy_rejected_bytes(kept: Path, quarantine_dir: Path) -> None:
    """Put a cached rejected document's bytes in the quarantine under the same name (the
    content hash: a file already there holds the same bytes).

    A copy, not a hard link: a failed build is kept as a read-only release, and a shared file
    would make the cache entry (and later the live quarantine) read-only with it.
    """
    target = quarantine_dir / kept.name
    if target.exists():
        return
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    write_whole(target, functools.partial(shutil.copyfile, kept))


@dataclass(frozen=True)
class BatchFlags:
    """The run options a batch's extraction depends on."""

    full_refresh: bool
    with_html: bool


@dataclass(frozen=True)
class ExtractedBatch:
    """A batch's result, the cache key it was stored under, and its files' fingerprints."""

    result: BatchResult
    key: str
    prints: pa.Table  # INDEX_SCHEMA


def extract_batch(
    cache: ExtractCache,
    batch: list[StrPath],
    reused: pa.Table,
    root: Path,
    parts_dir: Path,
    quarantine_dir: Path,
    number: int,
    headings: frozenset[str],
    flags: BatchFlags,
) -> ExtractedBatch:
    """One batch: from the cache when its files and the code are unchanged, else extracted.

    Runs in a worker: files without a digest in `reused` (the batch's rows of
    `reuse_fingerprints`) are hashed there (both cores), and a file read to hash it is parsed
    from the same bytes. Rejected documents' bytes go to `quarantine_dir` from here.
    """
    contents: dict[StrPath, tuple[bytes, str]] = {}
    prints = fingerprint_files(batch, root, reused, contents)
    key = batch_key(cache.code, prints)
    part_name = f"part-{number:05d}.parquet"
    if not flags.full_refresh:
        cached = cache.restore(key, parts_dir, part_name, quarantine_dir)
        if cached is not None:
            return ExtractedBatch(cached, key, prints)
    result = process_batch(batch, root, parts_dir, number, headings, flags.with_html, contents)
    cache.store(key, parts_dir, part_name, result)
    return ExtractedBatch(set_aside_rejected_bytes(result, quarantine_dir), key, prints)


def set_aside_rejected_bytes(result: BatchResult, quarantine_dir: Path) -> BatchResult:
    """The batch's result with its rejected documents' bytes stored in the quarantine."""
    return dataclasses.replace(
        result, rejections=store_rejected_bytes(result.rejections, quarantine_dir)
    )
