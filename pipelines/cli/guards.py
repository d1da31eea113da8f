"""A run's checks before its Prefect server starts, and its failures as one sentence each."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from occupipe.core.duck import describe_duckdb_error
from occupipe.core.rejection import SourceError
from occupipe.core.runs import RunFailed, RunOptions
from occupipe.ingest.discover import count_until_a_record
from occupipe.release.lock import RunLocked, check_unlocked
from occupipe.release.store import current_release
from occupipe.runner.extract import describe_empty_source
from occupipe.runner.replay import read_quarantine
from occupipe.runner.stages import WorkerLost
from pipelines.cli.common import Interrupted, describe_os_error, fail
from pipelines.prefect_setup import ServerFailed

T = TypeVar("T")

# how DuckDB reports Ctrl-C that lands inside a query run from Python (not as KeyboardInterrupt)
QUERY_INTERRUPTED = "Query interrupted"


def run_safely(
    runner: Callable[[RunOptions], T], options: RunOptions, ready: Callable[[], None] | None
) -> T:
    """Run a flow once `ready` says its Prefect API answers (None: no Prefect needed); every
    expected failure becomes one sentence and exit code 1."""
    kept = describe_what_was_kept(options.warehouse_dir)
    before = current_release(options.warehouse_dir)
    try:
        options.warehouse_dir.mkdir(parents=True, exist_ok=True)
        if ready is not None:
            ready()
        return runner(options)
    except (KeyboardInterrupt, duckdb.InterruptException):
        raise interrupted(kept) from None
    except RunLocked as exc:
        raise fail(describe_locked(exc, options.lock_wait)) from None
    except (RunFailed, SourceError, ServerFailed, WorkerLost) as exc:
        raise fail(f"{exc}; {kept}") from None
    except OSError as exc:
        raise fail(f"{describe_os_error(exc)}; {kept}") from None
    except duckdb.Error as exc:
        reason = describe_duckdb_error(exc)
        raise fail(f"the warehouse could not be built: {reason}; {kept}") from None
    except RuntimeError as exc:
        if str(exc) != QUERY_INTERRUPTED:
            raise
        raise interrupted(kept) from None
    except Exception as exc:
        if is_model_failure(exc):
            raise fail(f"{exc}; {kept}") from None
        if is_lost_api(exc):
            raise fail(describe_lost_api(exc, options.warehouse_dir, before, kept)) from None
        raise


def is_model_failure(exc: Exception) -> bool:
    """A SQL model or a data test's spec that cannot run: their modules (and sqlglot) are
    imported here, not at the top, as a run that changes nothing never needs them."""
    from occupipe.warehouse.datatests import DataTestSpecError
    from occupipe.warehouse.sqlmodels import ModelError

    return isinstance(exc, ModelError | DataTestSpecError)


def is_lost_api(exc: Exception) -> bool:
    """Whether a run failed because Prefect's API stopped answering (httpx, which Prefect's
    client uses, is loaded by then; the CLI's other commands never load it)."""
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(exc, httpx.HTTPError)


def describe_lost_api(exc: Exception, warehouse: Path, before: str | None, kept: str) -> str:
    """A run that lost Prefect's API midway: tasks report by events, so the run may have
    published before its flow run's last state change failed."""
    lost = f"lost the Prefect API during the run ({exc})"
    published = current_release(warehouse)
    if published != before and published is not None:
        return f"{lost}; release {published} was published, but Prefect has no record of its end."
    return f"{lost}; {kept}"


def has_quarantine(database: Path) -> bool:
    """Whether the published warehouse quarantined anything (a damaged one: let replay say)."""
    try:
        return bool(read_quarantine(database))
    except duckdb.Error:
        return True


def check_source(source: Path, warehouse: Path) -> None:
    """Before starting a Prefect server: a local source that does not exist or holds no
    record files fails now, in one sentence (the run would say the same ten seconds later)."""
    if not source.exists():
        raise fail(f"source {source} does not exist.")
    try:
        found, others = count_until_a_record(source, warehouse)
    except SourceError as exc:
        raise fail(f"{exc}.") from None
    if not found:
        raise fail(f"{describe_empty_source(source, others)}; nothing was run.")


def describe_locked(exc: RunLocked, waited: float) -> str:
    """One sentence for a warehouse another run holds."""
    if waited:
        return f"{exc}; still held after {waited:g} s, try again later."
    return f"{exc}; try again later, or pass --wait SECONDS to wait for it."


def check_not_running(options: RunOptions, poll: float = 0.2) -> None:
    """Before starting a Prefect server: a warehouse another run holds fails now, in one
    sentence, or once --wait has passed with the warehouse still held (the run itself then
    takes the lock, waiting again should another run take it first)."""
    deadline = time.monotonic() + options.lock_wait
    while True:
        try:
            check_unlocked(options.warehouse_dir)
            return
        except RunLocked as exc:
            if time.monotonic() >= deadline:
                raise fail(describe_locked(exc, options.lock_wait)) from None
        time.sleep(poll)


def describe_what_was_kept(warehouse: Path) -> str:
    """What a failed or interrupted run leaves published, as the end of its sentence."""
    if current_release(warehouse) is None:
        return "nothing was published."
    return "the previous warehouse was left as it was."


def interrupted(kept: str) -> Interrupted:
    """A run interrupted, and what it left published."""
    return Interrupted(f"interrupted; {kept}")
