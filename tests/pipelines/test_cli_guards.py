"""What `occupipe run` and `synth` refuse before any work or server starts; synth's corpus."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers import invoke, refuse_server, run_main


def test_synth_writes_the_same_corpus_for_the_same_seed(tmp_path: Path) -> None:
    for run in ("a", "b"):
        code, out, _ = invoke("synth", "--records", "25", "--out", str(tmp_path / run))
        assert code == 0 and "wrote 25 synthetic records" in out
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}


@pytest.mark.parametrize("held", ["keep.json", "lines.jsonl", "nested/deeper/x.ndjson"])
def test_synth_refuses_a_folder_that_already_holds_records(tmp_path: Path, held: str) -> None:
    (tmp_path / held).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / held).write_text("{}")
    code, _, err = invoke("synth", "--records", "2", "--out", str(tmp_path))
    assert code == 1 and "already holds records" in err
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")] == [held]


def test_a_warehouse_path_that_is_a_file_is_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.helpers import DEMO

    (tmp_path / "afile").write_text("x")
    args = ["run", "--source", str(DEMO), "--warehouse", str(tmp_path / "afile")]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert (
        code == 1 and err == f"error: the warehouse {tmp_path / 'afile'} is a file, not a folder.\n"
    )


def test_a_run_on_a_held_warehouse_fails_at_once_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from occupipe.release.lock import check_unlocked, run_lock
    from tests.helpers import DEMO

    refuse_server(monkeypatch, "a run that cannot take the lock")
    warehouse = tmp_path / "wh"
    check_unlocked(warehouse)  # no warehouse yet: nothing holds it
    with run_lock(warehouse):
        args = ["run", "--source", str(DEMO), "--warehouse", str(warehouse)]
        code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 1 and err.startswith(f"error: another run is in progress (pid {os.getpid()} ")
    assert err.endswith("; try again later, or pass --wait SECONDS to wait for it.\n")
    assert err.count("\n") == 1
    check_unlocked(warehouse)  # released: a run may start


def test_a_run_that_waits_for_a_held_warehouse_gives_up_before_any_server_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from occupipe.release.lock import run_lock
    from tests.helpers import DEMO

    refuse_server(monkeypatch, "a run that cannot take the lock")
    warehouse = tmp_path / "wh"
    with run_lock(warehouse):
        args = ["run", "--source", str(DEMO), "--warehouse", str(warehouse), "--wait", "0.5"]
        started = time.monotonic()
        code, _, err = run_main(monkeypatch, capsys, *args)
        waited = time.monotonic() - started
    assert code == 1 and err.startswith("error: another run is in progress")
    assert err.endswith("; still held after 0.5 s, try again later.\n") and waited >= 0.5


@pytest.mark.parametrize(
    ("files", "source_name", "message"),
    [
        ([], "in", "holds no record files (.json, .jsonl or .ndjson): nothing to build"),
        (["notes.txt"], "in", "(1 other file ignored): nothing to build"),
        (["notes.txt"], "in/notes.txt", "(1 other file ignored): nothing to build"),
    ],
)
def test_a_source_without_record_files_fails_before_any_server_starts(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    files: list[str],
    source_name: str,
    message: str,
) -> None:

    refuse_server(monkeypatch, "a source with nothing to build")
    (tmp_path / "in").mkdir()
    for name in files:
        (tmp_path / "in" / name).write_text("not a record\n")
    source = tmp_path / source_name
    args = ["run", "--source", str(source), "--warehouse", str(tmp_path / "wh")]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert code == 1 and err.startswith(f"error: {source} holds no record files (.json, ")
    assert err.endswith(f"{message}; nothing was run.\n") and err.count("\n") == 1


@pytest.mark.parametrize("warehouse", [".", "in"])
def test_a_source_inside_the_warehouse_is_a_usage_error_before_any_server_starts(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    warehouse: str,
) -> None:

    refuse_server(monkeypatch, "a source inside the warehouse")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.json").write_text("{}")
    args = ["run", "--source", str(tmp_path / "in"), "--warehouse", str(tmp_path / warehouse)]
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert (code, out) == (2, "")
    assert "keep the source outside the warehouse." in err and err.count("\n") == 1
