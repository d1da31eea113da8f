"""The CLI's releases, rollback, gc, quarantine and replay commands on built warehouses."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.helpers import invoke, refuse_server


def test_quarantine_lists_each_rejected_input_with_stage_and_reason(tmp_path: Path) -> None:
    from tests.helpers import build, copy_sample

    source = copy_sample(tmp_path / "in", 30)
    (source / "broken.json").write_text("{")
    build(source, tmp_path / "wh")
    code, out, _ = invoke("quarantine", "-f", "json", "--warehouse", str(tmp_path / "wh"))
    assert code == 0
    (row,) = json.loads(out)
    assert (row["source_file"], row["stage"]) == ("broken.json", "parse")
    assert row["reason"].startswith("not valid JSON")


def test_a_long_quarantine_table_is_cut_at_the_limit_and_says_so(tmp_path: Path) -> None:
    from tests.helpers import build, copy_sample

    source = copy_sample(tmp_path / "in", 5)
    for n in range(3):
        (source / f"broken-{n}.json").write_text("{")
    build(source, tmp_path / "wh", max_reject_rate=1.0)
    warehouse = str(tmp_path / "wh")
    code, out, err = invoke("quarantine", "--limit", "2", "--warehouse", warehouse)
    assert code == 0 and "broken-1.json" in out and "broken-2.json" not in out
    assert "showing the first 2 rows; use --limit or --format csv for more" in err
    code, out, _ = invoke("quarantine", "-f", "csv", "--limit", "2", "--warehouse", warehouse)
    assert len(list(csv.DictReader(io.StringIO(out)))) == 3  # csv: every row


def test_releases_rollback_and_gc_from_the_command_line(tmp_path: Path) -> None:
    from tests.helpers import SOULS, build

    source = tmp_path / "in"
    source.mkdir()
    paths = sorted(SOULS.glob("*.json"))
    warehouse = tmp_path / "wh"
    ids = []
    for extra in range(3):
        (source / paths[30 + extra].name).write_bytes(paths[30 + extra].read_bytes())
        for path in paths[:30]:
            (source / path.name).write_bytes(path.read_bytes())
        ids.append(build(source, warehouse).run_id)
    code, out, _ = invoke("releases", "-f", "json", "--warehouse", str(warehouse))
    listed = json.loads(out)
    assert code == 0 and [r["release"] for r in listed] == ids
    assert [r["current"] for r in listed] == ["", "", "*"]
    code, out, _ = invoke("gc", "--keep", "1", "--warehouse", str(warehouse))
    assert code == 0 and out.strip() == f"removed 1 release(s): {ids[0]}"
    code, out, _ = invoke("rollback", "--warehouse", str(warehouse))
    assert code == 0 and f"rolled back from {ids[2]} to {ids[1]}" in out
    code, out, _ = invoke("rollback", ids[2], "--warehouse", str(warehouse))
    assert code == 0 and f"rolled forward from {ids[1]} to {ids[2]}" in out
    code, out, _ = invoke("rollback", "--warehouse", str(warehouse))
    assert code == 0 and f"rolled back from {ids[2]} to {ids[1]}" in out
    code, _, err = invoke("rollback", "nope", "--warehouse", str(warehouse))
    assert code == 1 and f"error: there is no release nope in {warehouse}." in err
    code, out, _ = invoke("report", "health_dora", "-f", "json", "--warehouse", str(warehouse))
    assert json.loads(out)[0]["change_failure_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert json.loads(out)[0]["unrestored_failures"] == 0


@pytest.mark.parametrize(
    ("command", "function", "message"),
    [
        (["rollback"], "rollback", "cannot roll back in"),
        (["gc", "--keep", "1"], "collect_garbage", "cannot remove releases in"),
    ],
)
def test_a_read_only_warehouse_stops_rollback_and_gc_with_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], function: str, message: str
) -> None:
    from pipelines.cli import releases

    (tmp_path / "wh" / "releases").mkdir(parents=True)

    def refuse(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted", str(tmp_path / "wh" / "current"))

    monkeypatch.setattr(releases, function, refuse)
    code, _, err = invoke(*command, "--warehouse", str(tmp_path / "wh"))
    assert code == 1
    assert err.startswith(f"error: {message} {tmp_path / 'wh'}: Operation not permitted (")
    assert err.count("\n") == 1


def test_the_quarantine_of_a_release_that_failed_its_gate_can_be_listed(tmp_path: Path) -> None:
    from occupipe.core.runs import RunFailed
    from tests.helpers import build, copy_sample

    source = copy_sample(tmp_path / "in", 3)
    (source / "broken.json").write_text("{nope")
    (source / "typed.json").write_text('{"slug": 5}')
    warehouse = tmp_path / "wh"
    with pytest.raises(RunFailed, match=r"all of them: occupipe quarantine --release \S+;?") as e:
        build(source, warehouse, strict=True)
    release = str(e.value).split("--release ")[1].split(";")[0]
    code, out, err = invoke(
        "quarantine", "--release", release, "--warehouse", str(warehouse), "-f", "json"
    )
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert [(r["source_file"], r["stage"]) for r in rows] == [
        ("broken.json", "parse"),
        ("typed.json", "validate"),
    ]
    assert all(r["reason"] and len(r["content_hash"]) == 64 for r in rows)
    code, _, err = invoke("quarantine", "--release", "nope", "--warehouse", str(warehouse))
    assert code == 1 and "there is no release nope" in err


def test_a_replay_with_nothing_quarantined_says_so_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.helpers import build, copy_sample

    refuse_server(monkeypatch, "a replay with nothing to do")
    warehouse = tmp_path / "wh"
    build(copy_sample(tmp_path / "in", 3), warehouse)
    code, out, err = invoke("replay", "--warehouse", str(warehouse))
    assert (code, err) == (0, "")
    assert out == "nothing is quarantined in the published warehouse: nothing to replay\n"
