"""Delta Lake exports: one Delta table per exported table, one version per exported release."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from occupipe.core.objectstore import ObjectStoreError, describe_s3_error
from occupipe.export.location import Location
from occupipe.export.writer import (
    MANIFEST_NAME,
    README_NAME,
    ExportRequest,
    ExportUsageError,
    export_readme,
    resolve_export,
)
from occupipe.ingest.tables import TABLES_BY_NAME
from occupipe.release.store import ReleaseError
from occupipe.warehouse.parquet import ROW_GROUP_ROWS, ROW_GROUP_ROWS_OF

if TYPE_CHECKING:
    from deltalake import DeltaTable

# the key of a commit's custom metadata (in its `commitInfo`) that names the release it holds
RELEASE_KEY = "occupipe.release_id"
# ... and its own version: deltalake's history numbers commits by counting back from the latest
# version, read apart from the commits, so a commit landing in between shifts every number
VERSION_KEY = "occupipe.version"
# the application id of every export's commit: two concurrent commits of it conflict
APP_ID = "occupipe-export"


@dataclass(frozen=True)
class DeltaExport:
    """What a Delta export did: the version of each table that holds the release, and the tables
    it added that version to (none when the release had been exported there before)."""

    release_id: str
    versions: dict[str, int]
    added: list[str] = field(default_factory=list)


def export_release_as_delta(
    warehouse: Path, location: Location, asked: ExportRequest
) -> DeltaExport:
    """Commit a release (default: the current one) to one Delta table per table under
    `location`: a version overwriting the table with the release's rows, the release id in the
    commit's metadata. A table that already holds the release in some version is left as is."""
    if asked.partition_by is not None:
        raise ExportUsageError(
            "--partition-by is for --format parquet only: a Delta table holds whole releases,"
            " and readers filter on category as on any column"
        )
    release_id, source, names = resolve_export(warehouse, asked)
    options = storage_options(location)
    if (
        options is not None
        and os.environ.get("AWS_PROFILE")
        and "AWS_ACCESS_KEY_ID" not in os.environ
    ):
        raise ExportUsageError(
            "a Delta export to S3 takes its credentials from AWS_ACCESS_KEY_ID and"
            " AWS_SECRET_ACCESS_KEY (or the machine's role), not from AWS_PROFILE: export them,"
            ' for instance with `eval "$(aws configure export-credentials --format env)"`'
        )
    with converting_delta_errors(location):
        existing = earlier_tables(location)
        versions, added = {}, []
        for name in names:
            uri = location.child(name)
            table = open_table(uri, options)
            held = None if table is None else version_holding(table.history(), release_id)
            if held is None and commit_release(uri, table, source, release_id, options):
                added.append(name)
            versions[name] = held if held is not None else held_version(uri, release_id, options)
        write_sidecars(location, sorted({*existing, *names}, key=list(TABLES_BY_NAME).index))
    return DeltaExport(release_id, versions, added)


def storage_options(location: Location) -> dict[str, str] | None:
    """deltalake's options for the destination: for S3, the endpoint the standard variables
    name, and plain HTTP allowed when that endpoint is `http://`. Never credentials: deltalake
    reads them from the environment itself."""
    if not location.is_s3:
        return None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return {}
    allow_http = "true" if endpoint.startswith("http://") else "false"
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": allow_http}


def earlier_tables(location: Location) -> list[str]:
    """The tables of an earlier Delta export under `location`. Anything else there (files of
    a Parquet export, or of anything but an export) is refused: versions follow releases only."""
    entries = location.entries()
    foreign = sorted(set(entries) - {*TABLES_BY_NAME, MANIFEST_NAME, README_NAME})
    if MANIFEST_NAME in entries and not is_delta_manifest(location.read_text(MANIFEST_NAME)):
        foreign.append(f"the {MANIFEST_NAME} of a Parquet export")
    if foreign:
        raise ReleaseError(
            f"{location.uri} holds {', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''},"
            " which no Delta export wrote; export into a new or empty folder, or an earlier"
            " Delta export's"
        )
    return [name for name in entries if name in TABLES_BY_NAME]


def is_delta_manifest(text: str | None) -> bool:
    """Whether a `manifest.json` is a Delta export's (a Parquet export's has no format)."""
    try:
        return bool(json.loads(text or "").get("format") == "delta")
    except (ValueError, AttributeError):
        return False


def committed_version(uri: str, release_id: str, options: dict[str, str] | None) -> int | None:
    """The version of the Delta table at `uri` whose commit holds the release, if any."""
    return version_holding(table_history(uri, options), release_id)


def version_holding(history: list[dict[str, Any]], release_id: str) -> int | None:
    """The version whose commit, among a table's, holds the release, if any."""
    for commit in history:
        if commit.get(RELEASE_KEY) == release_id:
            return version_of(commit)
    return None


def version_of(commit: dict[str, Any]) -> int:
    """A commit's version: the one it names if an export made it, else deltalake's count."""
    return int(commit.get(VERSION_KEY, commit["version"]))


def open_table(uri: str, options: dict[str, str] | None) -> DeltaTable | None:
    """The Delta table at `uri` at its latest version; None if there is no table yet."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(uri, storage_options=options)
    except TableNotFoundError:
        return None


def table_history(uri: str, options: dict[str, str] | None) -> list[dict[str, Any]]:
    """The commits of the Delta table at `uri`, newest first; none if there is no table yet."""
    table = open_table(uri, options)
    return [] if table is None else table.history()


def held_version(uri: str, release_id: str, options: dict[str, str] | None) -> int:
    """The version of the table at `uri` holding the release, which was just committed (by
    this export or a concurrent one)."""
    version = committed_version(uri, release_id, options)
    if version is None:  # only if another writer replaced the table's history meanwhile
        raise ReleaseError(f"the commit of release {release_id} to {uri} is not in its history")
    return version


def commit_release(
    uri: str,
    table: DeltaTable | None,
    source: Path,
    release_id: str,
    options: dict[str, str] | None,
) -> bool:
    """Overwrite the Delta table at `uri`, at the version `table` was read (or create it if
    None), with the release's rows of that table, streamed group by group from its published
    file, in one commit naming the release; the schema follows the release's.

    False if a concurrent export committed the same release first. The commit goes exactly on
    top of the version read (no retries) with an application transaction (`APP_ID`), so Delta
    refuses it if another commit came in between, rather than add the release twice."""
    from deltalake import (
        CommitProperties,
        PostCommitHookProperties,
        Transaction,
        WriterProperties,
        write_deltalake,
    )
    from deltalake.exceptions import DeltaError

    name = uri.rstrip("/").rsplit("/", 1)[-1]
    parquet = pq.ParquetFile(source / f"{name}.parquet")
    batches = parquet.iter_batches(batch_size=ROW_GROUP_ROWS_OF.get(name, ROW_GROUP_ROWS))
    version = 0 if table is None else table.version() + 1
    try:
        write_deltalake(
            uri if table is None else table,
            pa.RecordBatchReader.from_batches(parquet.schema_arrow, batches),
            mode="error" if table is None else "overwrite",  # "error": only if still not there
            schema_mode=None if table is None else "overwrite",
            name=name,
            description=TABLES_BY_NAME[name].description,
            storage_options=options,
            writer_properties=WriterProperties(compression="ZSTD"),
            # every version kept readable: no log cleanup (and so no checkpoint files either,
            # which are rewritten: the manifest's checksums hold only for files never changed)
            configuration={"delta.enableExpiredLogCleanup": "false"} if table is None else None,
            post_commithook_properties=PostCommitHookProperties(
                create_checkpoint=False, cleanup_expired_logs=False
            ),
            commit_properties=CommitProperties(
                custom_metadata={RELEASE_KEY: release_id, VERSION_KEY: str(version)},
                app_transactions=[Transaction(APP_ID, version)],
                max_commit_retries=0,
            ),
        )
    except DeltaError:
        if committed_version(uri, release_id, options) is None:
            raise
        return False
    return True


def write_sidecars(location: Location, names: Sequence[str]) -> None:
    """The manifest and the README with the data dictionary, beside the tables; each rewritten
    only if it changed, so exporting a release again changes nothing. The manifest lists each
    table's versions and the release each holds (read back from the tables' histories), and the
    SHA-256 of every file of the tables (`files`, as a Parquet export's) for `occupipe verify`:
    Delta's files are never rewritten, so only those new since the last export are read."""
    options = storage_options(location)
    manifest = {
        "format": "delta",
        "release_key": RELEASE_KEY,
        "tables": {
            name: {
                "key": list(TABLES_BY_NAME[name].key),
                "versions": versions_of(table_history(location.child(name), options)),
            }
            for name in names
        },
        "files": file_checksums(location, names),
    }
    layout = (
        "Each table is a Delta Lake table: version N holds the N-th release exported, its"
        f" commit naming the release (`{RELEASE_KEY}` in the commit's metadata)."
        " `manifest.json` lists the release of each version."
    )
    files = {
        README_NAME: export_readme("occupipe Delta Lake export", layout, names),
        MANIFEST_NAME: json.dumps(manifest, indent=2, sort_keys=True) + "\n",
    }
    for name, text in files.items():  # the manifest last
        if location.read_text(name) != text:
            location.write_text(name, text)


def file_checksums(location: Location, names: Sequence[str]) -> dict[str, str]:
    """SHA-256 of every file under the tables' folders: those the last manifest lists keep
    its checksum (a file changed since is for `occupipe verify` to find), the others are read."""
    try:
        listed = json.loads(location.read_text(MANIFEST_NAME) or "{}").get("files", {})
    except (ValueError, AttributeError):
        listed = {}
    tables = set(names)
    return {
        name: listed.get(name) or location.sha256(name)
        for name in location.files()
        if name.split("/", 1)[0] in tables
    }


def versions_of(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each version of a table, oldest first: its number, release and commit time (UTC)."""
    return [
        {
            "version": version_of(commit),
            "release_id": commit.get(RELEASE_KEY),
            "committed_at": dt.datetime.fromtimestamp(commit["timestamp"] / 1000, dt.UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
        }
        for commit in sorted(history, key=version_of)
    ]


@contextmanager
def converting_delta_errors(location: Location) -> Iterator[None]:
    """A context in which deltalake's errors (long multi-line reports) become one sentence."""
    try:
        yield
    except (ReleaseError, ObjectStoreError):
        raise
    except Exception as exc:
        if location.is_s3:
            raise ObjectStoreError(describe_s3_error(as_client_error(exc), location.uri)) from None
        raise ReleaseError(
            f"cannot write the Delta tables at {location.uri}: {reason(exc)}"
        ) from None


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def reason(exc: BaseException) -> str:
    """The gist of a deltalake error on one line: the S3 server's own message if it sent one,
    else the report's chain of causes, without the terminal colours."""
    if isinstance(exc, OSError) and exc.strerror:  # raised by Python itself, not deltalake
        return f"{exc.strerror} ({exc.filename})" if exc.filename else exc.strerror
    text = ANSI.sub("", str(exc))
    message = re.search(r"<Message>(.*?)</Message>", text, re.S)
    if message:
        return message.group(1).strip()
    causes = [line.strip().lstrip("↳").strip() for line in text.splitlines()]
    return ": ".join(cause for cause in causes if cause) or type(exc).__name__


def as_client_error(exc: BaseException) -> BaseException:
    """A deltalake S3 error as the exception an S3 client would raise, for `describe_s3_error`."""
    text = ANSI.sub("", str(exc))
    if "NoSuchBucket" in text:
        return FileNotFoundError(f"bucket: {reason(exc)}")
    denied = ("403 Forbidden", "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId")
    if any(word in text for word in denied):
        return PermissionError(reason(exc))
    if "error sending request" in text or "Connection refused" in text:
        return ConnectionError(reason(exc))
    return RuntimeError(reason(exc))
