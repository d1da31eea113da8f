"""Graph measures SQL cannot express well: betweenness centrality (Brandes, undirected)."""

from __future__ import annotations

import array
import random
from collections.abc import Iterable, Sequence

import duckdb
import pyarrow as pa

from occupipe.core.duck import describe_table

EXACT_LIMIT = 1_000  # nodes; above this, betweenness is estimated from sampled sources
VISIT_BUDGET = 3_000_000  # edge visits an estimate may spend (about a second)


def compute_betweenness(
    nodes: Iterable[str],
    edges: Iterable[tuple[str, str]],
    exact_limit: int = EXACT_LIMIT,
    visit_budget: int = VISIT_BUDGET,
) -> dict[str, float]:
    """Betweenness of each node of an undirected simple graph (unnormalized, pairs once).

    See `betweenness_of_csr`; this numbers the nodes by name and builds their neighbour lists.
    """
    neighbours: dict[str, set[str]] = {node: set() for node in nodes}
    for source, target in edges:
        if source != target:
            neighbours.setdefault(source, set()).add(target)
            neighbours.setdefault(target, set()).add(source)
    names = sorted(neighbours)
    number = {name: i for i, name in enumerate(names)}
    offsets, targets = [0], []
    for name in names:
        targets.extend(sorted(number[linked] for linked in neighbours[name]))
        offsets.append(len(targets))
    scores = betweenness_of_csr(offsets, targets, exact_limit, visit_budget)
    return dict(zip(names, scores, strict=True))


def betweenness_of_csr(
    offsets: Sequence[int],
    targets: Sequence[int],
    exact_limit: int = EXACT_LIMIT,
    visit_budget: int = VISIT_BUDGET,
) -> list[float]:
    """Betweenness of each node, by node number, of a graph given as compressed rows: node i's
    neighbours are `targets[offsets[i]:offsets[i + 1]]` (no self-loops, each edge listed from
    both ends). Two flat integer arrays hold a large graph in a small fraction of the memory a
    list of neighbour lists took.

    Exact (Brandes) up to `exact_limit` nodes. Larger graphs get the Brandes-Pich estimate:
    the same sums over a deterministic sample of source nodes, scaled up; the sample is as
    large as `visit_budget` allows (at least one source), so the time stays bounded however
    large the graph: the largest graphs get only a handful of sources, a rough estimate.
    """
    nodes = max(len(offsets) - 1, 0)
    sources = list(range(nodes))
    if nodes > exact_limit:
        visits = nodes + len(targets)
        count = max(1, min(nodes, visit_budget // max(1, visits)))
        sources = random.Random(0).sample(sources, count)
    scale = nodes / len(sources) if sources else 1.0
    scores = [0.0] * nodes
    for start in sources:
        _add_dependencies(start, offsets, targets, scores)
    return [score * scale / 2 for score in scores]


def _add_dependencies(
    start: int, offsets: Sequence[int], targets: Sequence[int], scores: list[float]
) -> None:
    """One Brandes pass: BFS from `start`, then each node's dependency added to its score.

    Nodes are numbers and state lives in lists; a node's predecessors are found again as the
    neighbours one step closer to the start, instead of being stored (much faster than dicts).
    """
    distance = [-1] * len(scores)
    paths = [0] * len(scores)
    distance[start], paths[start] = 0, 1
    order = [start]
    for node in order:  # the list grows while it is walked: a BFS queue
        step, count = distance[node] + 1, paths[node]
        for neighbour in targets[offsets[node] : offsets[node + 1]]:
            if distance[neighbour] < 0:
                distance[neighbour] = step
                order.append(neighbour)
            if distance[neighbour] == step:
                paths[neighbour] += count
    dependency = [0.0] * len(scores)
    for node in reversed(order):
        closer = distance[node] - 1
        for previous in targets[offsets[node] : offsets[node + 1]]:
            if distance[previous] == closer:
                dependency[previous] += paths[previous] / paths[node] * (1 + dependency[node])
        if node != start:
            scores[node] += dependency[node]


BETWEENNESS_INPUTS = ("graph_nodes", "graph_edges")  # the marts ADJACENCY_SQL reads
ADJACENCY_SQL = """
with

nodes as (
    select slug, (row_number() over (order by slug) - 1)::integer as number
    from graph_nodes
),

ends as (
    select source_slug as slug, target_slug as linked_slug from graph_edges
    where is_graph_edge and source_slug <> target_slug
    union
    select target_slug, source_slug from graph_edges
    where is_graph_edge and source_slug <> target_slug
)

select
    nodes.slug,
    coalesce(list(linked.number order by linked.number) filter (linked.number is not null), [])
from nodes
left join ends on ends.slug = nodes.slug
left join nodes as linked on linked.slug = ends.linked_slug
group by nodes.slug, nodes.number
order by nodes.number
"""


def measure_betweenness(cursor: duckdb.DuckDBPyConnection) -> pa.Table:
    """Betweenness of every authored graph node, as a table of slug and score (the cursor is
    closed when done).

    DuckDB numbers the nodes and gathers each one's neighbours; they come to Python as two
    flat integer arrays (faster, and a small fraction of the memory a Python list of neighbour
    lists took), and Python only walks the graph.
    """
    with cursor:
        table = cursor.sql(ADJACENCY_SQL).to_arrow_table()
    neighbours = table.column(1).combine_chunks()
    scores = betweenness_of_csr(int32_values(neighbours.offsets), int32_values(neighbours.values))
    rounded = pa.array([round(score, 6) for score in scores], pa.float64())
    return pa.table({"slug": table.column(0), "betweenness": rounded})


def int32_values(values: pa.Array) -> array.array[int]:
    """An Arrow int32 array (no nulls) as a Python `array`: its bytes copied, no object made
    per value."""
    if values.type != pa.int32() or values.null_count:
        raise TypeError(f"expected int32 values without nulls, found {values.type}")
    out = array.array("i")
    if len(values):
        out.frombytes(values.buffers()[1].slice(values.offset * 4, len(values) * 4))
    return out


def store_betweenness(con: duckdb.DuckDBPyConnection, scores: pa.Table) -> None:
    """Store betweenness scores as the `graph_betweenness` table, ordered by slug."""
    con.execute("drop table if exists graph_betweenness")
    con.from_arrow(scores).order("slug").create("graph_betweenness")
    describe_table(con, "graph_betweenness", "Betweenness centrality of each authored graph node.")
