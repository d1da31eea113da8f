"""Every SQL block of docs/queries.md runs on the real sample and returns rows."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from occupipe.core.runs import RunSummary
from occupipe.core.settings import PROJECT_DIR

PAGE = (PROJECT_DIR / "docs" / "queries.md").read_text(encoding="utf-8")
QUERIES = re.findall(r"```sql\n(.*?)```", PAGE, re.S)


def test_the_page_has_its_description_query_and_ten_worked_queries() -> None:
    assert len(QUERIES) == 11


@pytest.mark.parametrize("sql", QUERIES, ids=[f"block-{i + 1}" for i in range(len(QUERIES))])
def test_each_query_runs_and_returns_rows(
    corpus_warehouse: tuple[Path, RunSummary], sql: str
) -> None:
    statements = [s for s in sql.split(";") if s.strip()]
    with duckdb.connect(str(corpus_warehouse[0] / "occupations.duckdb"), read_only=True) as con:
        for statement in statements[:-1]:
            con.execute(statement)
        assert con.execute(statements[-1]).fetchall()
