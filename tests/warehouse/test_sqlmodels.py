"""SQL models: dependencies by table name, dependency order, clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from occupipe.core.runs import RunSummary
from occupipe.core.settings import find_sql_dir
from occupipe.warehouse.schemafiles import read_column_descriptions
from occupipe.warehouse.sqlmodels import (
    ModelError,
    build_models,
    describe_columns,
    discover_models,
    find_references,
    find_unused_ctes,
    order_models,
    parse_sql,
    upstream_of,
)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select * from a join b on a.x = b.x", {"a", "b"}),
        ("select * from a, b where a.x = b.x", {"a", "b"}),
        ("with x as (select * from stg_y) select * from x", {"stg_y"}),
        # a self-named import CTE reads the model; later CTEs and the body read the CTE
        ("with a as (select * from a), final as (select * from a) select * from final", {"a"}),
        ("with a as (select * from a) select * from a as one join a as two using (k)", {"a"}),
        # a CTE is not visible in the CTEs defined before it, nor outside its query
        ("with b as (select * from a), a as (select 1) select * from a, b", {"a"}),
        ("select * from (with a as (select 1) select * from a) as s join a using (k)", {"a"}),
        ("select * from raw.occupations", set()),
        ("select * from read_parquet('f.parquet')", set()),
        ("select * from range(3) as t(i)", set()),
        ("select coalesce(x, 1) as y from a where y is distinct from coalesce(z, 0)", {"a"}),
        ("-- rows from notes\nselect * from a", {"a"}),
        ("/* joined with notes\n   from the archive */ select * from a -- join b", {"a"}),
        ("select * from a where k in (select k from b) or exists (from c)", {"a", "b", "c"}),
        ("select * from (select * from a) as sub", {"a"}),
        ("select 1 as x from a union all select 2 from B", {"a", "b"}),
    ],
)
def test_references_are_the_relations_read_not_local_ctes(sql: str, expected: set[str]) -> None:
    assert find_references(parse_sql(sql, "query.sql")) == expected


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("select * from (", "query.sql is not SQL sqlglot can read at line 1, column 15: "),
        ("select 'open", "query.sql is not SQL sqlglot can read: Error tokenizing"),
        ("select 1; select 2", "query.sql must hold one SQL statement, not 2"),
    ],
)
def test_sql_that_cannot_be_parsed_is_one_error_naming_the_file(sql: str, problem: str) -> None:
    with pytest.raises(ModelError) as raised:
        parse_sql(sql, "query.sql")
    assert str(raised.value).startswith(problem)
    assert "\n" not in str(raised.value)


def write_models(root: Path, models: dict[str, str]) -> None:
    for path, sql in models.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(sql)


def test_models_build_in_dependency_order_with_layer_materializations(tmp_path: Path) -> None:
    write_models(
        tmp_path,
        {
            "reports/r.sql": "select count(*) as n from m",
            "marts/m.sql": "select x * 2 as x from stg_s",
            "staging/stg_s.sql": "select 21 as x",
        },
    )
    models = discover_models(tmp_path)
    assert [m.name for m in order_models(models)] == ["stg_s", "m", "r"]
    con = duckdb.connect()
    build_models(con, models)
    kinds = dict(
        con.execute("select table_name, table_type from information_schema.tables").fetchall()
    )
    assert kinds == {"stg_s": "VIEW", "m": "BASE TABLE", "r": "VIEW"}
    assert con.execute("select x from m").fetchall() == [(42,)]


def test_only_the_named_models_and_what_they_read_are_built_when_asked(tmp_path: Path) -> None:
    write_models(
        tmp_path,
        {
            "staging/stg_s.sql": "select 21 as x",
            "marts/base.sql": "select x from stg_s",
            "marts/graph.sql": "select x * 2 as x from base",
            "marts/other.sql": "select x + 1 as x from stg_s",
        },
    )
    models = discover_models(tmp_path)
    wanted = upstream_of(models, ["graph"])
    assert wanted == {"graph", "base", "stg_s"}
    con = duckdb.connect()
    built = build_models(con, models, "staging") | build_models(con, models, "marts", wanted)
    assert set(built) == {"stg_s", "base", "graph"}
    assert con.execute("select x from graph").fetchall() == [(42,)]
    assert not con.execute("select * from duckdb_tables() where table_name = 'other'").fetchall()


def test_a_cycle_is_reported_by_name(tmp_path: Path) -> None:
    write_models(tmp_path, {"marts/a.sql": "select * from b", "marts/b.sql": "select * from a"})
    with pytest.raises(ModelError, match="cycle"):
        order_models(discover_models(tmp_path))


def test_a_broken_model_names_its_file(tmp_path: Path) -> None:
    write_models(tmp_path, {"marts/bad.sql": "select * from nowhere"})
    with pytest.raises(ModelError, match=r"model bad \(bad.sql\) failed: Catalog Error"):
        build_models(duckdb.connect(), discover_models(tmp_path))


def test_a_model_that_cannot_be_parsed_names_its_file(tmp_path: Path) -> None:
    write_models(tmp_path, {"marts/ok.sql": "select 1 as x", "marts/bad.sql": "select * from ("})
    with pytest.raises(ModelError, match=r"^model file marts/bad.sql is not SQL sqlglot can read"):
        discover_models(tmp_path)


def test_every_shipped_model_follows_the_layout() -> None:
    models = discover_models(find_sql_dir())
    names = {m.name for m in models}
    assert all(m.name.startswith("stg_") for m in models if m.layer == "staging")
    assert {"occupations", "graph_edges", "stats"} <= names
    for model in models:
        code = re.sub(r"--[^\n]*|'[^']*'|\"[^\"]*\"", "", model.sql)
        assert code == code.lower(), f"{model.name}: SQL should be lowercase"
        last_cte = "renamed" if model.layer == "staging" else "final"
        assert f"select * from {last_cte}" in code, f"{model.name}: should end with {last_cte}"


@pytest.mark.parametrize(
    ("sql", "unused"),
    [
        ("with a as (select 1), b as (select 2) select * from a", ["b"]),
        ("with a as (select * from a) select 1", ["a"]),  # the body reads the model, not the CTE
        ("with a as (select 1), b as (select * from a) select * from b", []),
    ],
)
def test_unused_ctes_are_found(sql: str, unused: list[str]) -> None:
    assert find_unused_ctes(parse_sql(sql, "query.sql")) == unused


def test_no_shipped_model_defines_a_cte_it_never_reads() -> None:
    unused = {m.name: find_unused_ctes(m.tree) for m in discover_models(find_sql_dir())}
    assert {name: ctes for name, ctes in unused.items() if ctes} == {}


def federated(path: Path) -> bool:
    return bool((json.loads(path.read_text())["metadata"].get("source") or {}).get("origin"))


@pytest.mark.parametrize("corpus", ["one record", "only federated records"])
def test_figures_with_nothing_to_divide_by_are_never_nan(tmp_path: Path, corpus: str) -> None:
    from tests.helpers import SOULS, build, copy_records, query

    souls = sorted(SOULS.glob("*.json"))
    chosen = souls[:1] if corpus == "one record" else [p for p in souls if federated(p)]
    build(copy_records(tmp_path / "in", chosen), tmp_path / "wh", max_reject_rate=1.0)
    ((stats,),) = query(tmp_path / "wh", "select stats::varchar from stats")
    parsed = json.loads(stats, parse_constant=lambda name: pytest.fail(f"{name} in stats"))
    shares = query(tmp_path / "wh", "select verified_share from review_verified")
    if corpus == "one record":
        assert parsed["totals"]["graphDensity"] == 0
    else:
        assert (parsed["totals"]["stableShare"], parsed["totals"]["verifiedShare"]) == (None, None)
        assert shares == [(None,)]


def column_comments(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    rows = con.execute(
        "select schema_name || '.' || table_name || '.' || column_name, comment"
        " from duckdb_columns() where not internal"
    ).fetchall()
    return dict(rows)


def test_described_columns_get_comments_and_staging_inherits_from_raw() -> None:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.things (id integer, name varchar)")
    con.execute("comment on column raw.things.name is 'What the thing is called.'")
    con.execute('create view stg_things as select id, name, 1 as "odd ""name""" from raw.things')
    con.execute("create table summary as select 1 as n")
    descriptions = {
        "summary": {"n": "How many."},
        "raw.things": {"id": "Key of a thing."},
        "stg_things": {'odd "name"': "A name that must be quoted."},
    }
    assert describe_columns(con, descriptions) == []
    assert column_comments(con) == {
        "raw.things.id": "Key of a thing.",
        "raw.things.name": "What the thing is called.",
        "main.stg_things.id": "Key of a thing.",
        "main.stg_things.name": "What the thing is called.",
        'main.stg_things.odd "name"': "A name that must be quoted.",
        "main.summary.n": "How many.",
    }


def test_descriptions_of_missing_columns_are_returned_and_missing_relations_skipped() -> None:
    con = duckdb.connect()
    con.execute("create table summary as select 1 as n")
    descriptions = {"summary": {"n": "How many.", "gone": "Dropped."}, "later": {"x": "Not yet."}}
    assert describe_columns(con, descriptions) == ["summary.gone"]
    assert describe_columns(con, descriptions, {"later"}) == ["summary.gone"]  # checked anyway
    assert column_comments(con) == {"main.summary.n": "How many."}


def test_every_table_view_and_column_of_the_built_warehouse_is_described(
    corpus_warehouse: tuple[Path, RunSummary],
) -> None:
    warehouse, summary = corpus_warehouse
    undocumented = next(r for r in summary.test_results if r.name == "columns_documented")
    assert undocumented.passed, f"columns without a description: {undocumented.sample}"
    descriptions = read_column_descriptions(find_sql_dir())
    with duckdb.connect(str(warehouse / "current" / "occupations.duckdb"), read_only=True) as con:
        comments = column_comments(con)
        assert describe_columns(con, descriptions, ()) == []
        undescribed = con.execute(
            "select table_name from duckdb_tables() where comment is null union all"
            " select view_name from duckdb_views() where comment is null and not internal"
        ).fetchall()
    assert undescribed == []
    relations = {k.rsplit(".", 1)[0].removeprefix("main.") for k in comments}
    assert set(descriptions) <= relations
    described = {k for k, v in comments.items() if k.startswith(("main.", "raw.")) and v}
    assert len(described) == len([k for k in comments if k.startswith(("main.", "raw."))])
