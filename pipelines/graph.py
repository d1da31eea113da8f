"""Graph measures SQL cannot express well: betweenness centrality (Brandes, undirected)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


def compute_betweenness(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Betweenness of each node of an undirected simple graph (unnormalized, pairs once)."""
    neighbours: dict[str, set[str]] = {node: set() for node in nodes}
    for source, target in edges:
        if source != target:
            neighbours.setdefault(source, set()).add(target)
            neighbours.setdefault(target, set()).add(source)
    adjacency = {node: sorted(linked) for node, linked in sorted(neighbours.items())}
    scores = dict.fromkeys(adjacency, 0.0)
    for start in adjacency:
        order, predecessors, paths = _shortest_paths_from(start, adjacency)
        dependency = dict.fromkeys(order, 0.0)
        for node in reversed(order):
            for previous in predecessors[node]:
                dependency[previous] += paths[previous] / paths[node] * (1 + dependency[node])
            if node != start:
                scores[node] += dependency[node]
    return {node: score / 2 for node, score in scores.items()}


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
