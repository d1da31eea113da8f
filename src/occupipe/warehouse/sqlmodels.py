"""Discover the SQL models in `sql/`, order them by dependency and build them in DuckDB."""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import duckdb

from occupipe.core.duck import describe_column, describe_duckdb_error

LAYERS = ("staging", "marts", "reports")


MATERIALIZATION = {"staging": "view", "marts": "table", "reports": "view"}


COLUMNS_FILE = "columns.toml"  # in the SQL folder: column descriptions


_CTE = re.compile(r"(?:\bwith|,)\s*([a-z_][a-z0-9_]*)\s+as\s*\(", re.IGNORECASE)


_REFERENCE = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)\b(?!\s*\.)", re.IGNORECASE)


class ModelError(Exception):
    """A model could not be discovered or built."""


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    path: Path
    sql: str
    depends_on: frozenset[str]

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
        references = find_references(sql) & names - {path.stem}
        models.append(Model(path.stem, path.parent.name, path, sql, frozenset(references)))
    return models


def find_references(sql: str) -> set[str]:
    """Relations a query reads (after `from`/`join`) that are not its own CTEs; comments are
    not read.

    Inside the body of CTE `x`, `from x` means the model `x` (import CTEs keep model names).
    """
    sql = _strip_comments(sql)
    spans = [
        (m.group(1).lower(), m.end() - 1, _closing_paren(sql, m.end() - 1))
        for m in _CTE.finditer(sql)
    ]
    found = set()
    for match in _REFERENCE.finditer(sql):
        name, position = match.group(1).lower(), match.start()
        visible = {
            cte for cte, begin, end in spans if begin < position and not begin < position < end
        }
        if name not in visible:
            found.add(name)
    return found


def _closing_paren(sql: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[index], 0)
        if depth == 0:
            return index
    return len(sql)


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


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


def read_column_descriptions(sql_dir: Path) -> Descriptions:
    """The column descriptions of `sql/columns.toml` (none when the file is absent)."""
    path = sql_dir / COLUMNS_FILE
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path} is not valid TOML: {exc}") from None
    if not all(
        isinstance(columns, dict) and all(isinstance(text, str) for text in columns.values())
        for columns in data.values()
    ):
        raise ModelError(f'{path}: every entry must be a [relation] table of column = "text"')
    return data


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
