"""S3-compatible object storage: `s3://` URIs, one client set up from AWS's standard settings,
and its errors as sentences.

s3fs, not pyarrow's S3 filesystem: its listings carry each object's ETag (what an
incremental run compares), it fetches many small objects concurrently in one call, and it
honours `AWS_ENDPOINT_URL` as every AWS tool does. Credentials come only from botocore's
chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, ...): never from an
argument, so they never reach a log, a manifest or the history.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from occupipe.core.rejection import SourceError, first_line

if TYPE_CHECKING:
    import s3fs

S3_SCHEME = "s3://"
# botocore's standard retry mode: 5xx answers, throttling and dropped connections are retried
# with exponential backoff and jitter; attempts beyond its default of 3, for long runs
RETRY_ATTEMPTS = 5


class ObjectStoreError(SourceError):
    """Object storage could not be read or written (unreachable, denied, missing)."""


def is_s3_uri(location: object) -> bool:
    """Whether a source or output names an object-storage location (`s3://bucket/prefix`)."""
    return isinstance(location, str) and location.startswith(S3_SCHEME)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key prefix without slashes at either end) of an `s3://` URI; a URI without a
    bucket, or with credentials in it, is refused in one sentence."""
    rest = uri[len(S3_SCHEME) :]
    bucket, _, prefix = rest.partition("/")
    if "@" in bucket or ":" in bucket:
        raise ObjectStoreError(
            f"{S3_SCHEME}{bucket.rpartition('@')[2]}/...: credentials do not belong in the URI;"
            " set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) instead"
        )
    if not bucket:
        raise ObjectStoreError(f"{uri} names no bucket: expected s3://BUCKET/PREFIX")
    return bucket, prefix.strip("/")


# the settings a client is made from: a process whose settings change gets a new client
AWS_SETTINGS = (
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
)  # fmt: skip


def s3_filesystem() -> s3fs.S3FileSystem:
    """A client for the endpoint and credentials AWS's standard settings name, one per process
    and settings (listings are never served from its cache: callers pass `refresh=True`)."""
    return client_for(tuple(os.environ.get(name) for name in AWS_SETTINGS))


@functools.lru_cache(maxsize=4)
def client_for(settings: tuple[str | None, ...]) -> s3fs.S3FileSystem:
    """A new client; botocore reads `settings` from the environment itself."""
    import s3fs

    # AWS_MAX_ATTEMPTS and AWS_RETRY_MODE, when set, rule as they do for every AWS tool
    retries: dict[str, object] = {"mode": os.environ.get("AWS_RETRY_MODE", "standard")}
    if "AWS_MAX_ATTEMPTS" not in os.environ:
        retries["max_attempts"] = RETRY_ATTEMPTS
    # records are small objects: one GET each (s3fs's default would HEAD every object first, to
    # split large ones into ranged reads), and many in flight at once (botocore keeps only 10
    # connections open by default): benchmarks/s3_fetch.py
    return s3fs.S3FileSystem(
        skip_instance_cache=True,
        max_concurrency=1,
        config_kwargs={
            "retries": retries,
            "connect_timeout": 10,
            "read_timeout": 60,
            "max_pool_connections": 128,
        },
    )


def endpoint_name() -> str:
    """Where requests go, for messages: `AWS_ENDPOINT_URL`, else AWS itself."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or "AWS S3"


def describe_s3_error(exc: BaseException, uri: str) -> str:
    """One sentence for an error of the S3 client at `uri` (no stack trace, no secrets)."""
    text = first_line(exc)
    if type(exc).__name__ == "NoCredentialsError":
        return (
            f"cannot read {uri}: no AWS credentials found (set AWS_ACCESS_KEY_ID and"
            " AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
        )
    if isinstance(exc, PermissionError):
        return (
            f"access to {uri} was denied by {endpoint_name()} ({text}): check the credentials"
            " in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE"
        )
    if isinstance(exc, FileNotFoundError) and "bucket" in text.lower():
        return f"the bucket of {uri} does not exist at {endpoint_name()}"
    if isinstance(exc, FileNotFoundError):
        return f"{uri} does not exist at {endpoint_name()}"
    if is_connection_error(exc):
        return f"cannot reach the S3 endpoint {endpoint_name()} for {uri}: {text}"
    return f"S3 request for {uri} failed at {endpoint_name()}: {text}"


def is_connection_error(exc: BaseException) -> bool:
    """Whether the endpoint could not be reached at all (refused, reset, timed out)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    connection = {"EndpointConnectionError", "ConnectionError", "ClientConnectorError"}
    return bool(names & connection) or isinstance(exc, ConnectionError | TimeoutError)


@contextmanager
def converting_s3_errors(uri: str) -> Iterator[None]:
    """A context in which the S3 client's errors become `ObjectStoreError` sentences."""
    try:
        yield
    except ObjectStoreError:
        raise
    except Exception as exc:
        raise ObjectStoreError(describe_s3_error(exc, uri)) from None
