"""Incremental runs: a batch whose files and code are unchanged reuses its Parquet parts.

Files are fingerprinted by content (SHA-256); their size and mtime only decide whether the
content must be read again (as git does). Batches are cut where a path's hash says so, so
adding or removing a file changes only the batch it falls in.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pipelines.batch import BatchResult, process_batch, read_input
from pipelines.extract import Rejection, SourceError, relative_name
from pipelines.settings import PACKAGE_DIR

CACHE_DIR = Path(".cache") / "extract"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)  # slots: a run keeps one per input file
class Fingerprint:
    source_file: str
    size: int
    mtime_ns: int
    sha256: str


def code_fingerprint(sections_spec: Path, with_html: bool) -> str:
    """Changes whenever the code or the section spec that shapes the parts changes."""
    digest = hashlib.sha256(f"html={with_html}".encode())
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(sections_spec.read_bytes())
    return digest.hexdigest()


def fingerprint_files(
    paths: Sequence[Path],
    root: Path,
    reused: Sequence[Fingerprint | None],
    contents: dict[Path, tuple[bytes, str]] | None = None,
) -> list[Fingerprint]:
    """Content fingerprints: those `reused` from the last run's index (`reuse_fingerprints`)
    as they are, and every other file read and hashed.

    The files that were read go into `contents` (bytes and digest): no need to read them twice.
    """
    return [
        known or read_fingerprint(path, root, contents)
        for path, known in zip(paths, reused, strict=True)
    ]


def read_fingerprint(
    path: Path, root: Path, contents: dict[Path, tuple[bytes, str]] | None
) -> Fingerprint:
    """Read and hash one file; its bytes and digest go into `contents`."""
    try:
        info = path.stat()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    raw = read_input(path)
    digest = hashlib.sha256(raw).hexdigest()
    if contents is not None:
        contents[path] = (raw, digest)
    return Fingerprint(relative_name(path, root), info.st_size, info.st_mtime_ns, digest)


def reuse_fingerprints(
    paths: Sequence[Path], root: Path, known: dict[str, dict[str, Any]]
) -> list[Fingerprint | None]:
    """Each file's fingerprint from the last run's index, if its size and mtime are unchanged;
    None for a file that must be read (new, changed, or unreadable: reading will say why)."""
    prints: list[Fingerprint | None] = []
    for path in paths:
        name = relative_name(path, root)
        try:
            info = path.stat()
        except OSError:
            prints.append(None)
            continue
        seen = known.get(name, {})
        unchanged = is_unchanged(seen, info)
        prints.append(
            Fingerprint(name, info.st_size, info.st_mtime_ns, seen["sha256"]) if unchanged else None
        )
    return prints


def index_matches(known: dict[str, dict[str, Any]], prints: Sequence[Fingerprint]) -> bool:
    """Whether the saved index already says exactly this (then it need not be written)."""
    return len(known) == len(prints) and all(
        (seen := known.get(fp.source_file)) is not None
        and (seen.get("size"), seen.get("mtime_ns"), seen.get("sha256"))
        == (fp.size, fp.mtime_ns, fp.sha256)
        for fp in prints
    )


def split_like(items: Sequence[T], batches: Sequence[Sequence[Any]]) -> list[list[T]]:
    """Cut a flat list into consecutive runs as long as the batches."""
    runs, start = [], 0
    for batch in batches:
        runs.append(list(items[start : start + len(batch)]))
        start += len(batch)
    return runs


def is_unchanged(seen: dict[str, Any], info: os.stat_result) -> bool:
    """Whether a file still has the size and mtime the last run saw (then its hash stands)."""
    return bool(seen.get("size") == info.st_size and seen.get("mtime_ns") == info.st_mtime_ns)


def plan_stable_batches(paths: Sequence[Path], batch_size: int) -> list[list[Path]]:
    """Cut batches where a path's CRC says so: about `batch_size` files each, and stable."""
    batches: list[list[Path]] = []
    current: list[Path] = []
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


def batch_key(code: str, prints: Sequence[Fingerprint]) -> str:
    digest = hashlib.sha256(code.encode())
    for fp in prints:
        digest.update(f"{fp.source_file}\0{fp.sha256}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def summarize_changes(
    previous: dict[str, dict[str, Any]], prints: Sequence[Fingerprint]
) -> dict[str, int]:
    """How many input files are new, changed, unchanged or removed since the last run."""
    counts = Counter[str]()
    for fp in prints:
        old = previous.get(fp.source_file)
        counts[
            "new" if old is None else "unchanged" if old["sha256"] == fp.sha256 else "changed"
        ] += 1
    counts["removed"] = len(set(previous) - {fp.source_file for fp in prints})
    return {k: counts[k] for k in ("new", "changed", "unchanged", "removed")}


class ExtractCache:
    """Cached batch results under `<warehouse>/.cache/extract`."""

    def __init__(self, warehouse: Path, code: str) -> None:
        self.root = warehouse / CACHE_DIR
        self.code = code

    def load_index(self) -> dict[str, dict[str, Any]]:
        """The fingerprints of the last run's files (empty if the code changed)."""
        try:
            index = json.loads((self.root / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        files: dict[str, dict[str, Any]] = index.get("files", {})
        return (
            files
            if index.get("code") == self.code
            else {f: {**v, "size": -1} for f, v in files.items()}
        )

    def save_index(self, prints: Sequence[Fingerprint]) -> None:
        # plain dicts, not dataclasses.asdict: that deep-copies every value (10k files: 0.4 s)
        files = {
            fp.source_file: {
                "source_file": fp.source_file,
                "size": fp.size,
                "mtime_ns": fp.mtime_ns,
                "sha256": fp.sha256,
            }
            for fp in prints
        }
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / "index.json.partial"
        partial.write_text(json.dumps({"code": self.code, "files": files}), encoding="utf-8")
        os.replace(partial, self.root / "index.json")

    def restore(self, key: str, parts_dir: Path, part_name: str) -> BatchResult | None:
        """Link a cached batch's parts into this run's parts folder; None on a miss."""
        entry = self.root / "batches" / key
        try:
            result = load_result(
                json.loads((entry / "result.json").read_text(encoding="utf-8")), entry
            )
        except (OSError, ValueError, KeyError):
            return None
        for part in sorted(entry.glob("*.parquet")):
            target = parts_dir / part.stem / part_name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(part, target)
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


def load_result(data: dict[str, Any], entry: Path) -> BatchResult:
    rejections = []
    for r in data["rejections"]:
        raw_path = entry / f"{r['content_hash']}.raw"
        raw = raw_path.read_bytes() if r["content_hash"] and raw_path.exists() else None
        rejections.append(
            Rejection(r["source_file"], r["stage"], r["reason"], r["content_hash"], raw)
        )
    return BatchResult(data["documents"], rejections, Counter(data["drift"]))


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
    prints: list[Fingerprint]


def extract_batch(
    cache: ExtractCache,
    batch: list[Path],
    reused: list[Fingerprint | None],
    root: Path,
    parts_dir: Path,
    number: int,
    headings: frozenset[str],
    flags: BatchFlags,
) -> ExtractedBatch:
    """One batch: from the cache when its files and the code are unchanged, else extracted.

    Runs in a worker: files not `reused` from the last run's index are hashed there (both
    cores), and a file read to hash it is parsed from the same bytes.
    """
    contents: dict[Path, tuple[bytes, str]] = {}
    prints = fingerprint_files(batch, root, reused, contents)
    key = batch_key(cache.code, prints)
    part_name = f"part-{number:05d}.parquet"
    if not flags.full_refresh:
        cached = cache.restore(key, parts_dir, part_name)
        if cached is not None:
            return ExtractedBatch(cached, key, prints)
    result = process_batch(batch, root, parts_dir, number, headings, flags.with_html, contents)
    cache.store(key, parts_dir, part_name, result)
    return ExtractedBatch(result, key, prints)
