"""Betweenness centrality (Brandes) on graphs whose answer is known by hand."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from occupipe.warehouse.graph import compute_betweenness, int32_values, measure_betweenness


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


def measure_graph_in_duckdb(nodes: list[str], edges: list[tuple[str, str, bool]]) -> pa.Table:
    """`measure_betweenness` over the graph marts it reads, made of these nodes and edges."""
    with duckdb.connect() as con:
        con.execute("create table graph_nodes (slug varchar)")
        con.execute(
            "create table graph_edges (source_slug varchar, target_slug varchar,"
            " is_graph_edge boolean)"
        )
        for node in nodes:
            con.execute("insert into graph_nodes values (?)", [node])
        for edge in edges:
            con.execute("insert into graph_edges values (?, ?, ?)", list(edge))
        return measure_betweenness(con.cursor())


def test_the_warehouse_graph_reaches_python_as_flat_arrays_with_the_same_scores() -> None:
    edges = [("a", "b", True), ("b", "c", True), ("c", "c", True), ("c", "d", False)]
    table = measure_graph_in_duckdb(["a", "b", "c", "d"], edges)
    assert table.column_names == ["slug", "betweenness"]
    assert dict(zip(*table.to_pydict().values(), strict=True)) == {
        "a": 0.0,
        "b": 1.0,
        "c": 0.0,
        "d": 0.0,
    }


def test_an_empty_warehouse_graph_has_no_scores() -> None:
    assert measure_graph_in_duckdb([], []).num_rows == 0


def test_int32_values_copy_a_sliced_arrow_array_and_refuse_other_types() -> None:
    values = pa.array(range(10), pa.int32()).slice(3, 4)
    assert list(int32_values(values)) == [3, 4, 5, 6]
    assert list(int32_values(pa.array([], pa.int32()))) == []
    with pytest.raises(TypeError):
        int32_values(pa.array([1, None], pa.int32()))
    with pytest.raises(TypeError):
        int32_values(pa.array([1], pa.int64()))
