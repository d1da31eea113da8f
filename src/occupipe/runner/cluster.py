"""Extraction on a Dask cluster: connect, check every worker runs this code, lend its executor.

distributed's own executor (stdlib futures), not Prefect's DaskTaskRunner: batches stay
plain function calls behind the same fan-out seam as the local process pool, workers need
no Prefect API, and a task run per batch cost more than the batch itself
(benchmarks/HISTORY.md). The scheduler reruns the batches of a worker that dies.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Iterator
from concurrent.futures import CancelledError, Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from occupipe.core.rejection import first_line
from occupipe.core.runs import RunFailed
from occupipe.ingest.fingerprints import parts_code_digest

CONNECT_TIMEOUT = 5  # seconds: a scheduler that does not answer by then is unreachable


class ClusterError(RunFailed):
    """The cluster cannot take the run's batches (unreachable, no workers, other code)."""


@dataclass(frozen=True)
class Cluster:
    """A connected cluster: its executor for batches, and how many batches it runs at once."""

    address: str
    executor: Executor
    slots: int


def worker_identity() -> str:
    """This process's occupipe version and a digest of the code that shapes Parquet parts;
    two processes with the same identity extract the same bytes from the same files."""
    try:
        version = importlib.metadata.version("occupipe")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"occupipe {version} (code {parts_code_digest()[:12]})"


@contextmanager
def open_cluster(address: str | None) -> Iterator[Cluster | None]:
    """The cluster at `address`, connected and checked (None without an address); anything
    that would stop it taking the batches is one sentence (`ClusterError`), before any work."""
    if not address:
        yield None
        return
    client = connect(address)
    try:
        slots = check_workers(client, address)
        yield Cluster(address, client.get_executor(pure=False), slots)
    finally:
        client.close()


def connect(address: str) -> Any:
    """A client of the scheduler at `address`; an unreachable one is one sentence."""
    from distributed import Client

    quiet_connection_logs()
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        reason = first_line(exc)
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def check_workers(client: Any, address: str) -> int:
    """How many batches the cluster's workers run at once, after checking that they run this
    occupipe (the same code gives the same Parquet); otherwise one sentence."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    if not workers:
        raise ClusterError(f"the Dask cluster at {address} has no workers: start some first")
    expected = worker_identity()
    try:
        found: dict[str, str] = client.run(worker_identity)
    except Exception as exc:  # a worker that cannot even import occupipe
        reason = first_line(exc)
        raise ClusterError(
            f"the Dask workers at {address} cannot run occupipe ({reason}): install {expected}"
            " on every worker"
        ) from None
    others = sorted({identity for identity in found.values() if identity != expected})
    if others:
        raise ClusterError(
            f"the Dask workers at {address} run {', '.join(others)}, not {expected} as this"
            " coordinator does: install the same occupipe on every worker"
        )
    return sum(int(worker.get("nthreads", 1)) for worker in workers.values())


@contextmanager
def converting_cluster_errors(address: str) -> Iterator[None]:
    """A context in which the cluster's own failures (a batch whose workers kept dying, the
    scheduler gone) become one sentence; a batch's own errors pass as they are."""
    try:
        yield
    except Exception as exc:
        if not is_cluster_failure(exc):
            raise
        reason = first_line(exc)
        raise ClusterError(
            f"the Dask cluster at {address} failed the run's batches: {reason}"
        ) from None


def is_cluster_failure(exc: BaseException) -> bool:
    """Whether an error came from the cluster (distributed's own, a cancelled future, a lost
    connection) rather than from a batch's work."""
    module = type(exc).__module__ or ""
    return module.split(".")[0] in {"distributed", "tornado"} or isinstance(
        exc, CancelledError | ConnectionError
    )


def quiet_connection_logs() -> None:
    """distributed's client logs a lost worker or a closed stream as errors on stderr; the run
    recovers from those (the scheduler reruns the batches), and says so itself if it cannot."""
    for name in ("distributed", "distributed.client", "distributed.comm", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
