"""The manifest's pure parts: checksums by relative path, indented JSON that reads back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from occupipe.release.manifest import SealedInputs, dump_indented, seal_files


def test_sealed_files_are_named_by_their_path_under_the_build_with_their_sha256(
    tmp_path: Path,
) -> None:
    (tmp_path / "parquet").mkdir()
    files = [tmp_path / "parquet" / "tags.parquet", tmp_path / "occupations.duckdb"]
    for n, path in enumerate(files):
        path.write_bytes(b"x" * n)
    assert seal_files(tmp_path, files) == {
        "parquet/tags.parquet": hashlib.sha256(b"").hexdigest(),
        "occupations.duckdb": hashlib.sha256(b"x").hexdigest(),
    }


def test_more_checksums_add_to_sealed_inputs_without_changing_them() -> None:
    sealed = SealedInputs(3, {"inputs.parquet": "a"})
    more = sealed.with_checksums({"occupations.duckdb": "b"})
    assert more == SealedInputs(3, {"inputs.parquet": "a", "occupations.duckdb": "b"})
    assert sealed.checksums == {"inputs.parquet": "a"}


def test_indented_json_reads_back_even_with_names_orjson_refuses() -> None:
    value = {"counts": {"loaded": 2}, "inputs": ["caf\udce9.json"], "ratio": 0.5}
    written = dump_indented(value)
    assert b'\n  "counts"' in written
    assert json.loads(written) == value
