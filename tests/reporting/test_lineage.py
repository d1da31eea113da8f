"""The lineage graph: every model and every source it reads, each box linking to its page."""

from __future__ import annotations

import re

from occupipe.core.settings import find_sql_dir
from occupipe.reporting.lineage import layout, lineage_nodes, lineage_svg, model_pages
from occupipe.warehouse.sqlmodels import discover_models


def test_the_lineage_runs_from_raw_tables_through_staging_and_marts_to_reports() -> None:
    models = discover_models(find_sql_dir())
    nodes = {n.name: n for n in lineage_nodes(models)}
    assert {m.name for m in models} <= set(nodes)
    assert nodes["stg_tags"].upstream == {"raw.tags"}
    assert nodes["raw.tags"].layer == "sources"
    assert "stg_occupations" in nodes["occupations"].upstream
    assert "occupations" in nodes["stats_totals"].upstream
    assert "stats_totals" in nodes["stats"].upstream  # a report reading reports
    assert {n.layer for n in nodes.values()} == {"sources", "staging", "marts", "reports"}


def test_each_box_links_to_its_page_and_each_edge_joins_two_boxes() -> None:
    models = discover_models(find_sql_dir())
    nodes = lineage_nodes(models)
    svg = lineage_svg(nodes)
    links = re.findall(r'<a href="([^"]+)">', svg)
    assert len(links) == len(nodes) == svg.count('class="node"')
    assert "model-stats.html" in links and "dictionary.html#t-raw-tags" in links
    edges = sum(len([u for u in n.upstream if u in layout(nodes)]) for n in nodes)
    assert svg.count('class="edge"') == edges
    assert 'viewBox="0 0 ' in svg


def test_a_model_page_shows_its_sql_escaped_and_links_both_ways() -> None:
    models = discover_models(find_sql_dir())
    pages = {p.name: p for p in model_pages(models, lineage_nodes(models))}
    page = pages["model-occupations.html"]
    assert 'href="model-stg_occupations.html"' in page.body  # what it reads
    assert 'href="model-stats_totals.html"' in page.body  # what reads it
    assert "&gt;" in page.body or "&lt;" in page.body or "&#x27;" in page.body  # SQL escaped


def test_each_box_is_drawn_in_its_layers_column_inside_the_picture() -> None:
    # a model reading one of its own layer (graph_nodes, stats) once moved its box to the arc's end
    nodes = lineage_nodes(discover_models(find_sql_dir()))
    svg = lineage_svg(nodes)
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
    boxes = re.findall(r'<rect class="node" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    columns = {layer: {float(x) for (x, _), n in zip(boxes, nodes, strict=True) if n.layer == layer}
               for layer in {n.layer for n in nodes}}  # fmt: skip
    assert all(len(xs) == 1 for xs in columns.values()), columns
    assert len({x for xs in columns.values() for x in xs}) == 4
    assert max(float(x) + float(w) for x, w in boxes) <= width
