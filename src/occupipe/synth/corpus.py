"""The generator's entry points: a whole synthetic corpus, in memory or one file a record."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from occupipe.contract.record import RELATIONSHIP_TYPES
from occupipe.synth.profiles import CorpusPlan, plan_slugs
from occupipe.synth.records import generate_record


def link_backlinks(records: Sequence[dict[str, Any]]) -> None:
    """Set each record's computed.backlinks: sorted slugs of records with an edge to it."""
    backlinks: dict[str, set[str]] = {r["slug"]: set() for r in records}
    for record in records:
        add_backlinks(backlinks, record)
    for record in records:
        record["computed"]["backlinks"] = sorted(backlinks[record["slug"]])


def add_backlinks(backlinks: dict[str, set[str]], record: dict[str, Any]) -> None:
    """Note the record as a backlink of every known record it has an edge to."""
    for relation in record["metadata"]["related"]:
        if relation["type"] in RELATIONSHIP_TYPES and relation["slug"] in backlinks:
            backlinks[relation["slug"]].add(record["slug"])


def generate_records(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` synthetic records, identical for the same (count, seed)."""
    plan = plan_corpus(count, seed)
    records = [generate_record(index, record_rng(seed, index), plan) for index in range(count)]
    link_backlinks(records)
    yield from records


def plan_corpus(count: int, seed: int) -> CorpusPlan:
    """The plan of a corpus of `count` records."""
    if count < 0:
        raise ValueError(f"count must be zero or more, found {count}")
    return CorpusPlan.of(plan_slugs(count, seed))


def record_rng(seed: int, index: int) -> random.Random:
    """The random source of record `index`: records do not depend on one another's draws."""
    return random.Random(f"occupipe-synth:{seed}:{index}")


def dump_record(record: dict[str, Any]) -> bytes:
    """A record as compact JSON with sorted keys: the bytes written to disk."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def write_corpus(out_dir: Path, count: int, seed: int = 7) -> list[Path]:
    """Write one `<slug>.json` per generated record into `out_dir`; return the paths, sorted.

    The same bytes as `generate_records`, in bounded memory: records are written as they are
    generated, and their backlinks (known only once every record exists) filled in a second pass.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_corpus(count, seed)
    backlinks: dict[str, set[str]] = {slug: set() for slug in plan.slugs}
    paths = []
    for index in range(count):
        record = generate_record(index, record_rng(seed, index), plan)
        add_backlinks(backlinks, record)
        path = out_dir / f"{record['slug']}.json"
        path.write_bytes(dump_record(record))
        paths.append(path)
    for path, slug in zip(paths, plan.slugs, strict=True):
        record = orjson.loads(path.read_bytes())
        record["computed"]["backlinks"] = sorted(backlinks[slug])
        path.write_bytes(dump_record(record))
    return sorted(paths)
