"""CPU of one extraction batch, phase by phase: our path against a prototype from JSON to Arrow.

    python -m benchmarks.batch_paths --records 5000 [--repeat 3] [--workdir DIR]

One process, the same files in memory for every path, CPU time (`time.process_time`), the
median of R rounds after one warm-up round. Three paths:

* the floor: `orjson.loads` of every file's bytes;
* ours: `process_batch`, the code a run uses, as one figure; then the same work again phase
  by phase (read, hash, validate and find unknown fields, gather the columns, Arrow arrays,
  part files, freeing) to show where it goes;
* a prototype of what issue 6 would need for 4x on a fast host: the batch parsed by pyarrow's
  JSON reader into Arrow and cut into tables with Arrow compute, without a Python object per
  record. It checks nothing of the contract and builds three tables (`sections`, `tags` and
  part of `occupations`), so its figure is a lower bound of such a path, not a design.

`tests/test_benchmark.py` checks that the prototype's `sections` rows equal ours.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from benchmarks.corpus import make_corpus
from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC, read_canonical_headings
from occupipe.contract.wordcount import count_words
from occupipe.ingest.batch import document_id, paused_garbage_collection, process_batch, write_part
from occupipe.ingest.documents import Extracted, validate_json
from occupipe.ingest.normalize import add_record_rows, build_tables, new_batch

Phases = dict[str, float]
OCCUPATION_FIELDS = ("title", "slug", "category", "kind", "status", "summary", "created")


class Clock:
    """CPU seconds per named phase, in the order first seen."""

    def __init__(self) -> None:
        self.phases: Phases = {}

    def time(self, name: str, work: Callable[[], Any]) -> Any:
        started = time.process_time()
        result = work()
        self.phases[name] = self.phases.get(name, 0.0) + time.process_time() - started
        return result


def parse_only(raws: Sequence[bytes]) -> Phases:
    """The floor: `orjson.loads` of every file (the files already read)."""
    clock = Clock()
    clock.time("orjson.loads", lambda: [orjson.loads(raw) for raw in raws])
    return clock.phases


def our_batch(files: Sequence[Path], workdir: Path) -> Phases:
    """`process_batch` as a run calls it, one figure."""
    clock = Clock()
    headings = read_canonical_headings(DEFAULT_SECTIONS_SPEC)
    with tempfile.TemporaryDirectory(dir=workdir) as parts:
        work = partial(process_batch, files, files[0].parent, Path(parts), 0, headings)
        clock.time("process_batch", work)
    return clock.phases


def our_phases(files: Sequence[Path], workdir: Path) -> Phases:
    """Our batch's work again, phase by phase (outside `process_batch`, which interleaves them)."""
    clock = Clock()
    headings = read_canonical_headings(DEFAULT_SECTIONS_SPEC)
    raws, digests = read_and_hash(files, clock)
    validated = clock.time("validate", lambda: [validate_json(raw) for raw in raws])
    batch = new_batch()

    def gather() -> None:
        for path, (record, fields), digest in zip(files, validated, digests, strict=True):
            item = Extracted(record, path.name, digest, fields)
            add_record_rows(batch, document_id(path.name), item, headings, False)

    clock.time("gather columns", gather)
    tables = clock.time("arrow arrays", lambda: build_tables(batch))
    with tempfile.TemporaryDirectory(dir=workdir) as parts:
        folder = Path(parts)
        clock.time("part files", lambda: [write_part(folder / n, 0, t) for n, t in tables.items()])
    clock.time("free", partial(clear_all, validated, batch, tables))
    return clock.phases


def read_and_hash(files: Sequence[Path], clock: Clock) -> tuple[list[bytes], list[str]]:
    """Every file's bytes and SHA-256, each step on the clock (both paths begin so)."""
    raws = clock.time("read", lambda: [path.read_bytes() for path in files])
    digests = clock.time("sha256", lambda: [hashlib.sha256(raw).hexdigest() for raw in raws])
    return raws, digests


def ndjson_buffer(raws: Sequence[bytes]) -> bytes:
    """The files' documents as one NDJSON buffer: a literal newline in a JSON document can only
    be whitespace, so it becomes a space."""
    return b"\n".join(raw.replace(b"\n", b" ").replace(b"\r", b" ") for raw in raws)


def parse_buffer(buffer: bytes) -> pa.Table:
    """Every document of an NDJSON buffer as one Arrow row (types inferred), one thread."""
    options = pj.ReadOptions(block_size=max(len(buffer), 1 << 20), use_threads=False)
    return pj.read_json(io.BytesIO(buffer), read_options=options).combine_chunks()


def cut_tables(parsed: pa.Table) -> dict[str, pa.Table]:
    """`sections` (without word counts), `tags` and part of `occupations`, by Arrow compute."""
    slugs = parsed.column("slug").chunk(0)
    sections = parsed.column("sections").chunk(0)
    owner = pc.list_parent_indices(sections)
    flat = pc.list_flatten(sections)
    first = pc.take(sections.offsets, owner)
    position = pc.subtract(pa.array(range(len(flat)), pa.int64()), first)
    metadata = parsed.column("metadata").chunk(0)
    tags = metadata.field("tags")
    return {
        "sections": pa.table(
            {
                "slug": pc.take(slugs, owner),
                "position": pc.cast(position, pa.int32()),
                "heading": flat.field("heading"),
                "markdown": flat.field("markdown"),
            }
        ),
        "tags": pa.table(
            {"slug": pc.take(slugs, pc.list_parent_indices(tags)), "tag": pc.list_flatten(tags)}
        ),
        "occupations": pa.table({name: metadata.field(name) for name in OCCUPATION_FIELDS}),
    }


def add_word_counts(sections: pa.Table) -> pa.Table:
    """Our word count of every section's markdown (as Python text: the rule is ours)."""
    texts = sections.column("markdown").to_pylist()
    return sections.append_column("word_count", pa.array(map(count_words, texts), pa.int32()))


def arrow_tables(raws: Sequence[bytes], clock: Clock) -> dict[str, pa.Table]:
    """The prototype's tables from the files' bytes, each step on the clock."""
    buffer = clock.time("one NDJSON buffer", partial(ndjson_buffer, raws))
    parsed = clock.time("pyarrow.json", partial(parse_buffer, buffer))
    tables: dict[str, pa.Table] = clock.time("cut tables", partial(cut_tables, parsed))
    tables["sections"] = clock.time("word counts", partial(add_word_counts, tables["sections"]))
    return tables


def arrow_phases(files: Sequence[Path], workdir: Path) -> Phases:
    """The prototype, phase by phase."""
    clock = Clock()
    raws, _ = read_and_hash(files, clock)
    tables = arrow_tables(raws, clock)
    with tempfile.TemporaryDirectory(dir=workdir) as parts:
        folder = Path(parts)
        clock.time("part files", lambda: [write_part(folder / n, 0, t) for n, t in tables.items()])
    clock.time("free", partial(clear_all, tables, raws))
    return clock.phases


def clear_all(*held: list[Any] | dict[str, Any]) -> None:
    """Drop what a batch holds (its objects are freed now, on the clock)."""
    for collection in held:
        collection.clear()


def measure(files: Sequence[Path], workdir: Path, repeat: int) -> dict[str, Phases]:
    """Every path's phases, the median of `repeat` rounds after a warm-up round."""
    raws = [path.read_bytes() for path in files]
    paths: dict[str, Callable[[], Phases]] = {
        "parse-only": lambda: parse_only(raws),
        "ours": lambda: our_batch(files, workdir),
        "ours by phase": lambda: our_phases(files, workdir),
        "prototype": lambda: arrow_phases(files, workdir),
    }
    rounds: dict[str, list[Phases]] = {name: [] for name in paths}
    gc.collect()
    for round_number in range(repeat + 1):
        for name, run in paths.items():
            with paused_garbage_collection():  # as `process_batch` runs
                phases = run()
            if round_number:  # the first round warms caches and allocators
                rounds[name].append(phases)
    return {name: median_phases(measured) for name, measured in rounds.items()}


def median_phases(rounds: list[Phases]) -> Phases:
    """Each phase's median over the rounds."""
    return {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}


def print_report(records: int, megabytes: float, repeat: int, result: dict[str, Phases]) -> None:
    floor = sum(result["parse-only"].values())
    print(f"{records} records, {megabytes:.0f} MB of JSON, one process, CPU seconds,", end="")
    print(f" median of {repeat} rounds after a warm-up round")
    for name, phases in result.items():
        total = sum(phases.values())
        print(f"{name:<16}{total:>7.2f}{total / floor:>7.1f}x", end="")
        if len(phases) > 1:
            print("  " + ", ".join(f"{phase} {seconds:.2f}" for phase, seconds in phases.items()))
        else:
            print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.gettempdir()) / "occupipe-bench"
    corpus = make_corpus(args.records, workdir)
    files = sorted(corpus.glob("*.json"))
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        result = measure(files, Path(scratch), args.repeat)
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    print_report(args.records, megabytes, args.repeat, result)


if __name__ == "__main__":
    main()
