"""Graph measures SQL cannot express well: betweenness centrality (Brandes, undirected)."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable

EXACT_LIMIT = 1_000  # nodes; above this, betweenness is estimated from sampled sources
VISIT_BUDGET = 3_000_000  # edge visits an estimate may spend (about two seconds)


def compute_betweenness(
    nodes: Iterable[str],
    edges: Iterable[tuple[str, str]],
    exact_limit: int = EXACT_LIMIT,
    visit_budget: int = VISIT_BUDGET,
) -> dict[str, float]:
    """Betweenness of each node of an undirected simple graph (unnormalized, pairs once).

    Exact (Brandes) up to `exact_limit` nodes. Larger graphs get the Brandes-Pich estimate:
    the same sums over a deterministic sample of source nodes, scaled up; the sample is as
    large as `visit_budget` allows (at least one source), so the time stays bounded however
    large the graph: 100k nodes get a handful of sources, a rough estimate.
    """
    neighbours: dict[str, set[str]] = {node: set() for node in nodes}
    for source, target in edges:
        if source != target:
            neighbours.setdefault(source, set()).add(target)
            neighbours.setdefault(target, set()).add(source)
    adjacency = {node: sorted(linked) for node, linked in sorted(neighbours.items())}
    scores = dict.fromkeys(adjacency, 0.0)
    sources = list(adjacency)
    if len(sources) > exact_limit:
        visits = len(sources) + sum(len(linked) for linked in adjacency.values())
        count = max(1, min(len(sources), visit_budget // max(1, visits)))
        sources = random.Random(0).sample(sources, count)
    scale = len(adjacency) / len(sources) if sources else 1.0
    for start in sources:
        order, predecessors, paths = _shortest_paths_from(start, adjacency)
        dependency = dict.fromkeys(order, 0.0)
        for node in reversed(order):
            for previous in predecessors[node]:
                dependency[previous] += paths[previous] / paths[node] * (1 + dependency[node])
            if node != start:
                scores[node] += dependency[node]
    return {node: score * scale / 2 for node, score in scores.items()}


def _shortest_paths_from(
    start: str, neighbours: dict[str, list[str]]
) -> tuple[list[str], dict[str, list[str]], dict[str, int]]:
    """BFS order, shortest-path predecessors and path counts from one node."""
    order: list[str] = []
    predecessors: dict[str, list[str]] = {start: []}
    paths = {start: 1}
    distance = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        order.append(node)
        for neighbour in neighbours[node]:
            if neighbour not in distance:
                distance[neighbour] = distance[node] + 1
                paths[neighbour] = 0
                predecessors[neighbour] = []
                queue.append(neighbour)
            if distance[neighbour] == distance[node] + 1:
                paths[neighbour] += paths[node]
                predecessors[neighbour].append(node)
    return order, predecessors, paths
