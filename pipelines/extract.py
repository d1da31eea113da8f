"""Find input files and split their bytes into validated records or rejections with a reason.

A file holds one record (`.json` with an object), many (`.json` with an array of objects), or
one per line (`.jsonl` / `.ndjson`). Each document ends up either extracted or rejected, with
the stage that refused it: read, decode, parse or validate (dedupe comes later).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from pipelines import fastdecode
from pipelines.contract import Record, collect_unknown_fields
from pipelines.releases import HISTORY, RELEASES_DIR

JSON_SUFFIXES = (".json",)
LINE_SUFFIXES = (".jsonl", ".ndjson")
RECORD_SUFFIXES = JSON_SUFFIXES + LINE_SUFFIXES
BOM = b"\xef\xbb\xbf"
StrPath = str | os.PathLike[str]  # a found file: a string from discovery, a Path elsewhere
# a validated record: decoded by the fast path, or by pydantic when the fast path refused it
AnyRecord = Record | fastdecode.Record


@dataclass(frozen=True)
class Rejection:
    """A document that could not be loaded, with the stage that refused it and why."""

    source_file: str
    stage: str
    reason: str
    content_hash: str | None
    raw: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Extracted:
    """A validated record and where it came from."""

    record: AnyRecord
    source_file: str
    content_hash: str
    unknown_fields: tuple[str, ...] = ()


class SourceError(Exception):
    """The source as a whole cannot be read (missing folder, unreadable file)."""


def discover_inputs(source: Path, skip: Path | None = None) -> tuple[list[str], list[str]]:
    """Return (record files, ignored files) under a source folder or a single file, in path
    order (folder by folder, as sorting by `Path.parts` would); the folder `skip` (the
    warehouse, when it lies inside the source) is left out."""
    if not source.exists():
        raise SourceError(f"source folder {source} does not exist")
    if source.is_file():
        found = [str(source)]
        return (found, []) if source.suffix.lower() in RECORD_SUFFIXES else ([], found)
    if skip is not None and is_within(source, skip):
        raise SourceError(describe_source_in_warehouse(source, skip))
    # anything that is not a folder counts, so a broken link fails loudly instead of vanishing
    records: list[str] = []
    ignored: list[str] = []
    skipped = os.path.realpath(skip) if skip is not None else None
    for path in walk_files(str(source), skipped):
        (records if path.lower().endswith(RECORD_SUFFIXES) else ignored).append(path)
    return records, ignored


def is_within(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies inside it (links resolved)."""
    inner, outer = os.path.realpath(path), os.path.realpath(folder)
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def describe_source_in_warehouse(source: Path, warehouse: Path) -> str:
    """Why a source folder inside the warehouse is refused: its releases, manifests and
    history would be read as records."""
    where = "is" if os.path.realpath(source) == os.path.realpath(warehouse) else "lies inside"
    return (
        f"the source {source} {where} the warehouse {warehouse}, whose own files would be read"
        " as records: keep the source outside the warehouse"
    )


def count_until_a_record(source: Path, skip: Path | None = None) -> tuple[bool, int]:
    """Whether a source folder or file holds a record file, looking no further than the first
    one; if it holds none, how many other files it holds (a quick check before a run)."""
    if source.is_file():
        records, ignored = discover_inputs(source)  # one file: its suffix says it all
        return bool(records), len(ignored)
    others = 0
    for path in walk_files(str(source), os.path.realpath(skip) if skip is not None else None):
        if path.lower().endswith(RECORD_SUFFIXES):
            return True, others
        others += 1
    return False, others


def relative_name(path: StrPath, root: Path) -> str:
    """A found file's path under the source folder, with `/` (string work: no Path arithmetic,
    which costs more than hashing the file)."""
    text, prefix = os.fspath(path), str(root).rstrip("/") + "/"
    return (
        text[len(prefix) :] if text.startswith(prefix) else Path(path).relative_to(root).as_posix()
    )


def walk_files(folder: str, skip: str | None = None, nested: bool = False) -> Iterator[str]:
    """Every entry under a folder that is not a folder itself, hidden names left out, in path
    order: each folder's entries sorted by name, a subfolder's files at its place.

    Plain strings and one `scandir` per folder: `os.walk` with a `Path` per file and a sort by
    `Path.parts` took 1.2 s for 100k files (0.3 s now) and 400 bytes a file. Only names are
    kept while a folder is listed (each directory entry is freed at once): sorting the entries
    themselves left the paths scattered among their freed memory, 290 bytes a file where 140
    hold them. Links to folders are not followed; a broken link is listed (and fails loudly
    when read). The folder whose real path is `skip` is not entered, nor a subfolder that
    holds an occupipe warehouse (`releases/` beside `history.jsonl`): its manifests and
    history are not records.
    """
    names: list[str] = []
    folders: dict[str, bool] = {}  # subfolder name -> whether to descend (not a link)
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                names.append(entry.name)
                if is_folder(entry):
                    folders[entry.name] = not entry.is_symlink()
    except OSError as error:
        raise SourceError(f"cannot list {folder}: {error.strerror or error}") from None
    if nested and is_warehouse_listing(names, folders):
        return
    names.sort()
    prefix = folder if folder.endswith("/") else folder + "/"
    for name in names:
        descend = folders.get(name)
        if descend is None:
            yield prefix + name
        elif descend and (skip is None or os.path.realpath(prefix + name) != skip):
            yield from walk_files(prefix + name, skip, nested=True)


def is_warehouse_listing(names: list[str], folders: dict[str, bool]) -> bool:
    """Whether a folder's names are an occupipe warehouse's: `releases/` and `history.jsonl`."""
    return folders.get(RELEASES_DIR) is not None and HISTORY in names


def is_folder(entry: os.DirEntry[str]) -> bool:
    """Whether an entry is a folder or a link to one (a link that cannot be followed is not)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


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
