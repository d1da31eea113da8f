"""The synthetic corpus the benchmarks measure: generated once per size, read into memory."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

PYTHON = sys.executable


AS_OF = dt.date(2026, 6, 26)  # every step builds for the same reference date


def make_corpus(records: int, workdir: Path) -> Path:
    """Synthetic records, generated once per size and reused."""
    corpus = workdir / f"corpus-{records}"
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run(
            [PYTHON, "-m", "pipelines", "synth", "--records", str(records),
             "--out", str(corpus)],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        (corpus / ".complete").touch()
    return corpus


def warm_page_cache(corpus: Path) -> None:
    """Read every file once, so every step finds the corpus in memory as the first would not."""
    for path in corpus.iterdir():
        if path.is_file():
            path.read_bytes()
