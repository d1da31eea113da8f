"""Find input files and turn their bytes into validated records, or rejections with a reason."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from pipelines.contract import Record

RECORD_SUFFIXES = (".json",)


@dataclass(frozen=True)
class Rejection:
    """An input that could not be loaded, with the stage that refused it and why."""

    source_file: str
    stage: str
    reason: str
    content_hash: str | None


@dataclass(frozen=True)
class Extracted:
    """A validated record and where it came from."""

    record: Record
    source_file: str
    content_hash: str


class SourceError(Exception):
    """The source as a whole cannot be read (missing folder, not a folder)."""


def discover_inputs(source: Path) -> tuple[list[Path], list[Path]]:
    """Return (record files, ignored files) under a source folder, each sorted by path."""
    if not source.exists():
        raise SourceError(f"source folder {source} does not exist")
    if not source.is_dir():
        raise SourceError(f"source {source} is not a folder")
    files = sorted(p for p in source.rglob("*") if p.is_file() and not _is_hidden(p, source))
    records = [p for p in files if p.suffix.lower() in RECORD_SUFFIXES]
    ignored = [p for p in files if p.suffix.lower() not in RECORD_SUFFIXES]
    return records, ignored


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def hash_bytes(raw: bytes) -> str:
    """SHA-256 hex digest of an input's bytes."""
    return hashlib.sha256(raw).hexdigest()


def extract_record(raw: bytes, source_file: str) -> Extracted | Rejection:
    """Validate one JSON document against the contract."""
    content_hash = hash_bytes(raw)
    if not raw.strip():
        return Rejection(source_file, "read", "file is empty", content_hash)
    try:
        record = Record.model_validate_json(raw)
    except ValidationError as exc:
        stage = "parse" if _is_json_error(exc) else "validate"
        return Rejection(source_file, stage, describe_validation_error(exc), content_hash)
    return Extracted(record, source_file, content_hash)


def _is_json_error(exc: ValidationError) -> bool:
    return any(e["type"] == "json_invalid" for e in exc.errors())


def describe_validation_error(exc: ValidationError) -> str:
    """One line a person can act on: which field, what was expected, what was found."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    location = ".".join(str(p) for p in first["loc"]) or "record"
    found = first.get("input")
    if first["type"] == "json_invalid":
        return f"not valid JSON: {first['msg'].removeprefix('Invalid JSON: ')}"
    if first["type"] == "missing":
        message = f"{location}: required field is missing"
    else:
        message = f"{location}: {first['msg']}, found {_preview(found)}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return message


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
