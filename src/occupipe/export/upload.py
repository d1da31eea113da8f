"""A Parquet export to an `s3://` prefix: written as a folder export is, then uploaded."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from occupipe.export.location import Location
from occupipe.export.writer import (
    MANIFEST_NAME,
    ExportRequest,
    export_release,
    resolve_export,
)
from occupipe.release.store import ReleaseError


def export_release_to_s3(
    warehouse: Path, location: Location, asked: ExportRequest
) -> dict[str, Any]:
    """Export a release as `export_release` does into a local temporary folder, then upload
    that folder under the prefix, the manifest last: the same files, byte for byte."""
    release_id, _, names = resolve_export(warehouse, asked)
    if not location.is_empty():
        # as a local export refuses a folder that is not empty: it would mix releases
        raise ReleaseError(f"{location.uri} is not empty; export into a new or empty prefix")
    with tempfile.TemporaryDirectory(prefix="occupipe-export-") as staging:
        folder = Path(staging) / "export"
        manifest = export_release(warehouse, folder, names, release_id, asked.partition_by)
        location.upload(folder, last=MANIFEST_NAME)
    return manifest
