"""Process a batch of input files: read, validate, normalize, and write Parquet part files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.extract import Extracted, Rejection, extract_record
from pipelines.normalize import Rows, add_record_rows, build_table
from pipelines.tables import TABLES

INPUT_COLUMN = "_input"  # internal: index of the input file, dropped from published tables


@dataclass(frozen=True)
class RecordKey:
    """What deduplication needs to know about a loaded record."""

    input_index: int
    slug: str
    updated_on: dt.date | None
    source_file: str
    content_hash: str


@dataclass
class BatchResult:
    keys: list[RecordKey] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def process_batch(
    inputs: Sequence[tuple[int, Path]],
    root: Path,
    parts_dir: Path,
    batch_number: int,
    canonical_headings: frozenset[str],
    with_html: bool = False,
) -> BatchResult:
    """Extract and normalize a batch of files; write one part file per table."""
    result = BatchResult()
    extracted: list[tuple[int, Extracted]] = []
    for index, path in inputs:
        source_file = path.relative_to(root).as_posix()
        outcome = read_and_extract(path, source_file)
        if isinstance(outcome, Rejection):
            result.rejections.append(outcome)
            continue
        extracted.append((index, outcome))
        meta = outcome.record.metadata
        result.keys.append(
            RecordKey(index, outcome.record.slug, meta.updated, source_file, outcome.content_hash)
        )
    for name, table in normalize_tagged(extracted, canonical_headings, with_html).items():
        write_part(parts_dir / name, batch_number, table)
    return result


def normalize_tagged(
    extracted: list[tuple[int, Extracted]], canonical_headings: frozenset[str], with_html: bool
) -> dict[str, pa.Table]:
    """Normalize records, tagging every row with its input index (to drop duplicates later)."""
    rows: Rows = {t.name: [] for t in TABLES}
    tags: dict[str, list[int]] = {t.name: [] for t in TABLES}
    for index, item in extracted:
        before = {name: len(table_rows) for name, table_rows in rows.items()}
        add_record_rows(rows, item, canonical_headings, with_html)
        for name, table_rows in rows.items():
            tags[name].extend([index] * (len(table_rows) - before[name]))
    return {
        t.name: build_table(t, rows[t.name]).append_column(
            INPUT_COLUMN, pa.array(tags[t.name], pa.int32())
        )
        for t in TABLES
    }


def read_and_extract(path: Path, source_file: str) -> Extracted | Rejection:
    """Read one file and validate it; an unreadable file becomes a rejection."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Rejection(source_file, "read", f"cannot read file: {exc.strerror}", None)
    return extract_record(raw, source_file)


def write_part(directory: Path, batch_number: int, table: pa.Table) -> Path:
    """Write one batch's rows of one table as a zstd Parquet part file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"part-{batch_number:05d}.parquet"
    # parts are all-nullable so the published file's schema does not depend on the part count
    nullable = pa.schema([f.with_nullable(True) for f in table.schema])
    pq.write_table(table.cast(nullable), path, compression="zstd")
    return path
