"""The input ledger (`inputs.parquet`): every input document of a release, its hash and outcome."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from occupipe.core.layout import INPUT_LEDGER
from occupipe.core.rejection import Rejection
from occupipe.ingest.batch import list_parts

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("reason", pa.string()),  # why a document was quarantined; null if loaded
    ]
)
# a document's identity in the ledger, as read from part files and rejections (nullable: a
# replay's parts keep the warehouse's not-null columns, the others do not)
KEY_SCHEMA = pa.schema([field.with_nullable(True) for field in LEDGER_SCHEMA][:2])


def write_input_ledger(
    build_dir: Path, parts_dir: Path | None, rejections: Sequence[Rejection]
) -> int:
    """Write `inputs.parquet`: every input document with its content hash and what became of
    it, sorted by source; the number of documents.

    The extracted ones come from the build's `occupations` part files (not kept in memory
    through the run), less those rejected later (duplicates); then every rejection. Arrow
    columns all the way: for a large corpus, a list of dicts in the manifest took a great deal
    of memory to write and to read back.
    """
    rejected = pa.table(
        [[r.source_file for r in rejections], [r.content_hash or "" for r in rejections]],
        schema=KEY_SCHEMA,
    )
    loaded = read_extracted_inputs(parts_dir).join(
        rejected, keys=KEY_SCHEMA.names, join_type="left anti"
    )
    quarantined = rejected.append_column(
        "outcome", pa.array([f"quarantined:{r.stage}" for r in rejections], pa.string())
    ).append_column("reason", pa.array([r.reason for r in rejections], pa.string()))
    loaded = loaded.append_column(
        "outcome", pa.array(["loaded"] * loaded.num_rows, pa.string())
    ).append_column("reason", pa.nulls(loaded.num_rows, pa.string()))
    ledger = pa.concat_tables([loaded.select(LEDGER_SCHEMA.names), quarantined])
    ledger = ledger.take(pc.sort_indices(ledger, [("source", "ascending")])).cast(LEDGER_SCHEMA)
    pq.write_table(ledger, build_dir / INPUT_LEDGER, compression="zstd")
    return int(ledger.num_rows)


def read_extracted_inputs(parts_dir: Path | None) -> pa.Table:
    """(source, sha256) of every extracted record in a build's part files.

    `ParquetFile.read`, not `read_table`: without the dataset layer, much faster per small
    file.
    """
    parts = list_parts(parts_dir, "occupations") if parts_dir else []
    tables = [
        pq.ParquetFile(part)
        .read(columns=["source_file", "content_hash"])
        .rename_columns(KEY_SCHEMA.names)
        .cast(KEY_SCHEMA)
        for part in parts
    ]
    return pa.concat_tables([KEY_SCHEMA.empty_table(), *tables]).combine_chunks()
