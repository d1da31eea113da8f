"""Helpers the tests share: the real corpus, building a warehouse, reading it back, the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC
from occupipe.core.runs import RunOptions, RunSummary
from occupipe.core.settings import PROJECT_DIR, find_sql_dir
from occupipe.runner.run import run_pipeline

if TYPE_CHECKING:  # pytest is not imported by the processes a test starts
    import pytest

CORPUS = PROJECT_DIR.parent / "shared" / "corpus"
SAMPLE = CORPUS / "soul-atlas-sample"
SOULS = SAMPLE / "souls"
SEED = CORPUS / "devops-engineer.seed.json"
DEMO = PROJECT_DIR / "data" / "raw"
REFERENCE_DATE = dt.date(2026, 6, 26)


def copy_records(folder: Path, paths: list[Path]) -> Path:
    """Copy record files into a folder (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy(path, folder / path.name)
    return folder


def copy_sample(folder: Path, count: int = 30) -> Path:
    """The first `count` records of the real sample, copied into a folder."""
    return copy_records(folder, sorted(SOULS.glob("*.json"))[:count])


REAL = (SOULS / "absurdist.json").read_bytes()  # one real record's bytes, as published


def variant(slug: str, **metadata: Any) -> dict[str, Any]:
    """The real record under another slug, with metadata changes."""
    data: dict[str, Any] = json.loads(REAL)
    data["slug"] = data["metadata"]["slug"] = slug
    data["metadata"].update(metadata)
    return data


def write(folder: Path, files: dict[str, Any]) -> Path:
    """Files into a folder (created if needed), by name: bytes as they are, the rest as JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else json.dumps(content).encode()
        (folder / name).write_bytes(data)
    return folder


def is_running(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL on a published warehouse, read-only."""
    with duckdb.connect(str(warehouse / "occupations.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


ALL = sorted(SOULS.glob("*.json"))  # every record file of the sample, in name order


def source_with(folder: Path, paths: list[Path]) -> Path:
    """A fresh folder holding exactly these records."""
    shutil.rmtree(folder, ignore_errors=True)
    return copy_records(folder, paths)


def count(warehouse: Path) -> int:
    """The occupations a published warehouse holds."""
    return int(query(warehouse, "select count(*) from occupations")[0][0])


def parquet_digests(warehouse: Path) -> dict[str, str]:
    """SHA-256 of each published Parquet file of a warehouse (or build) folder, by name."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((warehouse / "parquet").glob("*.parquet"))
    }


def options_for(source: Path | str, warehouse: Path, **overrides: Any) -> RunOptions:
    """Run options for tests: the shipped SQL, the reference date of the site's stats."""
    defaults: dict[str, Any] = {
        "source": source,
        "warehouse_dir": warehouse,
        "sql_dir": find_sql_dir(),
        "as_of": REFERENCE_DATE,
        "sections_spec": DEFAULT_SECTIONS_SPEC,
        "workers": 1,  # in-process by default: fast to start; parallel runs are tested apart
    }
    return RunOptions(**(defaults | overrides))


def build(source: Path | str, warehouse: Path, **overrides: Any) -> RunSummary:
    """Run the pipeline (no Prefect) from a folder into a warehouse folder."""
    return run_pipeline(options_for(source, warehouse, **overrides))


def flip_byte(path: Path, offset: int = 100) -> None:
    """Invert one byte of a file in place (a release's files are read-only: made writable)."""
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def minimal_record(**changes: Any) -> dict[str, Any]:
    """The smallest record the contract accepts, with `changes` on top."""
    record: dict[str, Any] = {
        "slug": "test-role",
        "title": "Test Role",
        "metadata": {
            "title": "Test Role",
            "slug": "test-role",
            "category": "Technology",
            "status": "draft",
        },
        "sections": [],
    }
    record.update(changes)
    return record


def invoke(*args: str) -> tuple[int, str, str]:
    """`occupipe ARGS` through Typer's test runner: (exit code, stdout, stderr)."""
    from typer.testing import CliRunner

    from pipelines.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def refuse_server(monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    """Fail the test if the command starts its Prefect server: `case` should have stopped it."""
    from pipelines.cli import run

    def no_server() -> None:
        raise AssertionError(f"a Prefect server was started for {case}")

    monkeypatch.setattr(run, "own_api_server", no_server)


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """The console script's own entry point (not the test runner's), with these arguments."""
    import pytest

    from pipelines.cli import main

    monkeypatch.setattr(sys, "argv", ["occupipe", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    code = exit_info.value.code
    return code if isinstance(code, int) else 1, captured.out, captured.err
