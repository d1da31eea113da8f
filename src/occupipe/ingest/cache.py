"""Incremental runs: a batch whose files and code are unchanged reuses its Parquet parts.

Files are fingerprinted by content (SHA-256); their size and mtime only decide whether the
content must be read again (as git does). Batches are cut where a path's hash says so, so
adding or removing a file changes only the batch it falls in.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from occupipe.core.files import write_atomically
from occupipe.core.layout import CACHE_DIR
from occupipe.core.rejection import Rejection
from occupipe.ingest.batch import BatchResult, Contents, process_batch, store_rejected_bytes
from occupipe.ingest.discover import StrPath
from occupipe.ingest.fingerprints import (
    INDEX_FILE,
    INDEX_SCHEMA,
    batch_key,
    encode_name,
    fingerprint_files,
)


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
            # reading takes scratch memory well beyond the table's size, which Arrow would
            # keep for later; much of it is given back here
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
        index = prints.replace_schema_metadata({"code": self.code})
        write_atomically(self.root / INDEX_FILE, functools.partial(pq.write_table, index))
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
    write_atomically(target, functools.partial(shutil.copyfile, kept))


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
    contents: Contents = {}
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


@dataclass(frozen=True)
class DetachedBatch:
    """A batch extracted where this process's disk is out of reach (a cluster's worker): its
    result (rejected documents' bytes included), fingerprints, and part files' bytes."""

    number: int
    result: BatchResult
    prints: pa.Table  # INDEX_SCHEMA
    parts: dict[str, bytes]  # table name -> the part file's bytes


def extract_detached(
    batch: list[StrPath],
    reused: pa.Table,
    root: StrPath,
    number: int,
    headings: frozenset[str],
    with_html: bool,
) -> DetachedBatch:
    """One batch extracted into a scratch folder of the worker's own and returned whole: the
    same part files as `extract_batch` writes, byte for byte (`settle_detached` puts them in
    place and in the cache on the coordinator)."""
    contents: Contents = {}
    prints = fingerprint_files(batch, root, reused, contents)
    with tempfile.TemporaryDirectory(prefix="occupipe-batch-") as scratch:
        parts_dir = Path(scratch)
        result = process_batch(batch, root, parts_dir, number, headings, with_html, contents)
        parts = {part.parent.name: part.read_bytes() for part in parts_dir.glob("*/*.parquet")}
    return DetachedBatch(number, result, prints, parts)


def settle_detached(
    cache: ExtractCache, batch: DetachedBatch, parts_dir: Path, quarantine_dir: Path
) -> ExtractedBatch:
    """A detached batch's parts written into this run's parts folder, kept in the cache, and
    its rejected documents' bytes stored in the quarantine: as if extracted here."""
    part_name = f"part-{batch.number:05d}.parquet"
    for table, data in batch.parts.items():
        (parts_dir / table).mkdir(parents=True, exist_ok=True)
        (parts_dir / table / part_name).write_bytes(data)
    key = batch_key(cache.code, batch.prints)
    cache.store(key, parts_dir, part_name, batch.result)
    return ExtractedBatch(set_aside_rejected_bytes(batch.result, quarantine_dir), key, batch.prints)


def restore_known_batch(
    cache: ExtractCache,
    reused: pa.Table,
    parts_dir: Path,
    quarantine_dir: Path,
    number: int,
) -> ExtractedBatch | None:
    """A batch whose every file kept its fingerprint, restored from the cache here (no worker
    needed); None when a file must be read, or the cache lacks the batch."""
    if reused.num_rows == 0 or reused["sha256"].null_count:
        return None
    key = batch_key(cache.code, reused)
    part_name = f"part-{number:05d}.parquet"
    cached = cache.restore(key, parts_dir, part_name, quarantine_dir)
    return None if cached is None else ExtractedBatch(cached, key, reused)
