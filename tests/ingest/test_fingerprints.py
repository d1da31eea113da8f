"""Batch planning and fingerprints as pure functions: stable cuts, keys that follow content."""

from __future__ import annotations

import zlib

import pyarrow as pa
import pytest

from occupipe.ingest.fingerprints import (
    INDEX_SCHEMA,
    batch_key,
    index_matches,
    plan_stable_batches,
    split_table,
)

NAMES = [f"records/{n:05d}.json" for n in range(5000)]


def prints_of(names: list[str], digests: list[str]) -> pa.Table:
    """An index table as fingerprinting makes it."""
    return pa.table(
        {
            "source_file": [name.encode() for name in names],
            "size": [1] * len(names),
            "mtime_ns": [1] * len(names),
            "sha256": digests,
        },
        schema=INDEX_SCHEMA,
    )


@pytest.mark.parametrize("batch_size", [1, 7, 100, 1000])
def test_batches_keep_every_file_once_in_order_and_stay_near_their_size(batch_size: int) -> None:
    batches = plan_stable_batches(NAMES, batch_size)
    assert [name for batch in batches for name in batch] == NAMES
    assert all(len(batch) <= 2 * batch_size for batch in batches)


def test_one_new_file_changes_only_the_batch_it_falls_in() -> None:
    before = plan_stable_batches(NAMES, 100)
    # a new name inside a batch below the size cap, and no cut point itself (either would
    # rightly move a cut)
    new = next(
        name
        for batch in before
        if len(batch) < 199
        for n in range(20)
        if zlib.crc32((name := f"{batch[0]}-{n}").encode()) % 100
    )
    after = plan_stable_batches(sorted([*NAMES, new]), 100)
    changed = [batch for batch in after if batch not in before]
    assert len(changed) == 1 and new in changed[0]
    assert len(after) == len(before)


def test_a_batch_key_follows_the_code_and_every_file_name_and_content() -> None:
    prints = prints_of(["a.json", "b.json"], ["1" * 64, "2" * 64])
    key = batch_key("code", prints)
    assert batch_key("code", prints) == key
    assert batch_key("other code", prints) != key
    assert batch_key("code", prints_of(["a.json", "c.json"], ["1" * 64, "2" * 64])) != key
    assert batch_key("code", prints_of(["a.json", "b.json"], ["1" * 64, "3" * 64])) != key


def test_the_index_matches_only_the_same_rows_and_tables_split_by_batch() -> None:
    prints = prints_of(["a.json", "b.json", "c.json"], ["1" * 64, "2" * 64, "3" * 64])
    assert index_matches(prints, prints)
    assert not index_matches(None, prints)
    assert not index_matches(prints.slice(0, 2), prints)
    parts = split_table(prints, [["a.json"], ["b.json", "c.json"]])
    assert [part.num_rows for part in parts] == [1, 2]
    assert pa.concat_tables(parts).equals(prints)
