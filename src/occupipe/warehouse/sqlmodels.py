"""Discover the SQL models in `sql/`, order them by dependency and build them in DuckDB."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from occupipe.core.duck import describe_column, describe_duckdb_error

LAYERS = ("staging", "marts", "reports")
MATERIALIZATION = {"staging": "view", "marts": "table", "reports": "view"}


class ModelError(Exception):
    """A model could not be discovered or built."""


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    path: Path
    sql: str
    depends_on: frozenset[str]
    tree: exp.Expr = field(compare=False, repr=False)  # the SQL as sqlglot parsed it

    @property
    def description(self) -> str:
        """The model's opening comment lines: what one row is."""
        lines = []
        for line in self.sql.splitlines():
            if not line.startswith("--"):
                break
            lines.append(line.removeprefix("--").strip())
        return " ".join(lines)

    @property
    def materialization(self) -> str:
        return MATERIALIZATION[self.layer]


def discover_models(sql_dir: Path) -> list[Model]:
    """Every `sql/<layer>/<name>.sql`, with the other models it references by name."""
    paths = [p for layer in LAYERS for p in sorted((sql_dir / layer).glob("*.sql"))]
    names = {p.stem for p in paths}
    if len(names) != len(paths):
        raise ModelError("two model files share a name; file stems must be unique")
    models = []
    for path in paths:
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        tree, found = parse_model(sql, f"model file {path.parent.name}/{path.name}")
        references = found & names - {path.stem}
        models.append(Model(path.stem, path.parent.name, path, sql, frozenset(references), tree))
    return models


@lru_cache(maxsize=512)
def parse_model(sql: str, source: str) -> tuple[exp.Expr, frozenset[str]]:
    """A model's tree and the relations it reads (`find_relations`), parsed once per process for
    the same text: the run's docs site reads the lineage again after the build (the trees are
    never changed)."""
    tree = parse_sql(sql, source)
    return tree, frozenset(find_relations(tree))


def parse_sql(sql: str, source: str) -> exp.Expr:
    """The one statement of a SQL file as sqlglot's tree (DuckDB dialect); a file sqlglot
    cannot read is one `ModelError` sentence naming `source`."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" at line {first['line']}, column {first['col']}" if first else ""
        reason = str(first.get("description", exc)).splitlines()[0]
        raise ModelError(f"{source} is not SQL sqlglot can read{where}: {reason}") from None
    except SqlglotError as exc:
        reason = str(exc).splitlines()[0]
        raise ModelError(f"{source} is not SQL sqlglot can read: {reason}") from None
    if len(statements) != 1:
        raise ModelError(f"{source} must hold one SQL statement, not {len(statements)}")
    return statements[0]


def find_references(tree: exp.Expr) -> set[str]:
    """Relations a query reads that are not its own CTEs, lowercase.

    Only unqualified names count: `raw.x` is a table the load writes, never a model, and a
    table function (`read_parquet(...)`, `range(...)`) is no relation.
    """
    return {
        table.name.lower()
        for table in tree.find_all(exp.Table)
        if is_plain_name(table) and resolve_cte(table) is None
    }


def find_relations(tree: exp.Expr) -> set[str]:
    """`find_references`, and the `raw.<table>` relations the query reads (as `raw.<table>`),
    in one walk of the tree: the lineage's sources."""
    found = set()
    for table in tree.find_all(exp.Table):
        if is_plain_name(table):
            if resolve_cte(table) is None:
                found.add(table.name.lower())
        elif table.db.lower() == "raw" and not table.catalog:
            found.add(f"raw.{table.name.lower()}")
    return found


def find_unused_ctes(tree: exp.Expr) -> list[str]:
    """Names of the CTEs the query defines but never reads."""
    read = {id(resolve_cte(table)) for table in tree.find_all(exp.Table) if is_plain_name(table)}
    return [cte.alias_or_name for cte in tree.find_all(exp.CTE) if id(cte) not in read]


def is_plain_name(table: exp.Table) -> bool:
    """A table named by one bare identifier: not schema-qualified, not a table function."""
    return isinstance(table.this, exp.Identifier) and not table.db and not table.catalog


def resolve_cte(table: exp.Table) -> exp.CTE | None:
    """The CTE a table name means where it stands, or None for a relation of the database.

    From the innermost enclosing query outwards: in a query's body every CTE of its `with`
    is visible; inside one of those CTEs only the ones defined before it (itself too when
    the `with` is recursive). So an import CTE named after its model
    (`occupations as (select * from occupations)`) reads the model, not itself.
    """
    name = table.name.lower()
    child: exp.Expr = table
    node = table.parent
    while node is not None:
        visible: list[exp.CTE] = []
        if isinstance(node, exp.With):
            index = next((i for i, cte in enumerate(node.expressions) if cte is child), 0)
            visible = node.expressions[: index + 1 if node.args.get("recursive") else index]
        elif isinstance(node, exp.Query) and not isinstance(child, exp.With):
            visible = node.ctes
        for cte in reversed(visible):
            if cte.alias_or_name.lower() == name:
                return cte
        child, node = node, node.parent
    return None


def order_models(models: list[Model]) -> list[Model]:
    """Models in an order where each comes after everything it depends on."""
    by_name = {m.name: m for m in models}
    sorter = TopologicalSorter({m.name: m.depends_on for m in models})
    try:
        return [by_name[name] for name in sorter.static_order()]
    except CycleError as exc:
        raise ModelError(
            f"models depend on each other in a cycle: {' -> '.join(exc.args[1])}"
        ) from exc


def build_model(con: duckdb.DuckDBPyConnection, model: Model) -> float:
    """Create or replace one model as a view or table; return seconds taken."""
    started = time.perf_counter()
    try:
        con.execute(f"create or replace {model.materialization} {model.name} as\n{model.sql}")
        if model.description:
            comment = model.description.replace("'", "''")
            con.execute(f"comment on {model.materialization} {model.name} is '{comment}'")
    except duckdb.Error as exc:
        reason = describe_duckdb_error(exc)
        raise ModelError(f"model {model.name} ({model.path.name}) failed: {reason}") from exc
    return round(time.perf_counter() - started, 3)


def build_models(
    con: duckdb.DuckDBPyConnection,
    models: list[Model],
    layer: str | None = None,
    only: Collection[str] | None = None,
) -> dict[str, float]:
    """Build models (optionally one layer only, or only some by name) in dependency order;
    return timings."""
    return {
        m.name: build_model(con, m)
        for m in order_models(models)
        if (layer is None or m.layer == layer) and (only is None or m.name in only)
    }


def upstream_of(models: list[Model], names: Collection[str]) -> set[str]:
    """The named models and every model they depend on, directly or not."""
    by_name = {m.name: m for m in models}
    found: set[str] = set()
    waiting = [name for name in names if name in by_name]
    while waiting:
        name = waiting.pop()
        if name not in found:
            found.add(name)
            waiting.extend(by_name[name].depends_on & by_name.keys())
    return found


Descriptions = dict[str, dict[str, str]]  # relation ("name" or "raw.name") -> column -> text


def describe_columns(
    con: duckdb.DuckDBPyConnection,
    descriptions: Descriptions,
    relations: Collection[str] | None = None,
) -> list[str]:
    """Comment the described columns of the relations that exist (or only of `relations`;
    `()` only checks); with every relation, a staging view's undescribed column then takes
    its raw table's column description.

    Returns the entries (`relation.column`) of existing relations that name no column: the
    descriptions are out of date.
    """
    present = {
        (schema, table, column)
        for schema, table, column in con.execute(
            "select schema_name, table_name, column_name from duckdb_columns()"
            " where database_name = current_database() and not internal"
        ).fetchall()
    }
    tables = {(schema, table) for schema, table, _ in present}
    stale = []
    con.execute("begin transaction")  # one commit for hundreds of comments
    try:
        for relation, columns in descriptions.items():
            schema, _, table = relation.rpartition(".")
            schema = schema or "main"
            if (schema, table) not in tables:
                continue
            for column, text in columns.items():
                if (schema, table, column) not in present:
                    stale.append(f"{relation}.{column}")
                    continue
                if relations is not None and relation not in relations:
                    continue
                describe_column(con, schema, table, column, text)
        if relations is None:
            inherit_raw_descriptions(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return stale


def inherit_raw_descriptions(con: duckdb.DuckDBPyConnection) -> None:
    """A `stg_<name>` view's column without a description takes that of `raw.<name>`'s
    column of the same name (staging renames little)."""
    rows = con.execute(
        """
        select view.table_name, view.column_name, raw.comment
        from duckdb_columns() as view
        join duckdb_columns() as raw
            on raw.database_name = view.database_name
            and raw.schema_name = 'raw'
            and 'stg_' || raw.table_name = view.table_name
            and raw.column_name = view.column_name
        where view.database_name = current_database()
            and view.schema_name = 'main'
            and view.comment is null
            and raw.comment is not null
        """
    ).fetchall()
    for table, column, text in rows:
        describe_column(con, "main", table, column, text)
