"""The shared types of one run: its options, its summary, and how it fails."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from occupipe.core.rejection import Rejection
from occupipe.core.settings import DEFAULT_BATCH_SIZE, DEFAULT_MAX_REJECT_RATE, DEFAULT_MAX_SHRINK


class RunFailed(Exception):
    """The run could not complete; the previous warehouse is left as it was.

    `summary` is the failed run's summary (counts, gates, failure) once the run recorded it.
    """

    summary: RunSummary | None = None


@dataclass(frozen=True)
class HttpSettings:
    concurrency: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    retries: int = 4
    backoff: float = 0.5  # seconds, doubled at each retry
    max_retry_after: float = 60.0
    total_timeout: float = 120.0  # one response, start to end (a trickle never ends otherwise)


@dataclass(frozen=True)
class DataTestResult:
    name: str
    severity: str
    failures: int
    sample: list[tuple[Any, ...]]
    columns: list[str]

    @property
    def passed(self) -> bool:
        return self.failures == 0


@dataclass(frozen=True)
class RunOptions:
    source: Path | str  # a folder, a file, an s3:// prefix or an http(s) base URL
    warehouse_dir: Path
    sql_dir: Path
    as_of: dt.date
    sections_spec: Path
    batch_size: int = DEFAULT_BATCH_SIZE
    with_html: bool = False
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    strict: bool = False
    max_shrink: float = DEFAULT_MAX_SHRINK
    allow_shrink: bool = False
    allow_schema_change: bool = False
    lock_wait: float = 0.0
    full_refresh: bool = False
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    parallel_min_files: int = 2000
    http: HttpSettings = field(default_factory=HttpSettings)
    cluster: str | None = None  # a Dask scheduler's address: batches are extracted there


@dataclass
class RunSummary:
    run_id: str
    files: int = 0
    inputs: int = 0
    loaded: int = 0
    rejected: int = 0
    ignored: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    model_seconds: dict[str, float] = field(default_factory=dict)
    test_results: list[DataTestResult] = field(default_factory=list)
    warehouse: Path | None = None
    started_at: str = ""
    release_id: str | None = None
    failure: str | None = None
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    # the part files the run's documents were accounted from (the manifest lists the inputs
    # from them); None until then
    accounted_parts: Path | None = None
    changes: dict[str, int] = field(default_factory=dict)
    input_fingerprint: str | None = None
    unchanged_since: str | None = None

    def time_stage(self, name: str, started: float) -> None:
        """Record the seconds a stage took since `started` (a `time.perf_counter()` reading)."""
        self.stage_seconds[name] = round(time.perf_counter() - started, 3)


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id sortable by time: UTC timestamp plus a short random suffix."""
    moment = now or dt.datetime.now(dt.UTC)
    return f"{moment:%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(2)}"
