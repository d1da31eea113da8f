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


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_each_module_is_short_and_opens_with_a_one_line_docstring(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, "split it: a module reads in a few screens"
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring, "every module says what it is for"
    assert len(docstring.splitlines()[0]) <= 100
