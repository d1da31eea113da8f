"""Runs on a real Dask cluster: the same Parquet as a local run, and its failures as sentences."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from occupipe.core.progress import listen
from occupipe.core.settings import PACKAGE_DIR
from occupipe.runner.cluster import ClusterError, open_cluster
from occupipe.synth.corpus import write_corpus
from tests.helpers import SOULS, build, is_running, parquet_digests
from tests.servers import DaskCluster, S3Server, free_port, start_dask_cluster, upload


def test_a_run_from_s3_on_the_cluster_equals_the_local_folder_run_byte_for_byte(
    s3_server: S3Server, dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    uri = upload(s3_server, SOULS, f"cluster-{uuid.uuid4().hex[:8]}")
    local = build(SOULS, tmp_path / "local")
    remote = build(uri, tmp_path / "cluster", batch_size=25, cluster=dask_cluster.address)
    assert (remote.loaded, remote.rejected) == (local.loaded, local.rejected) == (182, 0)
    assert parquet_digests(tmp_path / "cluster" / "current") == parquet_digests(
        tmp_path / "local" / "current"
    )


def test_a_worker_killed_mid_run_has_its_batches_rerun_and_the_run_finishes_identical(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 600)
    local = build(corpus, tmp_path / "local")
    cluster = start_dask_cluster(tmp_path / "dask", 2)
    victim = cluster.workers[0]
    try:
        stop = listen(lambda done, total: victim.kill())  # at the first batch back
        try:
            remote = build(corpus, tmp_path / "cluster", batch_size=20, cluster=cluster.address)
        finally:
            stop()
        assert not is_running(victim.pid) and is_running(cluster.workers[1].pid)
    finally:
        cluster.stop()
    assert remote.loaded == local.loaded == 600
    assert parquet_digests(tmp_path / "cluster" / "current") == parquet_digests(
        tmp_path / "local" / "current"
    )


def test_an_unreachable_scheduler_stops_the_run_before_anything_is_built(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ClusterError) as raised:
        build(SOULS, tmp_path / "w", cluster=address)
    assert str(raised.value).startswith(f"cannot reach the Dask scheduler at {address}: ")
    assert not (tmp_path / "w").exists()


def test_workers_running_other_occupipe_code_are_refused_before_any_work(tmp_path: Path) -> None:
    other = tmp_path / "other" / "occupipe"
    shutil.copytree(PACKAGE_DIR, other, ignore=shutil.ignore_patterns("__pycache__"))
    with (other / "ingest" / "normalize.py").open("a") as changed:
        changed.write("\n# a change that shapes parts differently\n")
    cluster = start_dask_cluster(tmp_path / "dask", 1, {"PYTHONPATH": str(other.parent)})
    try:
        with pytest.raises(ClusterError) as raised, open_cluster(cluster.address):
            pass
        with pytest.raises(ClusterError):
            build(SOULS, tmp_path / "w", cluster=cluster.address)
    finally:
        cluster.stop()
    message = str(raised.value)
    assert message.startswith(f"the Dask workers at {cluster.address} run occupipe ")
    assert message.endswith("install the same occupipe on every worker")
    assert not (tmp_path / "w").exists()
