"""The sharpest test: our SQL reproduces the SOUL Atlas site's stats.json on the same records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from occupipe.core.runs import RunSummary
from tests.helpers import SAMPLE, build
from tests.parity import compare_ranked, compare_stats


def computed_stats(warehouse: Path) -> dict[str, Any]:
    with duckdb.connect(str(warehouse / "occupations.duckdb"), read_only=True) as con:
        row = con.execute("select stats::varchar from stats").fetchone()
    assert row is not None
    return json.loads(row[0])  # type: ignore[no-any-return]


def test_stats_equal_the_sites_stats_field_by_field(
    corpus_warehouse: tuple[Path, RunSummary],
) -> None:
    expected = json.loads((SAMPLE / "stats.json").read_text())
    actual = computed_stats(corpus_warehouse[0])
    assert compare_stats(expected, actual) == []
    assert actual["generatedFor"] == "2026-06-26"


@pytest.mark.parametrize(
    "facet", ["byCategory", "byKind", "byStatus", "byProvenance", "byDifficulty"]
)
def test_count_objects_list_their_keys_by_count_then_value(
    corpus_warehouse: tuple[Path, RunSummary], facet: str
) -> None:
    # the site orders byCategory and byKind by count (ties as the records come), the others as
    # their values first occur: neither tie order means anything, and stats must print the same
    # in every run
    counts = computed_stats(corpus_warehouse[0])[facet]
    assert list(counts) == sorted(counts, key=lambda key: (-counts[key], key))


def test_betweenness_matches_the_site_too(corpus_warehouse: tuple[Path, RunSummary]) -> None:
    expected = json.loads((SAMPLE / "stats.json").read_text())["centrality"]
    actual = computed_stats(corpus_warehouse[0])["centrality"]
    assert [(c["slug"], c["betweenness"]) for c in actual] == [
        (c["slug"], pytest.approx(c["betweenness"], abs=1e-3)) for c in expected
    ]


@pytest.mark.parametrize(
    ("expected", "actual", "problems"),
    [
        (
            [{"tag": "a", "count": 2}, {"tag": "b", "count": 2}],
            [{"tag": "b", "count": 2}, {"tag": "a", "count": 2}],
            0,
        ),
        (
            [{"tag": "a", "count": 2}, {"tag": "b", "count": 1}],
            [{"tag": "b", "count": 2}, {"tag": "a", "count": 1}],
            2,
        ),
        ([{"tag": "a", "count": 2}], [{"tag": "a", "count": 3}], 1),
        ([{"tag": "a", "count": 2}], [], 1),
    ],
)
def test_the_comparison_treats_ties_as_sets_and_catches_real_differences(
    expected: list[object], actual: list[object], problems: int
) -> None:
    assert len(compare_ranked("tags", expected, actual)) == problems


def test_the_comparison_catches_a_wrong_total() -> None:
    assert compare_stats({"totals": {"souls": 182}}, {"totals": {"souls": 181}}) == [
        "totals.souls: 181, expected 182"
    ]


def find_nulls(value: Any, path: str = "stats") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in find_nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in find_nulls(v, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize(
    "slugs",
    [
        ["absurdist"],  # one authored record, no edges, no difficulty facet issues
        ["ayejk-camina", "ayejk-judy"],  # federated only: no graph nodes at all
        ["software-engineer", "systems-administrator", "network-engineer", "ayejk-judy"],
    ],
)
def test_stats_have_every_field_and_no_nulls_on_tiny_corpora(
    tmp_path: Path, slugs: list[str]
) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for slug in slugs:
        (source / f"{slug}.json").write_bytes((SAMPLE / "souls" / f"{slug}.json").read_bytes())
    build(source, tmp_path / "wh")
    stats = computed_stats(tmp_path / "wh")
    expected_shape = json.loads((SAMPLE / "stats.json").read_text())
    assert set(stats) == set(expected_shape)
    assert set(stats["quality"]) == set(expected_shape["quality"])
    assert find_nulls({k: v for k, v in stats["totals"].items() if not k.endswith("Share")}) == []
    assert find_nulls({k: v for k, v in stats.items() if k != "totals"}) == []
    assert stats["totals"]["souls"] == len(slugs)
