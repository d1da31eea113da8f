"""What changed between two releases: rows added, removed and changed per table (by key), and
per occupation which of its fields and lists changed; read from both releases' Parquet."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from occupipe.core.duck import memory_limit, quote_identifier, sql_literal
from occupipe.core.layout import PARQUET_DIR
from occupipe.ingest.tables import OCCUPATIONS, TABLES_BY_NAME
from occupipe.release.catalog import list_releases
from occupipe.release.store import ReleaseError, current_release, release_path

OCCUPATION_KEY = "slug"


@dataclass(frozen=True)
class TableDiff:
    table: str
    added: int
    removed: int
    changed: int


@dataclass(frozen=True)
class OccupationDiff:
    slug: str
    change: str  # added, removed or changed
    fields: list[str]  # occupation columns and child tables (tags, sections, ...) that differ


def choose_releases(warehouse: Path, old: str | None, new: str | None) -> tuple[str, str]:
    """The two releases to compare: by default the current one against the published release
    before it; either may be named."""
    published = [r.release_id for r in list_releases(warehouse) if r.status != "failed"]
    new = new or current_release(warehouse)
    if new is None:
        raise ReleaseError(f"no current release in {warehouse}; run `occupipe run` first")
    for release in (old, new):
        if release is not None and not (release_path(warehouse, release) / PARQUET_DIR).is_dir():
            raise ReleaseError(f"there is no release {release} with tables in {warehouse}")
    if old is None:
        earlier = published[: published.index(new)] if new in published else []
        if not earlier:
            raise ReleaseError(f"release {new} has no published release before it to compare")
        old = earlier[-1]
    return old, new


def diff_releases(
    warehouse: Path, old: str, new: str
) -> tuple[list[TableDiff], list[OccupationDiff]]:
    """Per table, rows added, removed and changed by key; per occupation, what changed.

    DuckDB reads both releases' Parquet within its memory budget (it spills beyond it): the
    comparison's memory does not grow with the corpus, only the list of occupations changed.
    """
    config: dict[str, str | bool] = {
        "memory_limit": memory_limit(streaming=True),
        "preserve_insertion_order": False,
    }
    with (
        tempfile.TemporaryDirectory(prefix="occupipe-diff-") as spill,
        duckdb.connect(config={**config, "temp_directory": spill}) as con,
    ):
        paths = {name: table_files(warehouse, old, new, name) for name in TABLES_BY_NAME}
        tables = [count_table(con, name, *files) for name, files in paths.items()]
        occupations = list(changed_occupations(con, paths))
    return tables, occupations


def table_files(warehouse: Path, old: str, new: str, name: str) -> tuple[str, str]:
    """The two Parquet files of one table, as SQL literals."""

    def file_of(release: str) -> str:
        return sql_literal(str(release_path(warehouse, release) / PARQUET_DIR / f"{name}.parquet"))

    return file_of(old), file_of(new)


def shared_columns(con: duckdb.DuckDBPyConnection, old: str, new: str) -> list[str]:
    """The columns both files have (a column added or dropped between releases is left out)."""
    names = [
        [row[0] for row in con.execute(f"describe select * from read_parquet({path})").fetchall()]
        for path in (old, new)
    ]
    return [column for column in names[0] if column in names[1]]


def hashed_rows(path: str, key: tuple[str, ...], columns: list[str]) -> str:
    """A table's rows as their key and one 64-bit hash of the rest: the comparison then holds
    a few numbers per row, not the rows (a section's markdown included)."""
    keys = ", ".join(quote_identifier(column) for column in key)
    rest = ", ".join(quote_identifier(c) for c in columns if c not in key) or "null"
    return f"select {keys}, hash({rest}) as h from read_parquet({path})"


def count_table(con: duckdb.DuckDBPyConnection, name: str, old: str, new: str) -> TableDiff:
    """One table's rows added, removed and changed, matched by its key."""
    key = TABLES_BY_NAME[name].key
    columns = shared_columns(con, old, new)
    using = ", ".join(quote_identifier(column) for column in key)
    added, removed, changed = con.execute(
        f"""
        with a as ({hashed_rows(old, key, columns)}), b as ({hashed_rows(new, key, columns)})
        select
            (select count(*) from b anti join a using ({using})),
            (select count(*) from a anti join b using ({using})),
            (select count(*) from a join b using ({using}) where a.h <> b.h)
        """
    ).fetchone() or (0, 0, 0)
    return TableDiff(name, added, removed, changed)


def changed_slugs(con: duckdb.DuckDBPyConnection, name: str, old: str, new: str) -> str:
    """SQL for the occupations whose rows of child table `name` differ: (slug, field)."""
    key = TABLES_BY_NAME[name].key
    columns = shared_columns(con, old, new)
    a, b = hashed_rows(old, key, columns), hashed_rows(new, key, columns)
    return (
        f"select distinct slug, {sql_literal(name)} as field from"
        f" (({a} except all {b}) union all ({b} except all {a}))"
    )


def changed_occupations(
    con: duckdb.DuckDBPyConnection, paths: dict[str, tuple[str, str]]
) -> Iterator[OccupationDiff]:
    """Each occupation added, removed, or changed in a column or in any of its lists."""
    old, new = paths[OCCUPATIONS.name]
    columns = [c for c in shared_columns(con, old, new) if c != OCCUPATION_KEY]
    differs = ", ".join(
        f"case when a.{quote_identifier(c)} is distinct from b.{quote_identifier(c)}"
        f" then {sql_literal(c)} end"
        for c in columns
    )
    # one child table at a time: a query over all of them at once outgrew the memory budget
    con.execute("create temp table changed_lists (slug varchar, field varchar)")
    for name, (a, b) in paths.items():
        if name != OCCUPATIONS.name:
            con.execute(f"insert into changed_lists {changed_slugs(con, name, a, b)}")
    cursor = con.execute(
        f"""
        with a as (select * from read_parquet({old})), b as (select * from read_parquet({new})),
        own as (
            select slug, list_filter([{differs}], lambda f: f is not null) as fields
            from a join b using (slug)
        ),
        lists as (
            select slug, list(field order by field) as fields from changed_lists group by slug
        ),
        final as (
            select slug, 'added' as change, [] as fields from b anti join a using (slug)
            union all
            select slug, 'removed', [] from a anti join b using (slug)
            union all
            select slug, 'changed', list_concat(own.fields, coalesce(lists.fields, []))
            from own left join lists using (slug)
            where len(own.fields) > 0 or lists.fields is not null
        )
        select * from final order by slug
        """
    )
    while rows := cursor.fetchmany(1000):
        for slug, change, fields in rows:
            yield OccupationDiff(slug, change, list(fields))
