"""The docs site's page shell and HTML pieces: layout, navigation, tables, figures."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from occupipe.reporting.charts import esc

# the pages every page links to, in the navigation's order: (file, title)
NAVIGATION = (
    ("index.html", "Overview"),
    ("coverage.html", "Coverage"),
    ("review.html", "Review status"),
    ("wordcount.html", "Word count"),
    ("graph.html", "Graph"),
    ("health.html", "Pipeline health"),
    ("dictionary.html", "Data dictionary"),
    ("lineage.html", "Lineage"),
    ("tests.html", "Data tests"),
    ("quarantine.html", "Quarantine"),
    ("runs.html", "Runs"),
)

ROW_LIMIT = 200  # rows of a table on a page

STYLE = (
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,sans-serif;margin:0;color:#222;line-height:1.4}"
    "header{background:#01665e;color:#fff;padding:.6em 1em}"
    "header a{color:#fff}nav{display:flex;flex-wrap:wrap;gap:.3em 1em;font-size:.9em}"
    "main{padding:1em;max-width:1100px}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;font-size:.85em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f0f0f0}svg.chart,svg.graph{max-width:100%;height:auto}"
    "figure{margin:1em 0}figcaption{font-size:.9em;color:#555}"
    ".figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.6em}"
    ".figures div{border:1px solid #ccc;border-radius:4px;padding:.5em}"
    ".figures dt{font-size:.8em;color:#555}.figures dd{margin:0;font-size:1.3em}"
    ".pass{color:#1a7a3a}.warn{color:#b35900}.fail{color:#b30000;font-weight:bold}"
    "pre{overflow-x:auto;background:#f6f6f6;padding:.6em;font-size:.85em}"
    "@media (max-width:600px){main{padding:.5em}h1{font-size:1.2em}}"
)


@dataclass(frozen=True)
class Page:
    """One page of the site: its file name, title and body HTML."""

    name: str
    title: str
    body: str


def render_page(page: Page, release: str) -> str:
    """A whole static page: viewport, inline style, navigation; no scripts, no URLs."""
    links = "".join(f'<a href="{esc(file)}">{esc(title)}</a>' for file, title in NAVIGATION)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(page.title)}: release {esc(release)}</title><style>{STYLE}</style>"
        f"</head><body><header><div>occupipe data docs, release {esc(release)}</div>"
        f"<nav>{links}</nav></header><main><h1>{esc(page.title)}</h1>{page.body}</main>"
        "</body></html>\n"
    )


def cell(value: Any) -> str:
    """One table cell: numbers right-aligned, everything escaped."""
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int | decimal.Decimal):
        return f'<td class="n">{esc(value)}</td>'
    if isinstance(value, float):
        return f'<td class="n">{esc(round(value, 4))}</td>'
    if isinstance(value, dt.datetime):
        return f"<td>{esc(value.isoformat(sep=' ', timespec='seconds'))}</td>"
    return f"<td>{esc(value)}</td>"


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "") -> str:
    """An HTML table inside a horizontally scrolling wrapper (narrow screens)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{max(1, len(columns))}">no rows</td></tr>'
    title = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table>{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def query_table(con: duckdb.DuckDBPyConnection, sql: str, limit: int = ROW_LIMIT) -> str:
    """The rows of a query as a table (at most `limit`, saying so when there were more)."""
    cursor = con.execute(sql)
    columns = [d[0] for d in cursor.description or []]
    return rows_table(columns, cursor.fetchmany(limit + 1), limit)


def rows_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], limit: int) -> str:
    note = f"<p>The first {limit} rows are shown.</p>" if len(rows) > limit else ""
    return table(columns, rows[:limit]) + note


@dataclass
class Reports:
    """A page's view of the warehouse: queries, and the report views, each read once (a chart
    and the table under it share the rows)."""

    con: duckdb.DuckDBPyConnection
    comments: Mapping[str, str]  # every view's description, by name
    read: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = field(default_factory=dict)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def view(self, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """A view's columns and its first `ROW_LIMIT` + 1 rows."""
        if name not in self.read:
            cursor = self.con.execute(f"select * from {name}")
            columns = [d[0] for d in cursor.description or []]
            self.read[name] = columns, cursor.fetchmany(ROW_LIMIT + 1)
        return self.read[name]

    def column(self, name: str, column: str) -> list[Any]:
        """One column of a view's rows."""
        columns, rows = self.view(name)
        index = columns.index(column)
        return [row[index] for row in rows]

    def pick(self, name: str, *wanted: str) -> list[tuple[Any, ...]]:
        """A view's rows, with only the `wanted` columns, in that order."""
        columns, rows = self.view(name)
        indexes = [columns.index(c) for c in wanted]
        return [tuple(row[i] for i in indexes) for row in rows]

    def section(self, name: str) -> str:
        """A report view's rows under its name and description, linking to its model page."""
        comment = self.comments.get(name, "")
        about = f"<p>{esc(comment)}</p>" if comment else ""
        link = f'<a href="model-{esc(name)}.html">{esc(name)}</a>'
        return f'<h2 id="{esc(name)}">{link}</h2>{about}' + rows_table(*self.view(name), ROW_LIMIT)

    def sections(self, prefix: str) -> str:
        """Every report view named `prefix*`, in name order."""
        return "".join(self.section(v) for v in sorted(self.comments) if v.startswith(prefix))


def view_comments(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every view of the warehouse and its description."""
    found = con.execute("select view_name, comment from duckdb_views() where not internal")
    return {str(name): str(comment or "") for name, comment in found.fetchall()}


def figure(chart: str, caption: str) -> str:
    return f"<figure>{chart}<figcaption>{esc(caption)}</figcaption></figure>"


def figures(items: Sequence[tuple[str, str, str]]) -> str:
    """Headline figures: (label, shown value, the stats field it is, or '')."""
    cards = "".join(
        f"<div><dt>{esc(label)}</dt><dd"
        + (f' data-stat="{esc(stat)}"' if stat else "")
        + f">{esc(value)}</dd></div>"
        for label, value, stat in items
    )
    return f'<dl class="figures">{cards}</dl>'
