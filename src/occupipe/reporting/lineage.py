"""The model lineage (sources -> staging -> marts -> reports): an SVG graph, a page per model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from occupipe.reporting.charts import esc, legend, svg, text
from occupipe.reporting.pages import Page, table
from occupipe.warehouse.sqlmodels import LAYERS, Model, discover_models, parse_model

COLUMNS = ("sources", *LAYERS)
LAYER_COLOURS = {
    "sources": "#b8e186",
    "staging": "#d9d9d9",
    "marts": "#92c5de",
    "reports": "#fdb863",
}
BOX_WIDTH, BOX_HEIGHT, ROW, COLUMN = 190, 20, 26, 250


@dataclass(frozen=True)
class Node:
    """A relation of the lineage: a model, or a source table (raw or written by the run)."""

    name: str  # `raw.tags` for a raw table, the model's name otherwise
    layer: str  # one of COLUMNS
    upstream: frozenset[str]

    @property
    def href(self) -> str:
        """The page that describes it: its model page, or its entry in the data dictionary."""
        if self.layer != "sources":
            return f"model-{self.name}.html"
        schema, _, table_name = self.name.rpartition(".")
        return f"dictionary.html#{dictionary_anchor(schema or 'main', table_name)}"


def dictionary_anchor(schema: str, name: str) -> str:
    return f"t-{schema}-{name}"


def lineage_nodes(models: Sequence[Model]) -> list[Node]:
    """Every model with what it reads, and every source table read, as nodes."""
    names = {m.name for m in models}
    nodes, sources = [], set()
    for model in models:
        _, relations = parse_model(model.sql, f"model file {model.layer}/{model.path.name}")
        upstream = set(relations) - {model.name}
        sources |= upstream - names
        nodes.append(Node(model.name, model.layer, frozenset(upstream)))
    return [Node(s, "sources", frozenset()) for s in sorted(sources)] + nodes


def layout(nodes: Sequence[Node]) -> dict[str, tuple[float, float]]:
    """Each node's box position: a column per layer, ordered by the mean row of its upstream."""
    rows: dict[str, float] = {}
    places: dict[str, tuple[float, float]] = {}
    for column, layer in enumerate(COLUMNS):
        members = [n for n in nodes if n.layer == layer]

        def weight(node: Node) -> tuple[float, str]:
            known = [rows[u] for u in node.upstream if u in rows]
            return (sum(known) / len(known) if known else 0.0, node.name)

        for row, node in enumerate(sorted(members, key=weight)):
            rows[node.name] = row
            places[node.name] = (10 + column * COLUMN, 40 + row * ROW)
    return places


def lineage_svg(nodes: Sequence[Node]) -> str:
    """The lineage graph: a box per relation linking to its page, an edge per dependency."""
    places = layout(nodes)
    edges, boxes = [], []
    for node in nodes:
        x2, y2 = places[node.name]
        for name in sorted(node.upstream):
            if name not in places:
                continue
            x1, y1 = places[name]
            x1, y1, y2m = x1 + BOX_WIDTH, y1 + BOX_HEIGHT / 2, y2 + BOX_HEIGHT / 2
            end, middle = x2, (x1 + x2) / 2
            if x1 > x2:  # a model reading one of its own layer: an arc on the column's right
                end, middle = x1, x1 + 40
            edges.append(
                f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{middle:.0f},{y1:.0f}'
                f' {middle:.0f},{y2m:.0f} {end:.0f},{y2m:.0f}" fill="none" stroke="#999"/>'
            )
        boxes.append(
            f'<a href="{esc(node.href)}"><rect class="node" x="{x2}" y="{y2}"'
            f' width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="3"'
            f' fill="{LAYER_COLOURS[node.layer]}" stroke="#666"/>'
            + text(x2 + 6, y2 + 14, node.name)
            + "</a>"
        )
    heads = "".join(
        text(10 + i * COLUMN, 32, f"{layer} ({sum(n.layer == layer for n in nodes)})", 12)
        for i, layer in enumerate(COLUMNS)
    )
    tallest = max((y for _, y in places.values()), default=40)
    key = legend([(layer, LAYER_COLOURS[layer]) for layer in COLUMNS], 10, 14)
    body = key + heads + "".join(edges) + "".join(boxes)
    width = 10 + len(COLUMNS) * COLUMN
    return svg(width, tallest + ROW + 10, body, "model lineage").replace(
        'class="chart"', 'class="graph"', 1
    )


def lineage_page(nodes: Sequence[Node]) -> Page:
    body = (
        "<p>Every relation of the warehouse and what it is built from: sources (the raw"
        " tables loaded from the release's Parquet, and tables the run writes), staging views,"
        " mart tables, report views. Each box links to its page.</p>"
        f"<figure>{lineage_svg(nodes)}</figure>"
    )
    return Page("lineage.html", "Model lineage", body)


def model_pages(models: Sequence[Model], nodes: Sequence[Node]) -> list[Page]:
    """A page per model: its description, what it reads and what reads it, its SQL."""
    by_name = {n.name: n for n in nodes}
    pages = []
    for model in models:
        node = by_name[model.name]
        readers = sorted(n.name for n in nodes if model.name in n.upstream)

        def links(names: Sequence[str]) -> str:
            found = [by_name[n] for n in names if n in by_name]
            return ", ".join(f'<a href="{esc(n.href)}">{esc(n.name)}</a>' for n in found) or "none"

        anchor = dictionary_anchor("main", model.name)
        facts = table(
            ["layer", "materialized as", "file"],
            [(model.layer, model.materialization, f"sql/{model.layer}/{Path(model.path).name}")],
        )
        body = (
            f"<p>{esc(model.description)}</p>{facts}"
            f"<p>Reads: {links(sorted(node.upstream))}.</p><p>Read by: {links(readers)}.</p>"
            f'<p>Its columns: <a href="dictionary.html#{esc(anchor)}">data dictionary</a>.'
            ' All models: <a href="lineage.html">lineage</a>.</p>'
            f"<h2>SQL</h2><pre><code>{esc(model.sql)}</code></pre>"
        )
        pages.append(Page(f"model-{model.name}.html", f"Model {model.name}", body))
    return pages


def lineage_site_pages(sql_dir: Path) -> list[Page]:
    """The lineage page and every model's page, from the SQL models in `sql_dir`."""
    models = discover_models(sql_dir)
    nodes = lineage_nodes(models)
    return [lineage_page(nodes), *model_pages(models, nodes)]
