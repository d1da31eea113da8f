"""`occupipe run` and `occupipe replay`: a build or a replay as a Prefect flow run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC
from occupipe.core.duck import check_memory_limit, memory_limit
from occupipe.core.layout import DATABASE_NAME, QUARANTINE_DIR
from occupipe.core.objectstore import ObjectStoreError, is_s3_uri, split_s3_uri
from occupipe.core.progress import listen
from occupipe.core.runs import RunOptions
from occupipe.core.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_REJECT_RATE,
    DEFAULT_MAX_SHRINK,
    find_sql_dir,
)
from occupipe.ingest.discover import describe_source_in_warehouse, is_within
from occupipe.ingest.http import is_http_source
from occupipe.runner.run import run_if_unchanged
from pipelines.cli.common import (
    EXIT_USAGE,
    AsOfOption,
    VerboseOption,
    WaitOption,
    WarehouseOption,
    fail,
    import_prefect_module,
    out,
    parse_date,
    say,
    settings,
    warehouse_dir,
)
from pipelines.cli.guards import check_not_running, check_source, has_quarantine, run_safely
from pipelines.cli.server import command_server
from pipelines.cli.summary import print_summary
from pipelines.prefect_setup import configure_prefect

MaxRejectOption = Annotated[
    float,
    typer.Option(
        "--max-reject-rate",
        min=0.0,
        max=1.0,
        help="Fail the run when a larger share of inputs is quarantined.",
    ),
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Fail the run on any quarantine.")]
BatchSizeOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help=f"Files per extract batch (default {DEFAULT_BATCH_SIZE}, or $OCCUPIPE_BATCH_SIZE).",
    ),
]
ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Dask scheduler (tcp://HOST:PORT, or $OCCUPIPE_CLUSTER) to extract batches on.",
    ),
]


def run(
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Folder, file, s3://BUCKET/PREFIX, or http(s) base URL of the static API"
            " (default data/raw).",
        ),
    ] = None,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = None,
    with_html: Annotated[
        bool, typer.Option("--with-html", help="Keep rendered section HTML.")
    ] = False,
    batch_size: BatchSizeOption = None,
    max_reject_rate: MaxRejectOption = DEFAULT_MAX_REJECT_RATE,
    strict: StrictOption = False,
    max_shrink: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Largest allowed drop in records vs the current release."
        ),
    ] = DEFAULT_MAX_SHRINK,
    allow_shrink: Annotated[
        bool, typer.Option("--allow-shrink", help="Publish even if records dropped more.")
    ] = False,
    allow_schema_change: Annotated[
        bool,
        typer.Option(
            "--allow-schema-change",
            help="Publish even if a published column is removed or retyped.",
        ),
    ] = False,
    wait: WaitOption = 0.0,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Re-extract everything; ignore the cache.")
    ] = False,
    cluster: ClusterOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Run the build-warehouse flow and publish a new release if every gate passes."""
    defaults = settings()
    check_build_settings()
    chosen = source or defaults.source
    remote = is_http_source(chosen) or is_s3_uri(chosen)
    if "://" in chosen and not remote:
        raise fail(
            f"cannot read {chosen}: a source is a folder, a file, an s3:// prefix or an"
            " http(s) URL.",
            EXIT_USAGE,
        )
    if is_s3_uri(chosen):
        check_s3_uri(chosen)
    options = RunOptions(
        source=chosen if remote else Path(chosen),
        warehouse_dir=warehouse_dir(warehouse),
        sql_dir=find_sql_dir(),
        as_of=parse_date(as_of) or dt.date.today(),
        sections_spec=DEFAULT_SECTIONS_SPEC,
        batch_size=batch_size or defaults.batch_size,
        with_html=with_html,
        max_reject_rate=max_reject_rate,
        strict=strict,
        max_shrink=max_shrink,
        allow_shrink=allow_shrink,
        allow_schema_change=allow_schema_change,
        lock_wait=wait,
        full_refresh=full_refresh,
        cluster=cluster or defaults.cluster,
    )
    if isinstance(options.source, Path):
        if options.source.is_dir() and is_within(options.source, options.warehouse_dir):
            problem = describe_source_in_warehouse(options.source, options.warehouse_dir)
            raise fail(f"{problem}.", EXIT_USAGE)
        check_source(options.source, options.warehouse_dir)
    if options.warehouse_dir.exists() and not options.warehouse_dir.is_dir():
        raise fail(f"the warehouse {options.warehouse_dir} is a file, not a folder.")
    check_not_running(options)
    # a run that would change nothing ends here, before Prefect is imported or any server
    # starts: it is recorded in the history, as every run is (docs/prefect.md says what
    # Prefect sees of it)
    kept = None
    if options.warehouse_dir.is_dir():  # (there is nothing to keep in a new one)
        kept = run_safely(run_if_unchanged, options, None)
    if kept is not None:
        print_summary(kept)
        return
    check_cluster(options.cluster)
    configure_prefect(verbose)
    with own_api_server() as ready, progress_bar(enabled=not quiet and out.is_terminal):
        flows = import_prefect_module("pipelines.flows")  # Prefect is imported only for runs
        summary = run_safely(flows.run_build_flow, options, ready)
    print_summary(summary)


def replay(
    warehouse: WarehouseOption = None,
    as_of: AsOfOption = None,
    wait: WaitOption = 0.0,
    verbose: VerboseOption = False,
) -> None:
    """Re-validate the quarantined inputs kept with the warehouse; load those that now pass."""
    check_build_settings()
    folder = warehouse_dir(warehouse)
    options = RunOptions(
        source=folder / QUARANTINE_DIR,  # what is replayed (the manifest says so)
        warehouse_dir=folder,
        sql_dir=find_sql_dir(),
        as_of=parse_date(as_of) or dt.date.today(),
        sections_spec=DEFAULT_SECTIONS_SPEC,
        max_reject_rate=1.0,
        lock_wait=wait,
    )
    if not (options.warehouse_dir / DATABASE_NAME).exists():
        raise fail(f"no warehouse at {options.warehouse_dir}; run `occupipe run` first.")
    if not has_quarantine(options.warehouse_dir / DATABASE_NAME):
        say("nothing is quarantined in the published warehouse: nothing to replay")
        return  # at once: no Prefect server for a no-op (it took seconds)
    check_not_running(options)
    configure_prefect(verbose)
    with own_api_server() as ready:
        flows = import_prefect_module("pipelines.flows")
        print_summary(run_safely(flows.run_replay_flow, options, ready))


def check_cluster(address: str | None) -> None:
    """Before starting a Prefect server: the cluster answers, and its workers run this code."""
    if address is None:
        return
    from occupipe.runner.cluster import ClusterError, open_cluster

    try:
        with open_cluster(address):
            pass
    except ClusterError as exc:
        raise fail(f"{exc}.") from None


def check_s3_uri(uri: str) -> None:
    """An S3 source names a bucket and carries no credentials (they would reach the history)."""
    try:
        split_s3_uri(uri)
    except ObjectStoreError as exc:
        raise fail(f"{exc}.", EXIT_USAGE) from None


def check_build_settings() -> None:
    """What a build reads from the environment, checked before any work starts."""
    try:
        check_memory_limit(memory_limit())
    except ValueError as exc:
        raise fail(f"{exc}.", EXIT_USAGE) from None


@contextmanager
def own_api_server() -> Iterator[Callable[[], None]]:
    """The Prefect API the command uses, started before Prefect is imported so it boots while
    Prefect loads (`command_server`); yields what waits until it answers."""
    with command_server() as ready:
        yield ready


@contextmanager
def progress_bar(enabled: bool) -> Iterator[None]:
    """A progress bar over input files while they are extracted (terminals only)."""
    if not enabled:
        yield
        return
    with Progress(
        TextColumn("extracting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=out, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("extract", total=None)
        stop = listen(lambda done, total: bar.update(task, completed=done, total=total))
        try:
            yield
        finally:
            stop()
