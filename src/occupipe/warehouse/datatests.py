"""Data tests over the built warehouse: generic column tests from each layer's `_schema.toml`
plus singular SQL tests (`sql/tests/*.sql`, each selecting the rows that fail)."""

from __future__ import annotations

import queue
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from occupipe.contract import record as contract
from occupipe.core.duck import describe_duckdb_error, describe_table, insert_rows
from occupipe.core.runs import DataTestResult
from occupipe.warehouse.schemafiles import RelationSpec, read_schema_files
from occupipe.warehouse.sqlmodels import find_references, parse_sql

RESULTS_TABLE = "data_test_results"
SEVERITIES = ("error", "warn")


GENERIC_TESTS = ("not_null", "unique", "accepted_values", "relationships", "expression")


TEST_SETTINGS = ("severity", "name", "where")


OPTIONS = {  # the tests that take a table of options: its keys, how to write it
    "relationships": ({"to", "field"}, '{ relationships = { to = "model", field = "column" } }'),
    "accepted_values": (
        {"enum", "values"},
        '{ accepted_values = { enum = "STATUSES" } } or { values = [...] } or both',
    ),
}


SINGULAR_TESTS = "tests"  # the folder of sql/ holding the singular tests


_SEVERITY_COMMENT = re.compile(r"--\s*severity:\s*(error|warn)", re.IGNORECASE)


class DataTestSpecError(Exception):
    """The data-test specification itself is wrong."""


@dataclass(frozen=True)
class DataTest:
    name: str
    severity: str
    sql: str  # selects failing rows
    models: frozenset[str] = frozenset()  # the models it checks


def _quote_list(values: list[Any]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def compile_test(model: str, test: str, column: str, options: dict[str, Any]) -> str:
    """SQL selecting the rows of `model` that break one generic test."""
    where = f" and ({options['where']})" if "where" in options else ""
    if test == "not_null":
        return f"select * from {model} where {column} is null{where}"
    if test == "unique":
        return (
            f"select {column}, count(*) as occurrences from {model} where true{where}"
            f" group by {column} having count(*) > 1"
        )
    if test == "accepted_values":
        values = _quote_list(options["values"])
        return f"select * from {model} where {column} not in ({values}){where}"
    if test == "relationships":
        target, field = options["to"], options["field"]
        return (
            f"select child.* from {model} as child left join {target} as parent"
            f" on child.{column} = parent.{field}"
            f" where child.{column} is not null and parent.{field} is null{where}"
        )
    if test == "expression":
        return f"select * from {model} where not ({options['expression']}){where}"
    raise DataTestSpecError(f"unknown data test {test!r} on {model}.{column}")


def load_data_tests(sql_dir: Path) -> list[DataTest]:
    """Every data test: the generic ones of each layer's schema file, then the singular ones
    of `sql/tests/*.sql`."""
    tests = [
        read_generic_test(spec, column, written)
        for spec in read_schema_files(sql_dir)
        for column, written_tests in spec.tests.items()
        for written in written_tests
    ]
    for path in sorted((sql_dir / SINGULAR_TESTS).glob("*.sql")):
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        match = _SEVERITY_COMMENT.search(sql)
        severity = match.group(1).lower() if match else "error"
        tree = parse_sql(sql, f"data test file {SINGULAR_TESTS}/{path.name}")
        tests.append(DataTest(path.stem, severity, sql, frozenset(find_references(tree))))
    return tests


def read_generic_test(spec: RelationSpec, column: str, written: Any) -> DataTest:
    """One generic test as a schema file writes it: `"unique"`, or a table with the test's
    options under its name (`{ relationships = { to = "a", field = "k" } }`) and, optionally,
    `severity`, `name` (a suffix telling two tests of a kind apart) and `where`."""
    model, place = spec.name, f"{spec.path.parent.name}/{spec.path.name}, {spec.name}.{column}"
    entry = {written: True} if isinstance(written, str) else written
    kinds = [key for key in entry if key in GENERIC_TESTS] if isinstance(entry, dict) else []
    if len(kinds) != 1 or set(entry) - {*kinds, *TEST_SETTINGS}:
        raise DataTestSpecError(
            f"{place}: a test is one of {', '.join(GENERIC_TESTS)}, with optional"
            f" {', '.join(TEST_SETTINGS)}; found {written!r}"
        )
    test = kinds[0]
    severity = entry.get("severity", "error")
    if severity not in SEVERITIES:
        raise DataTestSpecError(f"{place}: severity must be error or warn")
    options = read_test_options(place, test, entry[test])
    if "where" in entry:
        options["where"] = entry["where"]
    suffix = f"_{entry['name']}" if "name" in entry else ""
    # a composite grain (`slug, position`) names the test by its columns
    columns = re.sub(r"\W+", "_", column)
    name = f"{test}_{model}_{columns}{suffix}".replace("__", "_").rstrip("_")
    return DataTest(name, severity, compile_test(model, test, column, options), frozenset({model}))


def read_test_options(place: str, test: str, value: Any) -> dict[str, Any]:
    """The options `compile_test` takes, from what a schema file writes under the test's name."""
    if test in ("unique", "not_null"):
        if value is not True:
            raise DataTestSpecError(f'{place}: {test} takes no options (write "{test}")')
        return {}
    if test == "expression":
        if not isinstance(value, str):
            raise DataTestSpecError(f"{place}: expression must be SQL text")
        return {"expression": value}
    wanted, usage = OPTIONS[test]
    if not isinstance(value, dict) or not value or set(value) - wanted:
        raise DataTestSpecError(f"{place}: write {test} as {usage}")
    if test == "relationships":
        if set(value) != wanted:
            raise DataTestSpecError(f"{place}: write {test} as {usage}")
        return dict(value)
    values = list(value.get("values", []))
    if "enum" in value:
        values = [*contract_enum(place, value["enum"]), *values]
    return {"values": values}


def contract_enum(place: str, name: Any) -> tuple[str, ...]:
    """The contract's tuple of allowed values called `name` (e.g. STATUSES), read when the
    tests are loaded."""
    enum = getattr(contract, name, None) if isinstance(name, str) and name.isupper() else None
    if not isinstance(enum, tuple) or not enum or not all(isinstance(v, str) for v in enum):
        raise DataTestSpecError(
            f"{place}: occupipe.contract.record has no enum {name!r} (a tuple of values such as"
            " STATUSES or KINDS)"
        )
    return enum


def run_data_test(
    con: duckdb.DuckDBPyConnection, test: DataTest, sample: int = 5
) -> DataTestResult:
    """Count a test's failing rows and keep a few to show (queried only when some fail): the
    first in sort order, so a run prints the same example however the rows were stored."""
    rows: list[Any] = []
    columns: list[str] = []
    try:
        failures_row = con.execute(f"select count(*) from ({test.sql})").fetchone()
        failures = int(failures_row[0]) if failures_row else 0
        if failures:
            cursor = con.execute(f"select * from ({test.sql}) order by all limit {sample}")
            rows = cursor.fetchall()
            columns = [d[0] for d in cursor.description or []]
    except duckdb.Error as exc:
        reason = describe_duckdb_error(exc)
        raise DataTestSpecError(f"data test {test.name} cannot run: {reason}") from exc
    return DataTestResult(test.name, test.severity, failures, rows, columns)


TEST_THREADS = 2


def run_data_tests(con: duckdb.DuckDBPyConnection, tests: list[DataTest]) -> list[DataTestResult]:
    """Run every data test and record the results in the `data_test_results` table."""
    results = run_side_by_side(con, tests, TEST_THREADS)
    con.execute(
        f"create or replace table {RESULTS_TABLE}"
        " (test_name varchar, severity varchar, failures bigint, passed boolean)"
    )
    insert_rows(con, RESULTS_TABLE, [(r.name, r.severity, r.failures, r.passed) for r in results])
    describe_table(con, RESULTS_TABLE, "The data tests of this build: one row per test.")
    return results


def run_side_by_side(
    con: duckdb.DuckDBPyConnection, tests: list[DataTest], threads: int
) -> list[DataTestResult]:
    """Run the tests on `threads` threads, each test on a free cursor; results in test order.

    Most test queries are small and leave a core idle, so two at a time finish sooner than one
    after another (benchmarks/HISTORY.md). A failure (or Ctrl-C) cancels the tests not started.
    """
    cursors = [con.cursor() for _ in range(threads)]
    free: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    for cursor in cursors:
        free.put(cursor)

    def run_on_free_cursor(test: DataTest) -> DataTestResult:
        cursor = free.get()
        try:
            return run_data_test(cursor, test)
        finally:
            free.put(cursor)

    pool = ThreadPoolExecutor(threads, thread_name_prefix="data-tests")
    try:
        return list(pool.map(run_on_free_cursor, tests))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for cursor in cursors:
            cursor.close()


def describe_failures(results: Sequence[DataTestResult]) -> str:
    """One line naming failed tests, with the first failing row of the first one."""
    first = results[0]
    example = dict(zip(first.columns, first.sample[0], strict=False)) if first.sample else {}
    names = ", ".join(f"{r.name} ({r.failures} rows)" for r in results)
    return f"{len(results)} data test(s) failed with severity error: {names}; e.g. {example}"


def failed_tests(results: Sequence[DataTestResult], severity: str) -> list[DataTestResult]:
    """The data tests of one severity that found failing rows."""
    return [r for r in results if r.severity == severity and not r.passed]
