"""What fetching a batch's objects from S3 costs a worker: requests, client CPU and waiting."""

# python -m benchmarks.s3_fetch [--objects 1000] [--size-kb 30] [--latency-ms 0 30]
#
# A batch read from S3 goes through `occupipe.ingest.s3source.fetch_objects` (s3fs). This
# times it against a stand-in S3 endpoint on 127.0.0.1 that answers every HEAD and GET with
# an object of the given size after the given latency, and counts the requests and how many
# were in flight at once. The stand-in runs in a process of its own (stopped by its PID), so
# the CPU time counted is the client's alone: with no latency it is what each object costs a
# worker's CPU; with a latency like a remote S3's, the wall-clock time shows how many requests
# the client keeps in flight. The same fetch with a larger connection pool, and then also
# without a HEAD request per object, is timed beside it.
# Figures from a local stand-in say nothing of S3's own latency or throughput.

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

SERVER = r"""
import http.server, json, sys, threading, time
size, latency = int(sys.argv[1]), float(sys.argv[2])
body, lock, stats = b"x" * size, threading.Lock(), {"HEAD": 0, "GET": 0, "active": 0, "peak": 0}

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, with_body):
        if self.path.startswith("/_stats"):
            data = json.dumps(stats).encode()
            with lock:
                stats.update(HEAD=0, GET=0, peak=0)
            return self.send(data, True)
        with lock:
            stats[self.command] += 1
            stats["active"] += 1
            stats["peak"] = max(stats["peak"], stats["active"])
        time.sleep(latency)
        with lock:
            stats["active"] -= 1
        self.send(body, with_body)

    def send(self, data, with_body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", '"0"')
        self.send_header("Last-Modified", "Mon, 07 Dec 2026 00:00:00 GMT")
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def do_GET(self):
        self.answer(True)

    def do_HEAD(self):
        self.answer(False)

class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def stand_in_s3(size: int, latency: float) -> Iterator[str]:
    """The stand-in endpoint in its own process; yields its URL, stops it by PID."""
    command = [sys.executable, "-c", SERVER, str(size), str(latency)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            yield f"http://127.0.0.1:{int(process.stdout.readline())}"
        finally:
            process.terminate()
            process.wait(10)


def read_stats(endpoint: str) -> dict[str, int]:
    """The requests the stand-in answered since the last reading, and the most at once."""
    with urllib.request.urlopen(f"{endpoint}/_stats", timeout=10) as answer:
        stats: dict[str, int] = json.loads(answer.read())
    return stats


def project_fetch(uris: list[str]) -> Callable[[], Any]:
    """The fetch a worker does today (its client as `s3_filesystem` makes it)."""
    from occupipe.ingest.s3source import fetch_objects

    return lambda: fetch_objects(uris)


def pooled_fetch(uris: list[str], connections: int, head: bool = True) -> Callable[[], Any]:
    """The same `cat`, through a client with a larger connection pool; without `head`, with
    no HEAD request per object (s3fs asks an object's size first only to split a large one
    into concurrent ranges, which `max_concurrency=1` turns off)."""
    import s3fs

    fs = s3fs.S3FileSystem(
        skip_instance_cache=True,
        max_concurrency=10 if head else 1,  # 10: s3fs's default
        config_kwargs={"max_pool_connections": connections},
    )
    keys = [uri.removeprefix("s3://") for uri in uris]
    return lambda: fs.cat(keys, on_error="raise")


def measure(objects: int, size: int, latency: float) -> list[str]:
    """Each way of fetching `objects` objects, once warm: one report line each."""
    uris = [f"s3://bench/records/{n:07d}.json" for n in range(objects)]
    lines = []
    with stand_in_s3(size, latency) as endpoint:
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",  # the stand-in checks no signature
            AWS_REGION="us-east-1",
        )
        ways = {
            "fetch_objects": project_fetch(uris),
            "128 connections": pooled_fetch(uris, 128),
            "128, no HEAD": pooled_fetch(uris, 128, head=False),
        }
        for name, fetch in ways.items():
            fetch()  # warm: the client, its connections, the imports
            read_stats(endpoint)
            cpu, started = time.process_time(), time.perf_counter()
            fetch()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            stats = read_stats(endpoint)
            requests = (stats["HEAD"] + stats["GET"]) / objects
            lines.append(
                f"{name:<16}{1000 * latency:>8.0f}{1000 * seconds / objects:>12.2f}"
                f"{1000 * cpu / objects:>10.2f}{requests:>14.1f}{stats['peak']:>11}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=1000, help="a batch's worth")
    parser.add_argument("--size-kb", type=int, default=30, help="a synthetic record's size")
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 30.0])
    args = parser.parse_args()
    print(f"{args.objects} objects of {args.size_kb} kB from a stand-in S3 on 127.0.0.1")
    print(f"{'client':<16}{'latency':>8}{'ms/object':>12}{'CPU ms':>10}{'requests/obj':>14}"
          f"{'in flight':>11}")  # fmt: skip
    for latency in args.latency_ms:
        for line in measure(args.objects, 1000 * args.size_kb, latency / 1000):
            print(line)


if __name__ == "__main__":
    main()
