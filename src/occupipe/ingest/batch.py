"""Process a batch of input files: read, validate, normalize, and write Parquet part files."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from occupipe.core.files import write_bytes_atomically
from occupipe.core.rejection import Rejection, SourceError
from occupipe.ingest.discover import StrPath, relative_name
from occupipe.ingest.documents import Extracted, extract_documents
from occupipe.ingest.normalize import add_record_rows, build_tables, new_batch
from occupipe.ingest.s3source import fetch_objects, is_object_batch

# files already read: their bytes and (when hashed already) their SHA-256
Contents = dict[StrPath, tuple[bytes, str | None]]


@dataclass
class BatchResult:
    documents: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    drift: Counter[str] = field(default_factory=Counter)  # unknown field path -> records


def document_index(batch_number: int, position: int) -> int:
    """A run-wide unique id for a document: batch number and position within the batch."""
    return batch_number * 10_000_000 + position


def document_id(source_file: str) -> int:
    """A stable id for a document, the same in every run (so cached parts stay valid)."""
    digest = hashlib.blake2b(source_file.encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1  # fits a signed 64-bit integer


def process_batch(
    inputs: Sequence[StrPath],
    root: StrPath,
    parts_dir: Path,
    batch_number: int,
    canonical_headings: frozenset[str],
    with_html: bool = False,
    contents: Contents | None = None,
) -> BatchResult:
    """Extract and normalize a batch of files; write one part file per table.

    Files in `contents` (already read and hashed, for the cache) are not read or hashed again;
    objects in S3 are fetched all at once first.
    """
    rows = BatchRows(canonical_headings, with_html)
    contents = contents or {}
    if is_object_batch(inputs):
        missing = [uri for uri in inputs if uri not in contents]
        contents.update((uri, (raw, None)) for uri, raw in fetch_objects(missing).items())
    with paused_garbage_collection():
        for path in inputs:
            source_file = readable_name(relative_name(path, root))
            raw, digest = contents.pop(path) if path in contents else (read_input(path), None)
            for outcome in extract_documents(raw, source_file, digest):
                rows.add(outcome)
        rows.write(parts_dir, batch_number)
    return rows.result


@contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """No cycle collection while a batch gathers its rows (they hold no cycles).

    A batch's columns hold tens of thousands of objects; the collector would walk them again
    and again, and extraction would take much longer.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class BatchRows:
    """A batch's outcomes as they come: each record's rows added to the batch's columns at
    once (the validated record is then freed), each rejection kept with its reason.

    Holding a whole batch of validated records until the end took a worker more memory at its
    largest than this way, and slightly more CPU.
    """

    def __init__(self, canonical_headings: frozenset[str], with_html: bool) -> None:
        self.result = BatchResult()
        self.columns = new_batch()
        self.canonical_headings = canonical_headings
        self.with_html = with_html

    def add(self, outcome: Extracted | Rejection) -> None:
        """Count one document and add its rows, or file it as rejected."""
        self.result.documents += 1
        if isinstance(outcome, Rejection):
            self.result.rejections.append(outcome)
            return
        document = document_id(outcome.source_file)
        add_record_rows(self.columns, document, outcome, self.canonical_headings, self.with_html)
        self.result.drift.update(set(outcome.unknown_fields))

    def write(self, parts_dir: Path, batch_number: int) -> None:
        """Write one part file per table from the rows gathered; the columns are then freed
        (while the collector is still paused: it has nothing to walk when it resumes)."""
        for name, table in build_tables(self.columns).items():
            write_part(parts_dir / name, batch_number, table)
        self.columns = new_batch()


def store_rejected_bytes(rejections: list[Rejection], directory: Path) -> list[Rejection]:
    """Keep each rejected document's bytes in `directory` under its content hash (the
    quarantine, for replay); return the rejections without their bytes, which then travel
    light (a corpus of mostly bad documents no longer gathers them all in one process)."""
    light = []
    for rejection in rejections:
        if rejection.raw is not None and rejection.content_hash:
            directory.mkdir(parents=True, exist_ok=True)
            target = directory / f"{rejection.content_hash}.raw"
            write_bytes_atomically(target, rejection.raw)
            rejection = dataclasses.replace(rejection, raw=None)
        light.append(rejection)
    return light


def readable_name(name: str) -> str:
    """A file name as valid text: undecodable bytes in it become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_input(path: StrPath) -> bytes:
    """A file's bytes; a file that cannot be read is a fault of the source, not bad data
    (`read_input_and_status`)."""
    return read_input_and_status(path)[0]


def read_input_and_status(path: StrPath) -> tuple[bytes, os.stat_result]:
    """A file's bytes and its status (size, mtime) as of opening it, from the same open file.

    Opened without blocking and checked to be a regular file: a named pipe called `x.json`
    waited for a writer forever, and the run with it. Plain `os` calls, no file object: less
    CPU per file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise SourceError(f"cannot read {path}: not a regular file")
            return read_to_end(fd, status.st_size), status
        finally:
            os.close(fd)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_to_end(fd: int, size: int) -> bytes:
    """Everything left in an open file expected to hold `size` bytes: one read when it does;
    a file that changed meanwhile, or one larger than a single read returns, takes more."""
    data = os.read(fd, size + 1)
    if len(data) == size:
        return data
    parts = [data]
    while chunk := os.read(fd, max(size, 1 << 20)):
        parts.append(chunk)
    return b"".join(parts)


def write_part(directory: Path, batch_number: int, table: pa.Table) -> Path:
    """Write one batch's rows of one table as a Parquet part file.

    lz4, not zstd: parts are intermediate, and lz4 writes them faster.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"part-{batch_number:05d}.parquet"
    # parts are all-nullable so the published file's schema does not depend on the part count
    nullable = pa.schema([f.with_nullable(True) for f in table.schema])
    pq.write_table(table.cast(nullable), path, compression="lz4")
    return path


def list_parts(parts_dir: Path, table_name: str) -> list[Path]:
    """One table's part files of a build, in batch order."""
    return sorted((parts_dir / table_name).glob("*.parquet"))
