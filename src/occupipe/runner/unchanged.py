"""A run that changes nothing: found from the fingerprints, it adopts the current release."""

from __future__ import annotations

from typing import Any

from occupipe.core.layout import DATABASE_NAME
from occupipe.core.runs import RunOptions, RunSummary
from occupipe.release.store import current_release, read_manifest


def keep_current_if_unchanged(options: RunOptions, summary: RunSummary) -> bool:
    """True (and the summary filled from the current release) when nothing it depends on
    changed: same inputs, code, SQL and reference date. Nothing is rebuilt then.

    The extraction may have found so already (`unchanged_since` set), before any batch.
    """
    if summary.unchanged_since is None:
        found = current_build(options, summary.input_fingerprint)
        if found is None:
            return False
        adopt_current_release(options, summary, *found)
    return True


def adopt_current_release(
    options: RunOptions, summary: RunSummary, current: str, manifest: dict[str, Any]
) -> None:
    """Fill the summary of a run that changes nothing from the current release's manifest."""
    counts = manifest.get("counts", {})
    summary.inputs, summary.loaded = counts.get("inputs", 0), counts.get("loaded", 0)
    summary.rejected, summary.ignored = counts.get("quarantined", 0), counts.get("ignored", 0)
    summary.table_rows = manifest.get("row_counts", {})
    summary.unchanged_since = current
    summary.release_id = current
    summary.warehouse = options.warehouse_dir / DATABASE_NAME


def current_build(
    options: RunOptions, fingerprint: str | None
) -> tuple[str, dict[str, Any]] | None:
    """The current release and its manifest, if it was built from exactly this (and no full
    refresh was asked); None otherwise."""
    current = current_release(options.warehouse_dir)
    if options.full_refresh or current is None or fingerprint is None:
        return None
    manifest = read_manifest(options.warehouse_dir, current)
    return (current, manifest) if manifest.get("input_fingerprint") == fingerprint else None
