"""Data tests: generic tests compile to SQL that selects failing rows; severities are kept."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.datatests import DataTest, compile_test, load_data_tests, run_data_tests
from pipelines.settings import find_sql_dir


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


def test_results_are_recorded_in_the_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    run_data_tests(con, [DataTest("ok", "warn", "select * from parent where false")])
    rows = con.execute("select * from data_test_results").fetchall()
    assert rows == [("ok", "warn", 0, True)]


def test_singular_sql_tests_take_their_severity_from_a_comment(tmp_path: Path) -> None:
    (tmp_path / "only_warn.sql").write_text("-- severity: warn\nselect 1")
    (tmp_path / "default.sql").write_text("select 1")
    severities = {t.name: t.severity for t in load_data_tests(tmp_path)}
    assert severities == {"only_warn": "warn", "default": "error"}


def test_shipped_specs_cover_every_kind_of_generic_test() -> None:
    tests = load_data_tests(find_sql_dir() / "tests")
    kinds = {t.name.split("_")[0] for t in tests}
    assert {"unique", "not", "accepted", "relationships", "expression"} <= kinds
    assert {"error", "warn"} == {t.severity for t in tests}
