"""File and batch fingerprints: what decides that a batch is unchanged since the last run."""

from __future__ import annotations

import functools
import hashlib
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from occupipe.core.settings import PACKAGE_DIR
from occupipe.ingest.batch import Contents, read_input_and_status
from occupipe.ingest.discover import StrPath, relative_name
from occupipe.ingest.s3source import fetch_objects, is_object_batch

INDEX_FILE = "index.parquet"


# The last run's fingerprints, one row per input file, kept as Arrow columns: a fraction of the
# memory a dict per file took (a run holds them for the whole corpus). A file's name is kept as
# bytes (`encode_name`): a name need not be valid UTF-8.
INDEX_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.binary()),
        pa.field("size", pa.int64()),
        pa.field("mtime_ns", pa.int64()),
        pa.field("sha256", pa.string()),
    ]
)


# the sub-packages whose code shapes the part files (a change there invalidates the cache)
PARTS_CODE = ("core", "contract", "ingest")


def code_fingerprint(sections_spec: Path, with_html: bool) -> str:
    """Changes whenever the code or the section spec that shapes the parts changes."""
    digest = hashlib.sha256(f"html={with_html}".encode())
    digest.update(parts_code_digest().encode())
    digest.update(sections_spec.read_bytes())
    return digest.hexdigest()


@functools.cache
def parts_code_digest() -> str:
    """A digest of the code that shapes the parts (`PARTS_CODE`), as installed here."""
    digest = hashlib.sha256()
    for path in sorted(p for stage in PARTS_CODE for p in (PACKAGE_DIR / stage).rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def fingerprint_files(
    paths: Sequence[StrPath],
    root: StrPath,
    reused: pa.Table,
    contents: Contents | None = None,
) -> pa.Table:
    """Content fingerprints (`INDEX_SCHEMA`): those `reused` from the last run's index (rows
    with a digest, from `reuse_fingerprints`) as they are, and every other file read and hashed.

    The files that were read go into `contents` (bytes and digest): no need to read them twice.
    """
    rows = reused.to_pylist()
    if is_object_batch(paths):
        return fingerprint_objects(paths, rows, contents)
    rows = [
        row if row["sha256"] is not None else read_fingerprint(path, root, contents)
        for path, row in zip(paths, rows, strict=True)
    ]
    return pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)


def fingerprint_objects(
    uris: Sequence[StrPath],
    rows: list[dict[str, Any]],
    contents: Contents | None,
) -> pa.Table:
    """`fingerprint_files` for objects in S3: the ones without a digest fetched at once and
    hashed; size and change stamp as listed (an object rewritten since then gets a new stamp:
    the next run reads it again)."""
    stale = [uri for uri, row in zip(uris, rows, strict=True) if row["sha256"] is None]
    fetched = fetch_objects(stale)
    for uri, row in zip(uris, rows, strict=True):
        if uri in fetched:
            raw = fetched.pop(uri)
            row["sha256"] = hashlib.sha256(raw).hexdigest()
            if contents is not None:
                contents[uri] = (raw, row["sha256"])
    return pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)


def read_fingerprint(path: StrPath, root: StrPath, contents: Contents | None) -> dict[str, Any]:
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


def reuse_fingerprints(
    paths: Sequence[StrPath],
    root: StrPath,
    known: pa.Table | None,
    listed: tuple[pa.Array, pa.Array] | None = None,
) -> pa.Table:
    """Each file's fingerprint (`INDEX_SCHEMA`), with the digest from the last run's index if
    its size and mtime are unchanged; a null digest for a file that must be read (new, changed,
    unreadable: reading will say why; or every file, when `known` is None).

    `listed`: sizes and change stamps known already (an object store's listing), else stat'ed.
    """
    names = pa.array([encode_name(relative_name(path, root)) for path in paths], pa.binary())
    if known is None and listed is None:
        nothing = pa.nulls(len(paths), pa.int64())
        return pa.Table.from_arrays(
            [names, nothing, nothing, pa.nulls(len(paths), pa.string())], schema=INDEX_SCHEMA
        )
    sizes, mtimes = listed or stat_files(paths)
    if known is None:
        unknown = pa.nulls(len(paths), pa.string())
        return pa.Table.from_arrays([names, sizes, mtimes, unknown], schema=INDEX_SCHEMA)
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
        # str(path) is its POSIX form here, and cheaper than as_posix()
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
