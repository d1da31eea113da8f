"""`occupipe run` with an S3 source and a Dask cluster, as a user types it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.helpers import SOULS, build, invoke, parquet_digests, refuse_server
from tests.pipelines.test_cli_process import occupipe_run
from tests.servers import DaskCluster, S3Server, free_port, upload


@pytest.mark.e2e
def test_a_run_from_s3_on_a_cluster_prints_a_clean_summary_and_the_local_parquet(
    s3_server: S3Server, dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    uri = upload(s3_server, SOULS, f"cli-{uuid.uuid4().hex[:8]}")
    build(SOULS, tmp_path / "local")
    done = occupipe_run(
        uri,
        tmp_path,
        "--cluster",
        dask_cluster.address,
        "--batch-size",
        "50",
        "--as-of",
        "2026-06-26",
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "inputs 182: loaded 182, quarantined 0" in done.stdout
    assert parquet_digests(tmp_path / "wh" / "current") == parquet_digests(
        tmp_path / "local" / "current"
    )


def test_an_unreachable_cluster_is_one_sentence_and_exit_1_before_any_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_server(monkeypatch, "an unreachable cluster")
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv("OCCUPIPE_CLUSTER", address)
    code, _, err = invoke("run", "--source", str(SOULS), "--warehouse", str(tmp_path / "w"))
    assert code == 1
    assert err.startswith(f"error: cannot reach the Dask scheduler at {address}: ")
    assert err.count("\n") == 1
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("s3://AKIA:topsecret@bucket/prefix", "credentials do not belong in the URI"),
        ("s3:///prefix", "names no bucket"),
        ("ftp://host/records", "a source is a folder, a file, an s3:// prefix or an http(s) URL"),
    ],
)
def test_an_s3_source_with_credentials_or_no_bucket_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, problem: str
) -> None:
    refuse_server(monkeypatch, "a bad source")
    code, _, err = invoke("run", "--source", source, "--warehouse", str(tmp_path / "w"))
    assert code == 2
    assert problem in err and "topsecret" not in err
