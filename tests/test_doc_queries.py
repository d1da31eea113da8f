"""Every worked query in the README runs on the real sample and returns rows."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from occupipe.core.runs import RunSummary
from occupipe.core.settings import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Worked queries", 1)[1].split("\n## ", 1)[0]
QUERIES = re.findall(r"```sql\n(.*?)```", SECTION, re.S)


def test_the_readme_has_ten_worked_queries() -> None:
    assert len(QUERIES) == 10


@pytest.mark.parametrize("sql", QUERIES, ids=[f"query-{i + 1}" for i in range(len(QUERIES))])
def test_each_worked_query_runs_and_returns_rows(
    corpus_warehouse: tuple[Path, RunSummary], sql: str
) -> None:
    statements = [s for s in sql.split(";") if s.strip()]
    with duckdb.connect(str(corpus_warehouse[0] / "occupations.duckdb"), read_only=True) as con:
        for statement in statements[:-1]:
            con.execute(statement)
        assert con.execute(statements[-1]).fetchall()
