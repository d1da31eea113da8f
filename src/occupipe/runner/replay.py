"""Replay: re-validate the quarantined documents kept with the warehouse and load those that
now pass, next to the records already published (no source needed)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from occupipe.contract.sections import read_canonical_headings
from occupipe.core.duck import connect_for_build, sql_literal
from occupipe.core.layout import DATABASE_NAME, PARQUET_DIR, QUARANTINE_DIR
from occupipe.core.rejection import Rejection
from occupipe.core.runs import RunFailed, RunOptions, RunSummary
from occupipe.ingest.batch import BatchResult, BatchRows, document_index
from occupipe.ingest.documents import extract_kept_document
from occupipe.ingest.tables import TABLES
from occupipe.release.store import current_release, read_manifest
from occupipe.runner.run import run_in_build_dir
from occupipe.runner.stages import StageRunner, call_directly
from occupipe.runner.unchanged import adopt_current_release

PREVIOUS_BATCH, REPLAY_BATCH = 1, 0


def replay_quarantine(options: RunOptions, stage: StageRunner = call_directly) -> RunSummary:
    """Build a new warehouse from the published records plus the replayed ones that now pass."""
    if not (options.warehouse_dir / DATABASE_NAME).exists():
        raise RunFailed(f"no warehouse at {options.warehouse_dir}; nothing to replay")
    return run_in_build_dir(options, stage, extract_from_warehouse)


def extract_from_warehouse(
    options: RunOptions, stage: StageRunner, summary: RunSummary, parts_dir: Path
) -> list[BatchResult]:
    """The published records as one batch, the re-validated quarantine as another; nothing
    when every kept document fails as it did (the current release then stays current)."""
    headings = read_canonical_headings(options.sections_spec)
    database = options.warehouse_dir / DATABASE_NAME
    quarantined = read_quarantine(database)
    replayed = stage(
        "revalidate-quarantine",
        revalidate_quarantine,
        quarantined,
        options.warehouse_dir,
        parts_dir,
        headings,
        options.with_html,
    )
    current = current_release(options.warehouse_dir)
    as_before = {(source, stage, reason) for source, stage, reason, _ in quarantined}
    if current is not None and as_before == describe_rejections(replayed):
        adopt_current_release(
            options, summary, current, read_manifest(options.warehouse_dir, current)
        )
        return []
    previous = stage("carry-published", carry_published_records, options.warehouse_dir, parts_dir)
    summary.ignored = read_ignored_count(database)
    return [previous, replayed]


def describe_rejections(result: BatchResult) -> set[tuple[str, str, str]]:
    """What a batch quarantined: source, stage and reason of each document."""
    return {(r.source_file, r.stage, r.reason) for r in result.rejections}


def carry_published_records(warehouse_dir: Path, parts_dir: Path) -> BatchResult:
    """Turn the published Parquet tables into part files tagged with one id per record."""
    published = warehouse_dir / PARQUET_DIR
    result = BatchResult()
    with connect_for_build() as con:
        occupations = sql_literal(str(published / "occupations.parquet"))
        con.execute(
            "create temp table ids as select slug,"
            f" row_number() over (order by slug) - 1 as position from read_parquet({occupations})"
        )
        counted = con.execute("select count(*) from ids").fetchone()
        result.documents = int(counted[0]) if counted else 0
        first_id = document_index(PREVIOUS_BATCH, 0)
        for table in TABLES:
            source = sql_literal(str(published / f"{table.name}.parquet"))
            target = parts_dir / table.name
            target.mkdir(parents=True, exist_ok=True)
            part = sql_literal(str(target / f"part-{PREVIOUS_BATCH:05d}.parquet"))
            # in the published order (a join's output has none): the release's files then
            # hold the carried rows as they were, the recovered ones after them
            con.execute(
                f"copy (select t.* exclude (file_row_number), ids.position + {first_id} as _input"
                f" from read_parquet({source}, file_row_number = true) as t"
                f" join ids on ids.slug = t.slug order by t.file_row_number) to {part}"
                " (format parquet)"
            )
        result.drift = read_drift(warehouse_dir / DATABASE_NAME)
    return result


def revalidate_quarantine(
    quarantined: list[tuple[str, str, str, str]],
    warehouse_dir: Path,
    parts_dir: Path,
    headings: frozenset[str],
    with_html: bool,
) -> BatchResult:
    """Re-validate every kept quarantined document (`read_quarantine`'s rows) with today's
    contract."""
    rows = BatchRows(headings, with_html)
    for source_file, stage, reason, content_hash in quarantined:
        kept = warehouse_dir / QUARANTINE_DIR / f"{content_hash}.raw"
        outcomes = (
            list(extract_kept_document(kept.read_bytes(), source_file))
            if content_hash and kept.exists()
            else [Rejection(source_file, stage, reason, content_hash)]
        )
        for outcome in outcomes:
            rows.add(outcome)
    rows.write(parts_dir, REPLAY_BATCH)
    return rows.result


def read_quarantine(database: Path) -> list[tuple[str, str, str, str]]:
    """The published warehouse's quarantine: source, stage, reason, content hash."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select source_file, stage, reason, content_hash from quarantine order by source_file"
        ).fetchall()
    return [tuple(row) for row in rows]


def read_drift(database: Path) -> Counter[str]:
    """The published warehouse's schema drift counts."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("select field_path, records_affected from schema_drift").fetchall()
    return Counter({path: int(count) for path, count in rows})


def read_ignored_count(database: Path) -> int:
    """How many files the published run ignored (they are not records, so replay keeps them out)."""
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            "select coalesce(sum(inputs), 0) from run_inputs where outcome = 'ignored'"
        ).fetchone()
    return int(row[0]) if row else 0
