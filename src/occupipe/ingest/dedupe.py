"""Pick one winner per slug when several inputs claim it; the others become rejections."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from occupipe.core.duck import connect_for_build
from occupipe.core.rejection import Rejection
from occupipe.ingest.batch import BatchResult, list_parts
from occupipe.ingest.normalize import INPUT_COLUMN


@dataclass(frozen=True, slots=True)
class RecordKey:
    """What deduplication needs to know about a loaded record."""

    input_index: int
    slug: str
    updated_on: dt.date | None
    source_file: str
    content_hash: str


def read_duplicate_claims(parts_dir: Path) -> list[RecordKey]:
    """The records whose slug another record also claims, read from the build's part files.

    Read back from disk rather than kept from extraction: a run holds no key per record in
    memory for deduplication.
    """
    parts = list_parts(parts_dir, "occupations")
    if not parts:
        return []
    with connect_for_build() as con:
        rows = con.execute(
            f"select {INPUT_COLUMN}, slug, updated_on, source_file, content_hash"
            " from read_parquet(?) qualify count(*) over (partition by slug) > 1",
            [[str(part) for part in parts]],
        ).fetchall()
    return [RecordKey(*row) for row in rows]


def find_duplicate_losers(keys: Iterable[RecordKey]) -> dict[int, Rejection]:
    """Map input index -> rejection for every record that lost to another with the same slug.

    The winner is the record with the latest `metadata.updated`; on a tie, the first path.
    """
    by_slug: dict[str, list[RecordKey]] = defaultdict(list)
    for key in keys:
        by_slug[key.slug].append(key)
    losers: dict[int, Rejection] = {}
    for slug, claims in by_slug.items():
        if len(claims) < 2:
            continue
        ranked = sorted(claims, key=lambda k: (-_ordinal(k.updated_on), input_order(k.source_file)))
        winner = ranked[0]
        for loser in ranked[1:]:
            reason = f"duplicate slug {slug!r}: {winner.source_file} wins (updated later or first)"
            losers[loser.input_index] = Rejection(
                loser.source_file, "dedupe", reason, loser.content_hash
            )
    return losers


# a line of an NDJSON file (`feed.jsonl:12`) or an element of an array file (`all.json[3]`)
_WITHIN_FILE = re.compile(r"^(.*?)(?::(\d+)|\[(\d+)\])$")


def input_order(source_file: str) -> tuple[tuple[str, ...], int]:
    """A document's place in the input order: its file's place in the walk (folder by folder,
    as the run lists them: `a/z.json` before `a-b.json`), then its line or element number
    (`:9` before `:10`, which text order would reverse)."""
    match = _WITHIN_FILE.match(source_file)
    if match is None:
        return tuple(source_file.split("/")), -1
    path, line, element = match.groups()
    return tuple(path.split("/")), int(line or element)


def _ordinal(day: dt.date | None) -> int:
    return day.toordinal() if day else 0


def collect_rejections(
    results: Sequence[BatchResult], parts_dir: Path
) -> tuple[list[Rejection], set[int]]:
    """All rejections of a run, duplicates included; and the inputs to leave out of tables."""
    losers = find_duplicate_losers(read_duplicate_claims(parts_dir))
    rejections = [rej for r in results for rej in r.rejections] + list(losers.values())
    return sorted(rejections, key=lambda r: r.source_file), set(losers)
