"""A source in S3-compatible object storage: list a prefix's record objects, fetch a batch's.

Folder semantics: every `*.json`, `*.jsonl` and `*.ndjson` object under the prefix, at any
depth, hidden names left out, in key order. An object's change stamp is a digest of its ETag
(the index's `mtime_ns` column holds it): with its size, what an incremental run compares.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from occupipe.core.objectstore import (
    S3_SCHEME,
    ObjectStoreError,
    converting_s3_errors,
    endpoint_name,
    is_s3_uri,
    s3_filesystem,
    split_s3_uri,
)
from occupipe.ingest.discover import RECORD_SUFFIXES, StrPath


@dataclass(frozen=True)
class ObjectListing:
    """A prefix's record objects (full `s3://` URIs, key order) with their sizes and change
    stamps, and the other objects found (ignored)."""

    root: str  # s3://bucket/prefix: names are relative to it
    records: list[str]
    sizes: pa.Array  # int64
    stamps: pa.Array  # int64
    ignored: list[str]


def list_source_objects(uri: str) -> ObjectListing:
    """Every object under `uri` (recursive), split into record objects and the rest.

    A missing bucket, or a prefix with no objects at all, is one sentence (`ObjectStoreError`).
    """
    bucket, prefix = split_s3_uri(uri)
    root = f"{S3_SCHEME}{bucket}/{prefix}".rstrip("/")
    fs = s3_filesystem()
    with converting_s3_errors(uri):
        found = fs.find(f"{bucket}/{prefix}".rstrip("/"), detail=True, refresh=True)
    if not found:
        raise ObjectStoreError(f"{uri} holds no objects at {endpoint_name()}")
    records, sizes, stamps, ignored = [], [], [], []
    for key in sorted(found):
        info = found[key]
        if info.get("type") != "file" or is_hidden(key, len(bucket) + len(prefix) + 1):
            continue
        if key.lower().endswith(RECORD_SUFFIXES):
            records.append(S3_SCHEME + key)
            sizes.append(int(info["size"]))
            stamps.append(etag_stamp(str(info.get("ETag", ""))))
        else:
            ignored.append(S3_SCHEME + key)
    return ObjectListing(
        root, records, pa.array(sizes, pa.int64()), pa.array(stamps, pa.int64()), ignored
    )


def is_hidden(key: str, start: int) -> bool:
    """Whether a key has a hidden name (`.x`) at any level below the prefix, as a local source's
    hidden files and folders are left out."""
    return any(part.startswith(".") for part in key[start:].split("/"))


def etag_stamp(etag: str) -> int:
    """A non-negative 63-bit digest of an object's ETag: a new ETag, a new stamp."""
    digest = hashlib.blake2b(etag.strip('"').encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def is_object_batch(paths: Sequence[StrPath]) -> bool:
    """Whether a batch's inputs are objects in S3 (a batch never mixes kinds)."""
    return bool(paths) and is_s3_uri(paths[0])


def fetch_objects(uris: Sequence[StrPath]) -> dict[StrPath, bytes]:
    """The bytes of each object, fetched concurrently; any that cannot be fetched fails the
    whole call in one sentence (a fault of the source, as an unreadable file is)."""
    if not uris:
        return {}
    fs = s3_filesystem()
    keys = [str(uri)[len(S3_SCHEME) :] for uri in uris]
    with converting_s3_errors(str(uris[0]).rsplit("/", 1)[0]):
        fetched = fs.cat(keys, on_error="raise")
    return {uri: fetched[key] for uri, key in zip(uris, keys, strict=True)}
