"""SQL models: dependencies by table name, dependency order, clear errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from pipelines.models import (
    ModelError,
    build_models,
    discover_models,
    find_references,
    order_models,
)
from pipelines.settings import find_sql_dir


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select * from a join b on a.x = b.x", {"a", "b"}),
        ("with a as (select * from a), final as (select * from a) select * from final", {"a"}),
        ("with x as (select * from stg_y) select * from x", {"stg_y"}),
        ("select * from raw.occupations", set()),
        ("select * from read_parquet('f.parquet')", {"read_parquet"}),
    ],
)
def test_references_are_the_relations_read_not_local_ctes(sql: str, expected: set[str]) -> None:
    assert find_references(sql) == expected


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


def test_a_cycle_is_reported_by_name(tmp_path: Path) -> None:
    write_models(tmp_path, {"marts/a.sql": "select * from b", "marts/b.sql": "select * from a"})
    with pytest.raises(ModelError, match="cycle"):
        order_models(discover_models(tmp_path))


def test_a_broken_model_names_its_file(tmp_path: Path) -> None:
    write_models(tmp_path, {"marts/bad.sql": "select * from nowhere"})
    with pytest.raises(ModelError, match=r"model bad \(bad.sql\) failed: Catalog Error"):
        build_models(duckdb.connect(), discover_models(tmp_path))


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


def federated(path: Path) -> bool:
    return bool((json.loads(path.read_text())["metadata"].get("source") or {}).get("origin"))


@pytest.mark.parametrize("corpus", ["one record", "only federated records"])
def test_figures_with_nothing_to_divide_by_are_never_nan(tmp_path: Path, corpus: str) -> None:
    from tests.conftest import SOULS, build, copy_records, query

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
