"""Schema files: one `_schema.toml` per layer folder describes and tests exactly its models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from occupipe.core.settings import find_sql_dir
from occupipe.warehouse.schemafiles import read_column_descriptions, read_schema_files
from occupipe.warehouse.sqlmodels import LAYERS, ModelError, discover_models


def write_layer(root: Path, layer: str, models: list[str], schema: str | None) -> None:
    folder = root / layer
    folder.mkdir(parents=True, exist_ok=True)
    for name in models:
        (folder / f"{name}.sql").write_text("select 1 as x")
    if schema is not None:
        (folder / "_schema.toml").write_text(schema)


def test_entries_give_descriptions_by_relation_sources_included(tmp_path: Path) -> None:
    schema = (
        '[m.columns]\nx = "The x."\n\n[m.tests]\nx = ["unique"]\n\n[empty]\n\n'
        '[sources."raw.things".columns]\nid = "Key of a thing."\n'
    )
    write_layer(tmp_path, "marts", ["m", "empty"], schema)
    specs = read_schema_files(tmp_path)
    assert [(s.name, s.tests) for s in specs] == [
        ("m", {"x": ["unique"]}),
        ("empty", {}),
        ("raw.things", {}),
    ]
    assert read_column_descriptions(tmp_path) == {
        "m": {"x": "The x."},
        "raw.things": {"id": "Key of a thing."},
    }


@pytest.mark.parametrize(
    ("models", "schema", "problem"),
    [
        (["m"], None, "marts/_schema.toml is missing: it describes and tests the marts models"),
        (["m"], "[m\nx = ", "marts/_schema.toml is not valid TOML"),
        (["m"], "[m]\n[gone]\n", "has entries for models that do not exist: gone"),
        (["m", "n", "o"], "[m]\n", "has no entry for the models n, o"),
        (["m"], "m = 1", "[m] may hold only [m.columns] and [m.tests]"),
        (["m"], "[m.docs]\nx = 'y'", "[m] may hold only [m.columns] and [m.tests]"),
        (["m"], "[m.columns]\nx = 2", '[m.columns] must be column = "description" lines'),
        (["m"], "[m.tests]\nx = 'unique'", "[m.tests] must be column = [tests] lines"),
        (["m"], "sources = 1\n[m]", "[sources] must hold one [sources.<relation>] per relation"),
        (["sources"], "[sources]", "'sources' is reserved for _schema.toml"),
    ],
)
def test_a_schema_file_out_of_step_with_its_folder_is_one_clear_error(
    tmp_path: Path, models: list[str], schema: str | None, problem: str
) -> None:
    write_layer(tmp_path, "marts", models, schema)
    with pytest.raises(ModelError, match=re.escape(problem)):
        read_schema_files(tmp_path)


def test_a_layer_without_models_needs_no_schema_file(tmp_path: Path) -> None:
    write_layer(tmp_path, "staging", ["stg_s"], "[stg_s]\n")
    assert [s.name for s in read_schema_files(tmp_path)] == ["stg_s"]


def test_every_shipped_model_has_exactly_one_entry_in_its_layers_file() -> None:
    sql_dir = find_sql_dir()
    specs = read_schema_files(sql_dir)
    models = {m.name: m.layer for m in discover_models(sql_dir)}
    entries = {s.name: s.path.parent.name for s in specs if s.name in models}
    assert entries == models
    assert {(sql_dir / layer / "_schema.toml").exists() for layer in LAYERS} == {True}
