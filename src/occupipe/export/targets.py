"""Every export in one call: Parquet, to a local folder or an `s3://` prefix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from occupipe.core.objectstore import ObjectStoreError, split_s3_uri
from occupipe.export.location import Location
from occupipe.export.writer import ExportUsageError, export_release

FORMATS = ("parquet",)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the release and its tables."""

    release_id: str
    out: str
    tables: list[str]

    def summary(self) -> str:
        """One line for the user: what was exported where."""
        return f"exported {len(self.tables)} table(s) of release {self.release_id} to {self.out}"


def export(
    warehouse: Path,
    out: str,
    fmt: str = "parquet",
    tables: Sequence[str] | None = None,
    release_id: str | None = None,
    partition_by: str | None = None,
) -> ExportResult:
    """Export a release (default: the current one) in `fmt` to a folder or an `s3://` prefix."""
    if fmt not in FORMATS:
        raise ExportUsageError(f"unknown format {fmt!r}: expected {' or '.join(FORMATS)}")
    location = Location(out)
    if location.is_s3:
        try:  # an s3:// URI without a bucket, or with credentials in it
            split_s3_uri(out)
        except ObjectStoreError as exc:
            raise ExportUsageError(str(exc)) from None
    if location.is_s3:
        from occupipe.export.upload import export_release_to_s3

        manifest = export_release_to_s3(warehouse, location, tables, release_id, partition_by)
    else:
        manifest = export_release(warehouse, Path(out), tables, release_id, partition_by)
    return ExportResult(manifest["release_id"], out, list(manifest["tables"]))
