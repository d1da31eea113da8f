"""The codebase's shape: the library imports without Prefect; modules are short and documented."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from occupipe.core.settings import PROJECT_DIR

MAX_MODULE_LINES = 400
SOURCES = sorted(
    [*(PROJECT_DIR / "src" / "occupipe").rglob("*.py"), *(PROJECT_DIR / "pipelines").rglob("*.py")]
)
# the tests and the benchmarks are held to the same size and docstring as the code
MODULES = sorted(
    [*SOURCES, *(PROJECT_DIR / "tests").rglob("*.py"), *(PROJECT_DIR / "benchmarks").rglob("*.py")]
)


def test_importing_every_library_module_never_imports_prefect() -> None:
    script = (
        "import importlib, pkgutil, sys, occupipe\n"
        "for info in pkgutil.walk_packages(occupipe.__path__, 'occupipe.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'pipelines')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_each_module_is_short_and_opens_with_a_one_line_docstring(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, "split it: a module reads in a few screens"
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring, "every module says what it is for"
    assert len(docstring.splitlines()[0]) <= 100


# renames that move whole folders or symlinks into place, not files: `core.files` is for files
FOLDER_SWAPS = {
    "src/occupipe/core/files.py",  # the helper itself
    "src/occupipe/export/writer.py",
    "src/occupipe/ingest/cache.py",
    "src/occupipe/release/store.py",
}


def renames_in(path: Path) -> list[int]:
    """Lines calling os.replace / os.rename or a `.replace(...)`/`.rename(...)` of one argument
    on something other than a string (a Path's rename)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if node.func.attr not in ("replace", "rename") or not isinstance(owner, ast.Name):
            continue
        if owner.id == "os" or (len(node.args) == 1 and owner.id != "dataclasses"):
            lines.append(node.lineno)
    return lines


def test_files_are_replaced_whole_only_through_the_one_atomic_write_helper() -> None:
    found = {
        f"{path.relative_to(PROJECT_DIR)}:{line}"
        for path in SOURCES
        if str(path.relative_to(PROJECT_DIR)) not in FOLDER_SWAPS
        for line in renames_in(path)
    }
    assert not found, "write files through occupipe.core.files.write_atomically"
