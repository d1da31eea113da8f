"""One winner per slug: latest metadata.updated, then the first path."""

from __future__ import annotations

import datetime as dt

import pytest

from occupipe.ingest.dedupe import RecordKey, find_duplicate_losers

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 2, 1)


def key(index: int, slug: str, updated: dt.date | None, path: str) -> RecordKey:
    return RecordKey(index, slug, updated, path, f"hash{index}")


@pytest.mark.parametrize(
    ("keys", "losers"),
    [
        ([key(0, "a", D1, "a.json"), key(1, "b", D1, "b.json")], {}),
        ([key(0, "a", D1, "1.json"), key(1, "a", D2, "2.json")], {0: "2.json"}),
        ([key(0, "a", D2, "1.json"), key(1, "a", D1, "2.json")], {1: "1.json"}),
        ([key(0, "a", D1, "1.json"), key(1, "a", D1, "2.json")], {1: "1.json"}),
        ([key(0, "a", None, "1.json"), key(1, "a", D1, "2.json")], {0: "2.json"}),
        (
            [key(0, "a", D1, "1.json"), key(1, "a", D2, "2.json"), key(2, "a", D1, "3.json")],
            {0: "2.json", 2: "2.json"},
        ),
        # on a tie, input order: line 9 before line 10, element 2 before 10, a folder's files
        # at the folder's place (as the run lists them), not text order
        ([key(0, "a", D1, "f.jsonl:10"), key(1, "a", D1, "f.jsonl:9")], {0: "f.jsonl:9"}),
        ([key(0, "a", D1, "f.json[10]"), key(1, "a", D1, "f.json[2]")], {0: "f.json[2]"}),
        ([key(0, "a", D1, "a-b.json"), key(1, "a", D1, "a/z.json")], {0: "a/z.json"}),
    ],
)
def test_duplicate_slugs_keep_one_deterministic_winner(
    keys: list[RecordKey], losers: dict[int, str]
) -> None:
    found = find_duplicate_losers(keys)
    assert {i: r.reason.split(": ")[1].split(" ")[0] for i, r in found.items()} == losers
    assert all(r.stage == "dedupe" and r.content_hash == f"hash{i}" for i, r in found.items())


def test_the_winner_does_not_depend_on_input_order() -> None:
    keys = [key(0, "a", D1, "1.json"), key(1, "a", D1, "2.json")]
    assert find_duplicate_losers(keys).keys() == find_duplicate_losers(keys[::-1]).keys()
