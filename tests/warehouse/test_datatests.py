"""Data tests: generic tests compile to SQL that selects failing rows; severities are kept."""

from __future__ import annotations

import re
import time
from pathlib import Path

import duckdb
import pytest

from occupipe.contract import record as contract
from occupipe.core.runs import DataTestResult
from occupipe.core.settings import find_sql_dir
from occupipe.ingest.tables import TABLES
from occupipe.warehouse import datatests
from occupipe.warehouse.datatests import (
    DataTest,
    DataTestSpecError,
    compile_test,
    load_data_tests,
    run_data_tests,
)
from occupipe.warehouse.sqlmodels import discover_models


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table parent as select * from (values ('a'), ('b')) t(slug)")
    con.execute(
        "create table child as select *"
        " from (values ('a', 'x'), ('a', 'y'), ('c', null)) t(slug, v)"
    )
    return con


@pytest.mark.parametrize(
    ("test", "column", "options", "failures"),
    [
        ("unique", "slug", {}, 1),
        ("unique", "v", {}, 0),
        ("not_null", "v", {}, 1),
        ("not_null", "slug", {}, 0),
        ("accepted_values", "v", {"values": ["x"]}, 1),
        ("relationships", "slug", {"to": "parent", "field": "slug"}, 1),
        ("expression", "v", {"expression": "v <> 'y'"}, 1),
    ],
)
def test_generic_tests_count_the_failing_rows(
    con: duckdb.DuckDBPyConnection,
    test: str,
    column: str,
    options: dict[str, object],
    failures: int,
) -> None:
    sql = compile_test("child", test, column, options)
    results = run_data_tests(con, [DataTest("t", "error", sql)])
    assert results[0].failures == failures
    assert len(results[0].sample) == min(failures, 5)


def test_the_rows_shown_for_a_failing_test_are_the_first_in_sort_order() -> None:
    # a build stores rows in any order (its load runs on both cores): the example printed for
    # a warn must not change from run to run
    con = duckdb.connect()
    con.execute("create table t as select * from (values (3, null), (1, null), (2, null)) v(k, x)")
    results = run_data_tests(con, [DataTest("t", "warn", compile_test("t", "not_null", "x", {}))])
    assert results[0].sample == [(1, None), (2, None), (3, None)]


def test_results_are_recorded_in_the_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    run_data_tests(con, [DataTest("ok", "warn", "select * from parent where false")])
    rows = con.execute("select * from data_test_results").fetchall()
    assert rows == [("ok", "warn", 0, True)]


def write_singular(sql_dir: Path, name: str, sql: str) -> None:
    (sql_dir / "tests").mkdir(parents=True, exist_ok=True)
    (sql_dir / "tests" / name).write_text(sql)


def write_schema(sql_dir: Path, models: list[str], schema: str) -> None:
    (sql_dir / "marts").mkdir(parents=True, exist_ok=True)
    for name in models:
        (sql_dir / "marts" / f"{name}.sql").write_text("select 1 as x")
    (sql_dir / "marts" / "_schema.toml").write_text(schema)


def test_singular_sql_tests_take_their_severity_from_a_comment(tmp_path: Path) -> None:
    write_singular(tmp_path, "only_warn.sql", "-- severity: warn\nselect 1")
    write_singular(tmp_path, "default.sql", "select 1")
    severities = {t.name: t.severity for t in load_data_tests(tmp_path)}
    assert severities == {"only_warn": "warn", "default": "error"}


def test_shipped_specs_cover_every_kind_of_generic_test() -> None:
    tests = load_data_tests(find_sql_dir())
    kinds = {t.name.split("_")[0] for t in tests}
    assert {"unique", "not", "accepted", "relationships", "expression"} <= kinds
    assert {"error", "warn"} == {t.severity for t in tests}


def test_a_composite_grain_is_one_unique_test_named_by_its_columns(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    write_schema(tmp_path, ["child"], '[child.tests]\n"slug, v" = ["unique"]\n')
    (test,) = load_data_tests(tmp_path)
    assert test.name == "unique_child_slug_v"
    assert test.models == {"child"}
    assert run_data_tests(con, [test])[0].failures == 0
    con.execute("insert into child values ('a', 'x')")
    assert run_data_tests(con, [test])[0].failures == 1


def test_tests_are_written_as_a_name_or_a_table_of_options(tmp_path: Path) -> None:
    schema = """[child.tests]
slug = [
    "not_null",
    { unique = true, severity = "warn", where = "v is not null" },
    { relationships = { to = "parent", field = "slug" } },
    { expression = "v <> 'y'", name = "not_y" },
]
"""
    write_schema(tmp_path, ["child"], schema)
    tests = {t.name: t for t in load_data_tests(tmp_path)}
    assert {name: t.severity for name, t in tests.items()} == {
        "not_null_child_slug": "error",
        "unique_child_slug": "warn",
        "relationships_child_slug": "error",
        "expression_child_slug_not_y": "error",
    }
    assert tests["unique_child_slug"].sql == compile_test(
        "child", "unique", "slug", {"where": "v is not null"}
    )


def test_accepted_values_may_name_a_contract_enum_read_when_the_tests_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = """[child.tests]
status = [{ accepted_values = { enum = "STATUSES" } }]
provenance = [{ accepted_values = { enum = "PROVENANCES", values = ["unknown"] } }]
side = [{ accepted_values = { values = ["largest", "smallest"] } }]
"""
    write_schema(tmp_path, ["child"], schema)

    def allowed() -> list[str]:
        return [t.sql.split(" not in ", 1)[1] for t in load_data_tests(tmp_path)]

    assert allowed() == [
        "('stub', 'draft', 'review', 'stable')",
        "('human', 'ai-assisted', 'ai-generated', 'unknown')",
        "('largest', 'smallest')",
    ]
    monkeypatch.setattr(contract, "STATUSES", ("stub", "final"))
    assert allowed()[0] == "('stub', 'final')"


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            '["uniq"]',
            "a test is one of not_null, unique, accepted_values, relationships, expression",
        ),
        ("[{ unique = true, not_null = true }]", "a test is one of"),
        ('[{ unique = true, owner = "me" }]', "with optional severity, name, where"),
        ('[{ unique = true, severity = "fatal" }]', "severity must be error or warn"),
        ('[{ unique = "slug" }]', 'unique takes no options (write "unique")'),
        ("[{ expression = true }]", "expression must be SQL text"),
        ('[{ relationships = { to = "parent" } }]', "write relationships as { relationships = {"),
        ('[{ accepted_values = ["a"] }]', "write accepted_values as { accepted_values = {"),
        (
            '[{ accepted_values = { enum = "STATUS" } }]',
            "occupipe.contract.record has no enum 'STATUS'",
        ),
        ('[{ accepted_values = { enum = "SLUG_PATTERN" } }]', "has no enum 'SLUG_PATTERN'"),
    ],
)
def test_a_malformed_test_is_one_error_naming_its_file_and_column(
    tmp_path: Path, written: str, problem: str
) -> None:
    write_schema(tmp_path, ["child"], f"[child.tests]\nslug = {written}\n")
    with pytest.raises(DataTestSpecError, match=re.escape(problem)) as raised:
        load_data_tests(tmp_path)
    assert str(raised.value).startswith("marts/_schema.toml, child.slug: ")


def test_singular_tests_check_the_models_they_read(tmp_path: Path) -> None:
    write_singular(tmp_path, "pair.sql", "-- rows from nowhere\nselect * from a join b using (k)")
    assert load_data_tests(tmp_path)[0].models == {"a", "b"}


def test_every_shipped_model_has_a_data_test() -> None:
    sql_dir = find_sql_dir()
    checked = set().union(*(t.models for t in load_data_tests(sql_dir)))
    untested = sorted(m.name for m in discover_models(sql_dir) if m.name not in checked)
    assert untested == []


@pytest.mark.parametrize("count", [1, 2, 5])
def test_results_come_back_in_test_order_whatever_thread_ran_them(
    con: duckdb.DuckDBPyConnection, count: int
) -> None:
    tests = [
        DataTest(f"t{n}", "error", f"select * from range({n}) where {n} % 2 = 1")
        for n in range(count)
    ]
    results = run_data_tests(con, tests)
    assert [(r.name, r.failures) for r in results] == [(f"t{n}", n % 2 * n) for n in range(count)]


def test_a_test_that_cannot_run_names_itself(con: duckdb.DuckDBPyConnection) -> None:
    tests = [DataTest("fine", "error", "select 1 where false"), DataTest("bad", "error", "x")]
    with pytest.raises(DataTestSpecError, match="data test bad cannot run"):
        run_data_tests(con, tests)


def test_a_failing_test_stops_the_tests_not_yet_started(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    def run_one(cursor: duckdb.DuckDBPyConnection, test: DataTest) -> DataTestResult:
        started.append(test.name)
        if test.name == "t0":
            raise DataTestSpecError("data test t0 cannot run: broken")
        time.sleep(0.05)
        return DataTestResult(test.name, test.severity, 0, [], [])

    monkeypatch.setattr(datatests, "run_data_test", run_one)
    tests = [DataTest(f"t{n}", "error", "select 1") for n in range(40)]
    with pytest.raises(DataTestSpecError, match="t0 cannot run"):
        run_data_tests(con, tests)
    assert 1 <= len(started) < 10  # of 40: the two running finish, the rest never start


LIST_TABLES = [t.name for t in TABLES if t.name != "occupations"]


@pytest.mark.parametrize("repeated_in", ["sections", "git_authors", "stated_backlinks"])
def test_the_list_keys_test_names_a_key_repeated_in_any_list_table(repeated_in: str) -> None:
    (test,) = [t for t in load_data_tests(find_sql_dir()) if t.name == "list_keys_unique"]
    con = duckdb.connect()
    for name in LIST_TABLES:
        con.execute(
            f"create table stg_{name} as"
            " select * from (values ('a', 0), ('a', 1), ('b', 0)) t(slug, position)"
        )
    assert test.models == {f"stg_{name}" for name in LIST_TABLES}
    assert run_data_tests(con, [test])[0].failures == 0
    con.execute(f"insert into stg_{repeated_in} values ('a', 1)")
    (result,) = run_data_tests(con, [test])
    assert result.failures == 1
    assert result.sample == [(repeated_in, "a", 1, 2)]


def test_a_test_that_runs_out_of_memory_says_how_to_raise_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OCCUPIPE_DUCKDB_MEMORY", "16MB")  # what the run would have set
    con = duckdb.connect()
    con.execute("set memory_limit = '16MB'")
    big = "select string_agg(range::varchar, ',') as s from range(20000000)"
    with pytest.raises(DataTestSpecError) as raised:
        run_data_tests(con, [DataTest("big", "error", big)])
    assert str(raised.value) == (
        "data test big cannot run: DuckDB needed more than its memory budget of 16MB;"
        " set OCCUPIPE_DUCKDB_MEMORY higher (e.g. 1GB) and run again"
    )
