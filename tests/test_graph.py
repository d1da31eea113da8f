"""Betweenness centrality (Brandes) on graphs whose answer is known by hand."""

from __future__ import annotations

import pytest

from pipelines.graph import compute_betweenness


@pytest.mark.parametrize(
    ("nodes", "edges", "expected"),
    [
        ("abc", [("a", "b"), ("b", "c")], {"a": 0, "b": 1, "c": 0}),
        ("abcd", [("a", "b"), ("a", "c"), ("a", "d")], {"a": 3, "b": 0, "c": 0, "d": 0}),
        # a 4-cycle: each node lies on half of the one opposite pair's two shortest paths
        ("abcd", [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")], dict.fromkeys("abcd", 0.5)),
        # both directions and self-loops do not change an undirected simple graph
        ("abc", [("a", "b"), ("b", "a"), ("b", "c"), ("c", "c")], {"a": 0, "b": 1, "c": 0}),
        ("ab", [], {"a": 0, "b": 0}),
    ],
)
def test_betweenness_matches_hand_computed_values(
    nodes: str, edges: list[tuple[str, str]], expected: dict[str, float]
) -> None:
    assert compute_betweenness(nodes, edges) == pytest.approx(expected)


def test_large_graphs_get_a_deterministic_estimate_close_to_the_exact_value() -> None:
    nodes = [f"n{i:03d}" for i in range(200)]
    edges = [(nodes[i], nodes[i + 1]) for i in range(199)]  # a path: the middle is busiest
    edges += [(nodes[i], nodes[(i * 7) % 200]) for i in range(0, 200, 5)]
    exact = compute_betweenness(nodes, edges)
    first = compute_betweenness(nodes, edges, exact_limit=50)
    assert first == compute_betweenness(nodes, edges, exact_limit=50)  # deterministic
    top_exact = sorted(exact, key=exact.__getitem__, reverse=True)[:20]
    top_estimate = sorted(first, key=first.__getitem__, reverse=True)[:20]
    assert len(set(top_exact) & set(top_estimate)) >= 12
    total_exact, total_estimate = sum(exact.values()), sum(first.values())
    assert abs(total_estimate - total_exact) / total_exact < 0.25


def test_a_budget_below_one_traversal_still_estimates_from_one_source() -> None:
    nodes = [f"n{i:03d}" for i in range(200)]
    edges = [(nodes[i], nodes[i + 1]) for i in range(199)]
    estimate = compute_betweenness(nodes, edges, exact_limit=50, visit_budget=1)
    assert set(estimate) == set(nodes)
    assert estimate["n000"] == estimate["n199"] == 0.0  # path ends lie on no shortest path
    assert max(estimate.values()) > 0
