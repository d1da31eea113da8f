"""Runs whose source is an S3 prefix: same Parquet as a folder, incremental, failures kept out."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import s3fs

from occupipe.core.objectstore import ObjectStoreError
from occupipe.core.progress import listen
from occupipe.core.rejection import SourceError
from occupipe.release.store import current_release
from tests.helpers import SOULS, build, copy_sample, parquet_digests
from tests.servers import S3Server, start_s3_server, upload


def fresh_prefix() -> str:
    return f"run-{uuid.uuid4().hex[:8]}"


def test_a_run_from_s3_publishes_the_same_parquet_as_the_local_folder(
    s3_server: S3Server, tmp_path: Path
) -> None:
    uri = upload(s3_server, SOULS, fresh_prefix())
    local = build(SOULS, tmp_path / "local")
    remote = build(uri, tmp_path / "s3", batch_size=40)
    assert remote.loaded == local.loaded == 182
    assert parquet_digests(tmp_path / "s3" / "current") == parquet_digests(
        tmp_path / "local" / "current"
    )


def test_a_rerun_reads_only_the_objects_whose_etag_changed(
    s3_server: S3Server, tmp_path: Path
) -> None:
    prefix = fresh_prefix()
    uri = upload(s3_server, copy_sample(tmp_path / "sample", 30), prefix)
    first = build(uri, tmp_path / "w", batch_size=10)
    again = build(uri, tmp_path / "w", batch_size=10)
    assert again.unchanged_since == first.release_id
    assert again.changes == {"new": 0, "changed": 0, "unchanged": 30, "removed": 0}
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    name = sorted(fs.find(f"{s3_server.bucket}/{prefix}"))[0]
    fs.pipe(name, fs.cat(name).replace(b'"status"', b' "status"', 1))
    changed = build(uri, tmp_path / "w", batch_size=10)
    assert changed.changes == {"new": 0, "changed": 1, "unchanged": 29, "removed": 0}
    assert changed.release_id != first.release_id


def test_wrong_credentials_fail_the_run_in_one_sentence_and_keep_the_release(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = upload(s3_server, copy_sample(tmp_path / "sample", 5), fresh_prefix())
    first = build(uri, tmp_path / "w")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    with pytest.raises(ObjectStoreError) as raised:
        build(uri, tmp_path / "w", full_refresh=True)
    assert str(raised.value).startswith(f"access to {uri} was denied")
    assert "wrong-secret" not in str(raised.value)
    assert current_release(tmp_path / "w") == first.release_id
    history = (tmp_path / "w" / "history.jsonl").read_text()
    assert "wrong-secret" not in history and os.environ["AWS_ACCESS_KEY_ID"] not in history


def test_the_s3_server_stopped_mid_run_fails_in_one_sentence_and_keeps_the_release(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = start_s3_server(tmp_path / "s3")
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", own.endpoint)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # fail fast: the server is gone for good
        uri = upload(own, copy_sample(tmp_path / "sample", 30), "sample")
        first = build(uri, tmp_path / "w", batch_size=5)
        stop = listen(lambda done, total: own.process.kill())  # after the first batch
        try:
            with pytest.raises(SourceError) as raised:
                build(uri, tmp_path / "w", batch_size=5, full_refresh=True)
        finally:
            stop()
    finally:
        own.stop()
    message = str(raised.value)
    assert message.startswith(f"cannot reach the S3 endpoint {own.endpoint}"), message
    assert "\n" not in message
    assert current_release(tmp_path / "w") == first.release_id
    assert '"status": "failed"' in (tmp_path / "w" / "history.jsonl").read_text()
