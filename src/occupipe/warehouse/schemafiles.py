"""Read the `_schema.toml` beside each layer's models: column descriptions and generic tests.

Each layer folder (`sql/staging`, `sql/marts`, `sql/reports`) keeps one `_schema.toml`, as dbt
keeps a schema file per folder. Every model of the folder (`<name>.sql`) has an entry, and
every entry names a model of the folder:

    [occupations.columns]          # column = "description", applied as a column comment
    slug = "URL-safe identifier of the record (primary key)."

    [occupations.tests]            # column (or "a, b" for a composite grain) = [tests]
    slug = ["unique", "not_null"]
    status = [{ accepted_values = { enum = "STATUSES" } }]

An entry may be empty (`[stg_tags]`: a staging view whose columns all take their raw table's
descriptions, and which no generic test checks). `[sources.<relation>.columns]` describes a
relation of this stage that no SQL model builds: the load's `raw.*` tables and run tables, the
betweenness the marts stage computes in Python, the data tests' results. What a test entry
holds is `occupipe.warehouse.datatests`'s business.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from occupipe.warehouse.sqlmodels import LAYERS, Descriptions, ModelError

SCHEMA_FILE = "_schema.toml"


SOURCES = "sources"  # the entry of relations no model builds; no model may take the name


ENTRY_KEYS = ("columns", "tests")


@dataclass(frozen=True)
class RelationSpec:
    """One entry of a schema file: a model, or a source relation no model builds."""

    name: str
    path: Path  # the schema file that holds it
    columns: dict[str, str]
    tests: dict[str, list[Any]]  # column (or "a, b") -> its generic tests as written


def read_schema_files(sql_dir: Path) -> list[RelationSpec]:
    """Every entry of every layer's schema file, layer by layer, in file order."""
    specs: list[RelationSpec] = []
    for layer in LAYERS:
        folder = sql_dir / layer
        models = sorted(p.stem for p in folder.glob("*.sql"))
        path = folder / SCHEMA_FILE
        if not path.exists():
            if models:
                raise ModelError(f"{path} is missing: it describes and tests the {layer} models")
            continue
        specs.extend(read_schema_file(path, models))
    return specs


def read_schema_file(path: Path, models: list[str]) -> list[RelationSpec]:
    """The entries of one schema file, checked against the models of its folder."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path} is not valid TOML: {exc}") from None
    if SOURCES in models:
        raise ModelError(f"{path.parent / SOURCES}.sql: '{SOURCES}' is reserved for {path.name}")
    sources = data.pop(SOURCES, {})
    unknown = sorted(set(data) - set(models))
    if unknown:
        raise ModelError(f"{path} has entries for models that do not exist: {', '.join(unknown)}")
    missing = [name for name in models if name not in data]
    if missing:
        raise ModelError(f"{path} has no entry for the models {', '.join(missing)}")
    if not isinstance(sources, dict):
        raise ModelError(f"{path}: [{SOURCES}] must hold one [{SOURCES}.<relation>] per relation")
    entries = [*data.items(), *sources.items()]
    return [read_entry(path, name, entry) for name, entry in entries]


def read_entry(path: Path, name: str, entry: Any) -> RelationSpec:
    """One entry, its shape checked: `columns` of texts, `tests` of lists."""
    if not isinstance(entry, dict) or set(entry) - set(ENTRY_KEYS):
        raise ModelError(f"{path}: [{name}] may hold only [{name}.columns] and [{name}.tests]")
    columns, tests = entry.get("columns", {}), entry.get("tests", {})
    if not isinstance(columns, dict) or not all(isinstance(t, str) for t in columns.values()):
        raise ModelError(f'{path}: [{name}.columns] must be column = "description" lines')
    if not isinstance(tests, dict) or not all(isinstance(t, list) for t in tests.values()):
        raise ModelError(f"{path}: [{name}.tests] must be column = [tests] lines")
    return RelationSpec(name, path, columns, tests)


def read_column_descriptions(sql_dir: Path) -> Descriptions:
    """The column descriptions of every layer's schema file, by relation."""
    return {spec.name: spec.columns for spec in read_schema_files(sql_dir) if spec.columns}
