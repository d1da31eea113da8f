"""Export a release's tables for downstream analysts: Parquet, a manifest and a data dictionary."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from occupipe.core.layout import PARQUET_DIR
from occupipe.ingest.tables import TABLES_BY_NAME, Column
from occupipe.release.catalog import find_release
from occupipe.release.manifest import seal_files
from occupipe.release.store import ReleaseError, current_release, read_manifest, release_path
from occupipe.reporting.dictionary import render_data_dictionary
from occupipe.warehouse.parquet import ROW_GROUP_ROWS, ROW_GROUP_ROWS_OF, GroupCutter

MANIFEST_NAME, README_NAME = "manifest.json", "README.md"


class ExportUsageError(ReleaseError):
    """An export asked for something that cannot be (an unknown table, format or option)."""


@dataclass(frozen=True)
class ExportRequest:
    """What an export takes from a warehouse: a release (default: the current one), tables
    (default: all) and a partitioning (Parquet only)."""

    tables: Sequence[str] | None = None
    release_id: str | None = None
    partition_by: str | None = None


def export_release(
    warehouse: Path,
    out: Path,
    tables: Sequence[str] | None = None,
    release_id: str | None = None,
    partition_by: str | None = None,
) -> dict[str, Any]:
    """Write the chosen tables of a release (default: the current one) to `out`."""
    asked = ExportRequest(tables, release_id, partition_by)
    release_id, source, names = resolve_export(warehouse, asked)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        # an export beside older files would mix releases, and its manifest would not list them
        raise ReleaseError(f"{out} is not an empty folder; export into a new or empty one")
    # written beside `out` and renamed into place: a failed export leaves no partial folder
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        manifest = write_export(warehouse, release_id, source, staging, names, partition_by)
        if out.exists():
            out.rmdir()  # empty, as checked
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def resolve_export(warehouse: Path, asked: ExportRequest) -> tuple[str, Path, list[str]]:
    """(release id, its Parquet folder, table names) of an export request, checked: the release
    exists and holds every table asked for (default: all), the partitioning is known."""
    release_id = asked.release_id or current_release(warehouse)
    if release_id is None:
        raise ReleaseError(f"no release in {warehouse} to export; run `occupipe run` first")
    find_release(warehouse, release_id)
    source = release_path(warehouse, release_id) / PARQUET_DIR
    if not source.exists():
        raise ReleaseError(f"release {release_id} has no tables to export")
    names = list(asked.tables) if asked.tables else list(TABLES_BY_NAME)
    unknown = sorted(set(names) - set(TABLES_BY_NAME))
    if unknown:
        raise ExportUsageError(f"unknown table(s): {', '.join(unknown)}")
    if asked.partition_by not in (None, "category"):
        raise ExportUsageError("only --partition-by category is supported")
    missing = [name for name in names if not (source / f"{name}.parquet").exists()]
    if missing:
        raise ReleaseError(f"release {release_id} lacks the file of {', '.join(missing)}")
    return release_id, source, names


def write_export(
    warehouse: Path,
    release_id: str,
    source: Path,
    out: Path,
    names: Sequence[str],
    partition_by: str | None,
) -> dict[str, Any]:
    """Write the tables, their manifest and README into a new folder `out`."""
    out.mkdir(parents=True)
    categories = read_categories(source) if partition_by else None
    files: dict[str, str] = {}
    for name in names:
        files.update(seal_files(out, export_table(source / f"{name}.parquet", out, categories)))
    manifest = build_export_manifest(warehouse, release_id, names, files, partition_by, source)
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
    (out / README_NAME).write_text(render_export_readme(release_id, names, partition_by), "utf-8")
    return manifest


def export_table(source: Path, out: Path, categories: dict[str, str] | None) -> list[Path]:
    """Copy one published table into the export (partitioned if `categories`), streaming it row
    group by row group: reading each table whole took several times the memory.

    Partitioned files get groups a quarter that size: each category's writer holds up to a
    group's rows, so whole groups over many categories made a clearly higher peak.
    """
    name = source.stem
    parquet = pq.ParquetFile(source)
    group_rows = ROW_GROUP_ROWS_OF.get(name, ROW_GROUP_ROWS)
    batches = parquet.iter_batches(batch_size=group_rows)
    schema = parquet.schema_arrow
    if categories is None:
        return [write_table(batches, schema, out / f"{name}.parquet", group_rows)]
    return write_partitioned(batches, schema, out / name, categories, group_rows // 4)


def described(schema: pa.Schema) -> pa.Schema:
    """The schema with its columns' descriptions also in the file's key-value metadata
    (`occupipe:columns`, JSON), beside the Arrow field metadata that carries them."""
    descriptions = {f.name: (f.metadata or {}).get(b"description", b"").decode() for f in schema}
    return schema.with_metadata(
        {**(schema.metadata or {}), b"occupipe:columns": json.dumps(descriptions)}
    )


class GroupedWriter:
    """A zstd Parquet file written in row groups of exactly `rows` rows (the last shorter) from
    record batches of any size: the same bytes however its input was batched."""

    def __init__(self, path: Path, schema: pa.Schema, rows: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.schema, self.rows = path, described(schema), rows
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.cutter = GroupCutter(rows)

    def write(self, batch: pa.RecordBatch) -> None:
        """Add rows; every full group is written at once."""
        for group in self.cutter.add(batch):
            self.write_group(group)

    def close(self) -> None:
        """Write the last, shorter group and end the file."""
        last = self.cutter.rest()
        if last is not None:
            self.write_group(last)
        self.writer.close()

    def write_group(self, group: pa.Table) -> None:
        whole = group.combine_chunks().replace_schema_metadata(self.schema.metadata)
        self.writer.write_table(whole, row_group_size=self.rows)


def write_table(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, path: Path, group_rows: int
) -> Path:
    """One zstd Parquet file of the batches, in row groups of `group_rows` (`GroupedWriter`)."""
    writer = GroupedWriter(path, schema, group_rows)
    try:
        for batch in batches:
            writer.write(batch)
    finally:
        writer.close()
    return path


def read_categories(source: Path) -> dict[str, str]:
    occupations = pq.read_table(source / "occupations.parquet", columns=["slug", "category"])
    return dict(
        zip(*(occupations.column(c).to_pylist() for c in ("slug", "category")), strict=True)
    )


def write_partitioned(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    folder: Path,
    categories: dict[str, str],
    group_rows: int,
) -> list[Path]:
    """Hive-style `category=<value>/part-0.parquet` files, rows in their input order, one
    writer per category (memory bounded by the number of categories, not of rows).

    Values are URL-encoded as in Hive (`Arts%2FDesign`; DuckDB and pyarrow decode them): a
    category is free text, and a `/` in it would nest folders or, with `..`, leave `folder`.
    """
    shutil.rmtree(folder, ignore_errors=True)
    slugs = pa.array(list(categories), pa.string())
    values = pa.array(list(categories.values()), pa.string())
    writers: dict[str, GroupedWriter] = {}
    try:
        for batch in batches:
            category = values.take(pc.index_in(batch.column("slug"), value_set=slugs))
            for value in sorted(pc.unique(category).to_pylist()):
                if value not in writers:
                    path = folder / f"category={quote(value, safe=' ')}" / "part-0.parquet"
                    writers[value] = GroupedWriter(path, schema, group_rows)
                writers[value].write(batch.filter(pc.equal(category, value)))
    finally:
        for writer in writers.values():
            writer.close()
    return [writers[value].path for value in sorted(writers)]


def build_export_manifest(
    warehouse: Path,
    release_id: str,
    names: Sequence[str],
    files: dict[str, str],
    partition_by: str | None,
    source: Path,
) -> dict[str, Any]:
    release = read_manifest(warehouse, release_id)
    return {
        "release_id": release_id,
        "partition_by": partition_by,
        "tables": {
            name: {
                "rows": pq.read_metadata(source / f"{name}.parquet").num_rows,
                "key": list(TABLES_BY_NAME[name].key),
                "columns": [column_entry(c) for c in TABLES_BY_NAME[name].columns],
            }
            for name in names
        },
        "files": files,
        "source_fingerprint": release.get("input_fingerprint"),
        "inputs": count_input_documents(release),
    }


def count_input_documents(release: dict[str, Any]) -> int:
    """Input documents of a release (loaded or quarantined): its ledger's count, or the length
    of the list that manifests carried before the ledger was a file of its own."""
    inputs = release.get("inputs", [])
    return int(inputs.get("documents", 0)) if isinstance(inputs, dict) else len(inputs)


def column_entry(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": str(column.type),
        "nullable": column.nullable,
        "description": column.description,
    }


def render_export_readme(release_id: str, names: Sequence[str], partition_by: str | None) -> str:
    """The README of a Parquet export: its layout, then the data dictionary of its tables."""
    layout = (
        "Each table is a folder of `category=<value>/part-0.parquet` files (hive partitioning)."
        if partition_by
        else "Each table is one zstd Parquet file."
    )
    return export_readme(
        f"occupipe export of release {release_id}",
        f"{layout} `manifest.json` lists row counts, schemas and SHA-256 checksums. Column"
        " descriptions are also stored in each file's schema metadata.",
        names,
    )


def export_readme(title: str, layout: str, names: Sequence[str]) -> str:
    """An export's README: a title, what its files are, the data dictionary of its tables."""
    return (
        f"# {title}\n\n"
        f"Tables: {', '.join(names)}. {layout}\n\n## Data dictionary\n\n"
        + render_data_dictionary(names)
        + "\n"
    )
