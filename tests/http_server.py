"""A local static-API server for tests: serves a folder on 127.0.0.1, with injected faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class FaultyHandler(SimpleHTTPRequestHandler):
    """Serves files; `server.faults[path]` lists what the next requests to a path get."""

    server: FaultyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server.requests.append((path, dict(self.headers)))
        faults = self.server.faults.get(path, [])
        fault = faults.pop(0) if faults else None
        if fault is None:
            if path.endswith("/souls.json") and self.server.extra_slugs:
                return self.send_index(path)
            return super().do_GET()
        kind, _, value = fault.partition(":")
        if kind == "status":
            self.send_response(int(value))
            if value == "429":
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind == "slow":
            time.sleep(float(value))
            super().do_GET()
        elif kind == "truncate":
            body = (Path(self.directory) / path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        return None

    def send_index(self, path: str) -> None:
        entries = json.loads((Path(self.directory) / path.lstrip("/")).read_bytes())
        entries += [{"slug": slug} for slug in self.server.extra_slugs]
        body = json.dumps(entries).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FaultyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Path) -> None:
        super().__init__(("127.0.0.1", 0), partial(FaultyHandler, directory=str(directory)))
        self.faults: dict[str, list[str]] = {}
        self.extra_slugs: list[str] = []
        self.requests: list[tuple[str, dict[str, str]]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def serve(directory: Path) -> Iterator[FaultyServer]:
    """Serve a folder until the block ends."""
    server = FaultyServer(directory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
