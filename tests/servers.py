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
from typing import Any

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
    ports: dict[str, int] = field(default_factory=dict)  # each service's port

    def uri(self, *parts: str) -> str:
        return "s3://" + "/".join((self.bucket, *parts))

    def stop(self) -> None:
        """Stop it by PID, and remove the gRPC sockets it keeps in /tmp whatever TMPDIR says
        (it removes them itself on SIGTERM, not when a test has killed it)."""
        stop_process(self.process)
        for service, port in self.ports.items():
            Path(f"/tmp/seaweedfs-{service}-grpc-{port + 10000}.sock").unlink(missing_ok=True)


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
            command,
            env={**os.environ, **keys},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        wait_for_http(endpoint + "/", process)
        env = {**keys, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1"}
        wait_for_bucket(env, bucket, process)
    except BaseException:
        stop_process(process)
        raise
    ports = {"master": master, "volume": volume, "filer": filer, "s3": s3, "admin": admin}
    return S3Server(endpoint, bucket, process, env, ports)


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
            "--dashboard-address", "127.0.0.1:0",
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


class FlakyProxy:
    """An HTTP proxy in front of a server that answers the first `failures` requests with
    503 SlowDown (S3's throttling answer) and forwards the rest unchanged, Host header too
    (so request signatures stay valid)."""

    def __init__(self, target: str, failures: int) -> None:
        import http.server
        import threading

        self.target = target.removeprefix("http://")
        self.failures = failures
        self.seen = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                """Quiet."""

            def relay(self) -> None:
                proxy.seen += 1
                if proxy.seen <= proxy.failures:
                    body = b"<Error><Code>SlowDown</Code><Message>slow down</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.wfile.write(forward(proxy.target, self))

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def forward(target: str, request: Any) -> bytes:
    """Send a received request on to `target`; the raw HTTP answer."""
    import http.client

    length = int(request.headers.get("Content-Length") or 0)
    body = request.rfile.read(length) if length else None
    connection = http.client.HTTPConnection(target, timeout=30)
    try:
        connection.putrequest(
            request.command, request.path, skip_host=True, skip_accept_encoding=True
        )
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        answer = connection.getresponse()
        data = answer.read()
        head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
        dropped = {"transfer-encoding", "connection"}
        head += [f"{n}: {v}" for n, v in answer.getheaders() if n.lower() not in dropped]
        head.append("Connection: close")  # one request per connection, as the handler does
        if answer.getheader("Content-Length") is None:
            head.append(f"Content-Length: {len(data)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data
    finally:
        connection.close()


def upload(server: S3Server, folder: Path, prefix: str, bucket: str | None = None) -> str:
    """Copy a folder's files under `prefix` in the server's bucket (or another, made if it is
    missing); the prefix's URI."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = bucket or server.bucket
    if bucket != server.bucket and not fs.exists(bucket):  # the server's is made at its start
        fs.mkdir(bucket)
    fs.put(f"{folder}/", f"{bucket}/{prefix}/", recursive=True)
    return f"s3://{bucket}/{prefix}"
