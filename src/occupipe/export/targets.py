"""Every export in one call: Parquet or Delta Lake, to a local folder or an `s3://` prefix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from occupipe.core.objectstore import ObjectStoreError, split_s3_uri
from occupipe.export.location import Location
from occupipe.export.writer import ExportRequest, ExportUsageError, export_release

FORMATS = ("parquet", "delta")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the release, its tables, and for Delta the version of each table
    holding the release and the tables this export added that version to."""

    release_id: str
    out: str
    tables: list[str]
    versions: dict[str, int] | None = None  # Delta only
    added: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the user: what was exported where (for Delta, as which version)."""
        done = f"exported {len(self.tables)} table(s) of release {self.release_id} to {self.out}"
        if self.versions is None:
            return done
        numbers = sorted(set(self.versions.values()))
        version = (
            f"version {numbers[0]}"
            if len(numbers) == 1
            else "versions " + ", ".join(f"{t} {v}" for t, v in self.versions.items())
        )
        if not self.added:
            return (
                f"release {self.release_id} is already {version} of the Delta tables at"
                f" {self.out}: nothing added"
            )
        held = len(self.tables) - len(self.added)
        already = f" ({held} table(s) already held it)" if held else ""
        return f"{done} as Delta {version}{already}"


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
    asked = ExportRequest(tables, release_id, partition_by)
    if fmt == "delta":
        from occupipe.export.delta import export_release_as_delta

        done = export_release_as_delta(warehouse, location, asked)
        return ExportResult(done.release_id, out, list(done.versions), done.versions, done.added)
    if location.is_s3:
        from occupipe.export.upload import export_release_to_s3

        manifest = export_release_to_s3(warehouse, location, asked)
    else:
        manifest = export_release(warehouse, Path(out), tables, release_id, partition_by)
    return ExportResult(manifest["release_id"], out, list(manifest["tables"]))
