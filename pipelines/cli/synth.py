"""`occupipe synth`: a deterministic corpus of realistic synthetic records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from occupipe.ingest.discover import count_until_a_record
from pipelines.cli.common import fail, say


def synth(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write <slug>.json files to (no records in it).")
    ],
    records: Annotated[int, typer.Option("--records", min=1, help="How many records.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 7,
) -> None:
    """Write a deterministic corpus of realistic synthetic records (marked `synthetic: true`)."""
    from occupipe.synth.corpus import write_corpus

    if out.is_dir() and count_until_a_record(out)[0]:  # .json, .jsonl or .ndjson, at any depth
        # new records beside old ones would make a corpus nobody generated (and overwrite some)
        raise fail(f"{out} already holds records; choose an empty folder or remove them first.")
    try:
        paths = write_corpus(out, records, seed)
    except OSError as exc:
        raise fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    size = sum(p.stat().st_size for p in paths)
    say(f"wrote {len(paths)} synthetic records ({size / 1e6:.1f} MB) to {out}")
