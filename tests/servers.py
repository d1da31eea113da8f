"""Real servers for tests: SeaweedFS (S3) and a Dask cluster, on 127.0.0.1, stopped by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent  # the environment's `weed` and `dask` scripts
ACCESS_KEY, SECRET_KEY = "occupipe-test", "occupipe-test-secret"


def free_port(grpc_offset: int = 0) -> int:
    """A port free on 127.0.0.1 now (and, with `grpc_offset`, that port plus the offset too:
    SeaweedFS opens each service's port + 10000 for gRPC)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if not grpc_offset:
            return port
        if port + grpc_offset < 65536 and is_free(port + grpc_offset):
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


def is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def stop_process(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM by PID, then SIGKILL if it has not ended within `grace` seconds."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll `url` until any HTTP answer (a 403 included) or fail when the process ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server ended (exit code {process.returncode}) before {url}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class S3Server:
    """A SeaweedFS `weed mini` answering S3 at `endpoint`, with one bucket made at start."""

    endpoint: str
    bucket: str
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)  # what a client needs to reach it

    def uri(self, *parts: str) -> str:
        return "s3://" + "/".join((self.bucket, *parts))

    def stop(self) -> None:
        stop_process(self.process)


def start_s3_server(folder: Path, bucket: str = "occupipe") -> S3Server:
    """Start SeaweedFS in `folder` (data, logs and sockets stay there) on free ports."""
    # every port chosen here, the admin server's included (its default is one fixed port):
    # two servers, or two test sessions, side by side do not clash
    master, volume, filer, s3, admin = (free_port(grpc_offset=10000) for _ in range(5))
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    keys = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    command = [
        str(BIN / "weed"),
        f"-logdir={folder / 'logs'}",
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-s3.port={s3}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        f"-admin.port={admin}",
        f"-admin.dataDir={folder / 'admin'}",
        "-master.telemetry=false",
        f"-filer.localSocket={folder / 'f.sock'}",
        f"-s3.localSocket={folder / 's.sock'}",
        f"-bucket={bucket}",
    ]
    with open(folder / "logs" / "weed.out", "wb") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **keys}, stdout=out, stderr=subprocess.STDOUT, cwd=folder
        )
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        wait_for_http(endpoint + "/", process)
        env = {**keys, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1"}
        wait_for_bucket(env, bucket, process)
    except BaseException:
        stop_process(process)
        raise
    return S3Server(endpoint, bucket, process, env)


def wait_for_bucket(env: dict[str, str], bucket: str, process: subprocess.Popen[bytes]) -> None:
    """The bucket made at start is there (SeaweedFS answers S3 a moment before it is)."""
    import s3fs

    fs = s3fs.S3FileSystem(
        key=env["AWS_ACCESS_KEY_ID"],
        secret=env["AWS_SECRET_ACCESS_KEY"],
        endpoint_url=env["AWS_ENDPOINT_URL"],
        skip_instance_cache=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            fs.ls(bucket, refresh=True)
            return
        time.sleep(0.1)
    raise RuntimeError(f"bucket {bucket} did not appear")


@dataclass
class DaskCluster:
    """An external `dask scheduler` and single-threaded `dask worker` processes, one PID each
    (no nanny: a worker killed stays dead, as a lost machine would)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            stop_process(process)


def start_dask_cluster(
    folder: Path, workers: int = 2, env: dict[str, str] | None = None
) -> DaskCluster:
    """A scheduler and `workers` worker processes on 127.0.0.1 (dashboards on free ports),
    scratch space and logs under `folder`; returns once every worker has registered."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    # scratch space (and its lock files) under `folder`, not in /tmp
    environment = {**os.environ, **(env or {}), "DASK_TEMPORARY_DIRECTORY": str(folder)}
    started: list[subprocess.Popen[bytes]] = []

    def launch(name: str, *args: str) -> subprocess.Popen[bytes]:
        with open(folder / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                [str(BIN / "dask"), *args],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
        started.append(process)
        return process

    try:
        scheduler = launch(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port),
            "--dashboard-address", "127.0.0.1:0", "--no-show",
        )  # fmt: skip
        procs = [launch(f"w{n}", *worker_arguments(address, folder, n)) for n in range(workers)]
        wait_for_workers(address, workers, started)
    except BaseException:
        for process in started:
            stop_process(process)
        raise
    return DaskCluster(address, scheduler, procs)


def worker_arguments(address: str, folder: Path, number: int) -> list[str]:
    """A single-threaded worker without a nanny, dashboard on a free port, scratch in `folder`."""
    return [
        "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
        "--dashboard-address", "127.0.0.1:0", "--memory-limit", "2GiB",
        "--local-directory", str(folder / f"scratch-{number}"), "--name", f"worker-{number}",
    ]  # fmt: skip


def wait_for_workers(address: str, count: int, processes: list[subprocess.Popen[bytes]]) -> None:
    from distributed import Client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a Dask process ended while the cluster started")
        with contextlib.suppress(OSError), Client(address, timeout=5) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(count, timeout=max(deadline - time.monotonic(), 1))
            return
        time.sleep(0.2)
    raise RuntimeError(f"{count} Dask workers did not register at {address}")


@contextlib.contextmanager
def running(server: S3Server | DaskCluster) -> Iterator[S3Server | DaskCluster]:
    try:
        yield server
    finally:
        server.stop()
