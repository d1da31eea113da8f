"""Compare a computed stats document with the site's stats.json, the way metrics.md asks:
every field equal, betweenness and generatedFor excepted, tied groups compared as sets."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

IDENTITY_FIELDS = {"slug", "title", "tag", "name", "from", "to", "type", "missing"}
EXCEPTED_FIELDS = {"betweenness"}
# lists cut at a fixed length: their last tie group may be a subset of the full tie group
TRUNCATED = {
    "centrality": 25,
    "interdisciplinary": 25,
    "newest": 12,
    "recentlyUpdated": 12,
    "largest": 12,
    "smallest": 12,
    "incomplete": 50,
    "missingMetadata": 50,
    "stalePages": 50,
}


def _sort_key(item: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in item.items() if k not in IDENTITY_FIELDS | EXCEPTED_FIELDS},
        sort_keys=True,
    )


def _comparable(item: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in item.items() if k not in EXCEPTED_FIELDS}, sort_keys=True)


def compare_ranked(name: str, expected: list[Any], actual: list[Any]) -> list[str]:
    """Differences between two ranked lists of objects, ties compared as sets."""
    if len(expected) != len(actual):
        return [f"{name}: {len(actual)} items, expected {len(expected)}"]
    if not expected or not isinstance(expected[0], dict):
        return [] if expected == actual else [f"{name}: {actual!r} != {expected!r}"]
    if [_sort_key(e) for e in expected] != [_sort_key(a) for a in actual]:
        return [f"{name}: ranking keys differ"]
    problems = []
    groups_e = [list(g) for _, g in groupby(expected, key=_sort_key)]
    groups_a = [list(g) for _, g in groupby(actual, key=_sort_key)]
    truncated = len(expected) == TRUNCATED.get(name)
    for index, (ge, ga) in enumerate(zip(groups_e, groups_a, strict=True)):
        if truncated and index == len(groups_e) - 1:
            continue  # the cut-off group: which of the tied items made the cut is arbitrary
        if sorted(map(_comparable, ge)) != sorted(map(_comparable, ga)):
            problems.append(f"{name}: tie group {_sort_key(ge[0])} differs")
    return problems


def compare_stats(expected: dict[str, Any], actual: dict[str, Any], path: str = "") -> list[str]:
    """Every difference between the site's stats and ours (empty when they agree)."""
    problems = []
    for key, value in expected.items():
        if key in EXCEPTED_FIELDS or key == "generatedFor":
            continue
        where = f"{path}{key}"
        if key not in actual:
            problems.append(f"{where}: missing")
        elif isinstance(value, dict):
            problems.extend(compare_stats(value, actual[key], f"{where}."))
        elif isinstance(value, list):
            problems.extend(compare_ranked(key, value, actual[key]))
        elif value != actual[key]:
            problems.append(f"{where}: {actual[key]!r}, expected {value!r}")
    extra = set(actual) - set(expected)
    if extra:
        problems.append(f"{path or 'stats'}: unexpected fields {sorted(extra)}")
    return problems
