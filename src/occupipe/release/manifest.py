"""The release manifest: inputs, code and dependency versions, outputs and their checksums."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from occupipe.core.history import now_utc, read_history
from occupipe.core.layout import DATABASE_NAME, INPUT_LEDGER, MANIFEST, PARQUET_DIR, SITE_DIR
from occupipe.core.rejection import Rejection
from occupipe.core.runs import RunOptions, RunSummary
from occupipe.core.settings import PROJECT_DIR
from occupipe.ingest.discover import relative_name
from occupipe.release.catalog import recorded_records
from occupipe.release.ledger import write_input_ledger
from occupipe.release.store import current_release, read_manifest, release_path

DEPENDENCIES = ("duckdb", "pyarrow", "pydantic", "prefect", "orjson")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit() -> str | None:
    """The checkout's commit, when occupipe runs from a git checkout."""
    try:
        result = subprocess.run(
            ["git", "-C", str(PROJECT_DIR), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class SealedInputs:
    """The input ledger written, and the checksums of output files already final."""

    documents: int
    checksums: dict[str, str]  # path relative to the build folder -> sha256

    def with_checksums(self, more: dict[str, str]) -> SealedInputs:
        """The same, with more final files checksummed (`seal_files`)."""
        return SealedInputs(self.documents, {**self.checksums, **more})


def seal_inputs(
    build_dir: Path, parts_dir: Path | None, rejections: Sequence[Rejection]
) -> SealedInputs:
    """Write the input ledger and checksum it: part of the manifest that can be done beside
    the data tests, whose time then hides its own."""
    documents = write_input_ledger(build_dir, parts_dir, rejections)
    return SealedInputs(documents, seal_files(build_dir, [build_dir / INPUT_LEDGER]))


def seal_files(build_dir: Path, files: Sequence[Path]) -> dict[str, str]:
    """The sha256 of final output files, by their path under `build_dir` (with `/`)."""
    return {relative_name(path, build_dir): file_sha256(path) for path in files}


def write_manifest(
    build_dir: Path,
    summary: RunSummary,
    options: RunOptions,
    status: str,
    sealed: SealedInputs | None = None,
) -> dict[str, Any]:
    """Describe a release completely in `manifest.json` (the data files hold no run times).

    `sealed`: the ledger and checksums done already (`seal_inputs`); done here if None.
    """
    if sealed is None:
        sealed = seal_inputs(build_dir, summary.accounted_parts, summary.rejections)
    data_files = [*(build_dir / PARQUET_DIR).glob("*.parquet"), build_dir / DATABASE_NAME]
    site = [p for p in (build_dir / SITE_DIR).rglob("*") if p.is_file()]
    outputs = sorted([*data_files, build_dir / "report.html", build_dir / INPUT_LEDGER, *site])
    outputs = [p for p in outputs if p.exists()]
    checksums = {}
    for path in outputs:
        name = relative_name(path, build_dir)
        checksums[name] = sealed.checksums.get(name) or file_sha256(path)
    manifest = {
        "release_id": summary.run_id,
        "status": status,
        "input_fingerprint": summary.input_fingerprint,
        "started_at": summary.started_at,
        "finished_at": now_utc(),
        "failure": summary.failure,
        "occupipe": {"version": package_version("occupipe"), "git_commit": git_commit()},
        "dependencies": {name: package_version(name) for name in DEPENDENCIES},
        "options": {f.name: str(getattr(options, f.name)) for f in dataclasses.fields(options)},
        "inputs": {"ledger": INPUT_LEDGER, "documents": sealed.documents},
        "counts": {
            "inputs": summary.inputs,
            "loaded": summary.loaded,
            "quarantined": summary.rejected,
            "ignored": summary.ignored,
        },
        "row_counts": summary.table_rows,
        "outputs": checksums,
        "stage_seconds": summary.stage_seconds,
        "model_seconds": summary.model_seconds,
        "gates": summary.gates,
        "data_tests": [
            {"name": r.name, "severity": r.severity, "failures": r.failures}
            for r in summary.test_results
        ],
        "metrics": summary.metrics,
    }
    (build_dir / MANIFEST).write_bytes(dump_indented(manifest))
    return manifest


def dump_indented(value: Any) -> bytes:
    """JSON indented by two spaces. orjson: the standard library's indenting encoder is pure
    Python (many times slower on a large manifest); it still takes over for text orjson
    refuses (an undecodable file name's surrogates, which it escapes)."""
    try:
        return orjson.dumps(
            value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str
        )
    except orjson.JSONEncodeError:
        return json.dumps(value, indent=2, default=str).encode()


def count_published_records(warehouse: Path) -> int | None:
    """Records in the current release (its manifest's count, else its Parquet's), else in the
    history's last published run (the `current` link lost); None before the first publish.

    A release missing a file must not look like a first publish: the volume gate needs it.
    """
    current = current_release(warehouse)
    if current is not None:
        records = recorded_records(read_manifest(warehouse, current), {})
        if records is not None:
            return records
        path = release_path(warehouse, current) / PARQUET_DIR / "occupations.parquet"
        with contextlib.suppress(OSError, pa.ArrowException):
            return int(pq.read_metadata(path).num_rows)
    published = [
        e["records"]
        for e in read_history(warehouse)
        if e["event"] == "run" and e.get("status") == "published" and e.get("records") is not None
    ]
    return published[-1] if published else None


def read_table_schemas(parquet_dir: Path) -> dict[str, dict[str, str]]:
    """Column name -> type of every Parquet table in a folder."""
    if not parquet_dir.exists():
        return {}
    return {
        path.stem: {field.name: str(field.type) for field in pq.read_schema(path)}
        for path in sorted(parquet_dir.glob("*.parquet"))
    }
