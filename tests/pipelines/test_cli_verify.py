"""`occupipe verify` and a refused `rollback` from the command line: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from occupipe.export.writer import export_release
from occupipe.release.store import current_release
from tests.helpers import flip_byte, invoke


def releases_of(warehouse: Path) -> list[str]:
    return sorted(path.name for path in (warehouse / "releases").iterdir())


def listed(warehouse: Path, release: str) -> int:
    """How many files a release's manifest lists: 15 data files and the docs site's pages."""
    manifest = json.loads((warehouse / "releases" / release / "manifest.json").read_bytes())
    assert any(name.startswith("site/") for name in manifest["outputs"])
    return len(manifest["outputs"])


def test_verify_of_an_intact_current_release_prints_a_summary_and_exits_0(
    small_warehouse: Path,
) -> None:
    code, out, err = invoke("verify", "--warehouse", str(small_warehouse))
    current = releases_of(small_warehouse)[-1]
    assert (code, err) == (0, "")
    files = listed(small_warehouse, current)
    assert out == f"release {current}: {files} files verified, all intact\n"


def test_verify_names_each_differing_file_then_a_summary_and_exits_1(
    small_warehouse: Path,
) -> None:
    first = releases_of(small_warehouse)[0]
    folder = small_warehouse / "releases" / first
    flip_byte(folder / "parquet" / "occupations.parquet")
    (folder / "inputs.parquet").unlink()
    code, out, err = invoke("verify", "--release", first, "--warehouse", str(small_warehouse))
    lines = out.splitlines()
    assert (code, err, len(lines)) == (1, "", 3)
    assert lines[0] == "inputs.parquet is missing"
    assert lines[1].startswith("parquet/occupations.parquet changed (sha256 ")
    files = listed(small_warehouse, first)
    assert lines[2] == f"release {first}: {files} files verified, 2 differ"
    code, out, _ = invoke(
        "verify", "--release", first, "-f", "json", "--warehouse", str(small_warehouse)
    )
    found = json.loads(out)
    assert (code, found["intact"], found["files_verified"]) == (1, False, files)
    assert [(p["file"], p["problem"]) for p in found["problems"]] == [
        ("inputs.parquet", "missing"),
        ("parquet/occupations.parquet", "changed"),
    ]
    assert len(found["problems"][1]["actual_sha256"]) == 64


def test_verify_of_an_export_from_the_command_line(small_warehouse: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "export"
    export_release(small_warehouse, out_dir)
    code, out, _ = invoke("verify", "--export", str(out_dir), "-f", "json")
    assert code == 0 and json.loads(out)["intact"] is True
    flip_byte(out_dir / "tags.parquet")
    code, out, _ = invoke("verify", "--export", str(out_dir))
    assert code == 1 and out.splitlines()[0].startswith("tags.parquet changed (sha256 ")
    assert out.splitlines()[1].endswith(", 1 differs")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--warehouse", "{tmp}/typo"], "error: no warehouse at {tmp}/typo; run `occupipe run`"),
        (["--release", "nope", "--warehouse", "{wh}"], "error: there is no release nope in {wh}."),
        (["--warehouse", "{wh}"], "error: no release of {wh} is current; name one with --release."),
        (["--export", "{tmp}/none"], "error: there is no export at {tmp}/none: it holds no"),
        (["--export", "{tmp}", "--release", "x"], "error: give --release or --export, not both"),
    ],
)
def test_verify_usage_errors_are_one_sentence_and_exit_2(
    small_warehouse: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (small_warehouse / "current").unlink()  # no release current: only the third case sees it
    places = {"tmp": str(tmp_path), "wh": str(small_warehouse)}
    code, out, err = invoke("verify", *(arg.format(**places) for arg in args))
    assert (code, out) == (2, "")
    assert err.startswith(message.format(**places)) and err.count("\n") == 1, err


def test_rollback_refuses_a_corrupted_release_with_one_sentence_and_exit_1(
    small_warehouse: Path,
) -> None:
    first, second = releases_of(small_warehouse)
    flip_byte(small_warehouse / "releases" / first / "parquet" / "tags.parquet")
    code, out, err = invoke("rollback", "--warehouse", str(small_warehouse))
    assert (code, out, err.count("\n")) == (1, "", 1)
    assert err.startswith(
        f"error: release {first} fails verification (1 file differs from its manifest):"
        " parquet/tags.parquet changed (sha256 "
    )
    assert current_release(small_warehouse) == second
