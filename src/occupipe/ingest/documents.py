"""Find input files and split their bytes into validated records or rejections with a reason.

A file holds one record (`.json` with an object), many (`.json` with an array of objects), or
one per line (`.jsonl` / `.ndjson`). Each document ends up either extracted or rejected, with
the stage that refused it: read, decode, parse or validate (dedupe comes later).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from occupipe.contract import fastdecode
from occupipe.contract.record import Record, collect_unknown_fields
from occupipe.core.rejection import Rejection
from occupipe.ingest.discover import LINE_SUFFIXES

BOM = b"\xef\xbb\xbf"


# a validated record: decoded by the fast path, or by pydantic when the fast path refused it
AnyRecord = Record | fastdecode.Record


@dataclass(frozen=True)
class Extracted:
    """A validated record and where it came from."""

    record: AnyRecord
    source_file: str
    content_hash: str
    unknown_fields: tuple[str, ...] = ()


def hash_bytes(raw: bytes) -> str:
    """SHA-256 hex digest of an input's bytes."""
    return hashlib.sha256(raw).hexdigest()


def extract_documents(
    raw: bytes, source_file: str, digest: str | None = None
) -> Iterator[Extracted | Rejection]:
    """Every document in one file's bytes, validated or rejected; at least one outcome.

    `digest`, if known, is the SHA-256 of `raw`: a one-record file's content hash.
    """
    if raw.startswith(BOM):
        raw, digest = raw[len(BOM) :], None
    found = False
    for outcome in _split_documents(raw, source_file, digest):
        found = True
        yield outcome
    if not found:
        yield Rejection(source_file, "parse", "file holds no records", hash_bytes(raw), raw)


def _split_documents(
    raw: bytes, source_file: str, digest: str | None
) -> Iterator[Extracted | Rejection]:
    if not raw.strip():
        yield Rejection(source_file, "read", "file is empty", hash_bytes(raw), raw)
    elif source_file.lower().endswith(LINE_SUFFIXES):
        yield from extract_lines(raw, source_file)
    elif raw.lstrip()[:1] == b"[":
        yield from extract_array(raw, source_file)
    else:
        outcome = extract_record(raw, source_file, digest)
        if _looks_like_ndjson(outcome, raw):
            yield from extract_lines(raw, source_file)  # NDJSON saved as .json
        else:
            yield outcome


def _looks_like_ndjson(outcome: Extracted | Rejection, raw: bytes) -> bool:
    return (
        isinstance(outcome, Rejection)
        and outcome.stage == "parse"
        and "trailing characters" in outcome.reason
        and b"\n{" in raw.strip()
    )


def extract_lines(raw: bytes, source_file: str) -> Iterator[Extracted | Rejection]:
    """NDJSON: one record per non-blank line; a bad line rejects only itself."""
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if line.strip():
            yield extract_record(line.rstrip(b"\r"), f"{source_file}:{number}")


LINE_NAME = re.compile(r"\.(?:json|jsonl|ndjson):\d+$", re.IGNORECASE)  # `file.jsonl:3`
ITEM_NAME = re.compile(r"\.(?:json|jsonl|ndjson)\[\d+\]$", re.IGNORECASE)  # `file.json[2]`


def extract_array(raw: bytes, source_file: str) -> Iterator[Extracted | Rejection]:
    """A top-level array: each element is a record of its own."""
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        yield reject_unparsable(raw, source_file, str(exc))
        return
    for index, item in enumerate(items):
        name = f"{source_file}[{index}]"
        item_raw = orjson.dumps(item)
        if not isinstance(item, dict):
            yield reject_array_item(item, item_raw, name)
            continue
        yield validate_record(item, item_raw, name)


def reject_array_item(item: object, raw: bytes, name: str) -> Rejection:
    """An array element that is not an object."""
    reason = f"array item is {describe_json_type(item)}, expected an object"
    return Rejection(name, "parse", reason, hash_bytes(raw), raw)


def extract_kept_document(raw: bytes, source_file: str) -> Iterator[Extracted | Rejection]:
    """A quarantined document's kept bytes, extracted again as what it was: one line of an
    NDJSON file or one element of an array (named `file.jsonl:3`, `file.json[2]`) is one
    document, never split again; a whole file is read as any file is."""
    if ITEM_NAME.search(source_file):
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield reject_unparsable(raw, source_file, str(exc))
            return
        is_record = isinstance(item, dict)
        yield (
            validate_record(item, raw, source_file)
            if is_record
            else reject_array_item(item, raw, source_file)
        )
    elif LINE_NAME.search(source_file):
        yield extract_record(raw.removeprefix(BOM), source_file)
    else:
        yield from extract_documents(raw, source_file)


def extract_record(
    raw: bytes, source_file: str, digest: str | None = None
) -> Extracted | Rejection:
    """Validate one JSON document against the contract (`digest`: its SHA-256, if known)."""
    content_hash = digest or hash_bytes(raw)
    if not raw.strip():
        return Rejection(source_file, "read", "file is empty", content_hash, raw)
    try:
        record, unknown_fields = validate_json(raw)
    except ValidationError as exc:
        if _is_json_error(exc) or exc.errors()[0]["loc"] == ():
            return reject_unparsable(raw, source_file, exc.errors()[0]["msg"])
        return Rejection(source_file, "validate", describe_validation_error(exc), content_hash, raw)
    return Extracted(record, source_file, content_hash, unknown_fields)


def validate_record(item: dict[str, Any], raw: bytes, source_file: str) -> Extracted | Rejection:
    """Validate an array element (`raw`: its JSON) by the same JSON rules as a whole file's
    document (strict Python validation would take no date as text)."""
    try:
        record, unknown_fields = validate_json(raw)
    except ValidationError as exc:
        reason = describe_validation_error(exc)
        return Rejection(source_file, "validate", reason, hash_bytes(raw), raw)
    return Extracted(record, source_file, hash_bytes(raw), unknown_fields)


def validate_json(raw: bytes) -> tuple[AnyRecord, tuple[str, ...]]:
    """A JSON document validated against the contract, with its unknown fields' paths: by
    the fast path if it accepts the document, else by pydantic (which raises
    `ValidationError` for a document the contract refuses)."""
    decoded = fastdecode.decode_record(raw)
    if decoded is not None:
        return decoded
    record = Record.model_validate_json(raw)
    return record, tuple(collect_unknown_fields(record))


def reject_unparsable(raw: bytes, source_file: str, message: str) -> Rejection:
    """Say why bytes are not a JSON object: bad encoding, a bare scalar, or broken JSON."""
    content_hash = hash_bytes(raw)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        return Rejection(source_file, "decode", reason, content_hash, raw)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        message = message.removeprefix("Invalid JSON: ")
        if LINE_NAME.search(source_file):
            # one NDJSON line (read from its file or replayed): the parser counts lines in the
            # document, always 1, and the name already has the file's line number
            message = message.replace(" at line 1 column ", " at column ")
        return Rejection(source_file, "parse", f"not valid JSON: {message}", content_hash, raw)
    if isinstance(value, dict):  # orjson took what pydantic's parser refused (nesting depth)
        reason = f"cannot parse: {message.removeprefix('Invalid JSON: ')}"
        return Rejection(source_file, "parse", reason, content_hash, raw)
    # one NDJSON line holds one record; a whole file may also hold an array of them
    expected = "an object" if LINE_NAME.search(source_file) else "an object or an array"
    reason = f"top-level value is {describe_json_type(value)}, expected {expected}"
    return Rejection(source_file, "parse", reason, content_hash, raw)


def describe_json_type(value: object) -> str:
    """'a string', 'a number', ... for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _is_json_error(exc: ValidationError) -> bool:
    return any(e["type"] == "json_invalid" for e in exc.errors())


def describe_validation_error(exc: ValidationError) -> str:
    """One line a person can act on: which field, what was expected, what was found."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    location = ".".join(str(p) for p in first["loc"]) or "record"
    if first["type"] == "missing":
        message = f"{location}: required field is missing"
    else:
        expected = first["msg"].removeprefix("Value error, ")
        message = f"{location}: {expected}, found {_preview(first.get('input'))}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return message


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
