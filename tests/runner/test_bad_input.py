"""Bad input never stops a run or loses a record: each case ends loaded or quarantined."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from occupipe.core.rejection import Rejection
from occupipe.core.runs import RunFailed
from occupipe.ingest import cache as cache_module
from occupipe.ingest.batch import store_rejected_bytes
from occupipe.ingest.tables import TABLES
from occupipe.release.store import current_release
from tests.helpers import build, copy_sample, query, variant, write


def test_an_undecodable_file_name_is_recorded_readably(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 30)
    (source / os.fsdecode(b"odd\xff name.json")).write_bytes(json.dumps(variant("odd")).encode())
    build(source, tmp_path / "wh")
    rows = query(tmp_path / "wh", "select source_file from occupations where slug = 'odd'")
    assert rows == [("odd\ufffd name.json",)]


def test_every_input_is_loaded_quarantined_or_ignored_and_the_counts_add_up(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 30)
    write(
        source,
        {
            "NOTES.txt": b"not a record",
            "broken.json": b'{"slug": ',
            "pair.json": [variant("pair-one"), variant("pair-two")],
            "lines.jsonl": b"\n".join(json.dumps(variant(f"line-{i}")).encode() for i in range(3)),
        },
    )
    summary = build(source, tmp_path / "wh", max_reject_rate=0.1)
    assert (summary.loaded, summary.rejected, summary.ignored) == (35, 1, 1)
    assert summary.loaded + summary.rejected + summary.ignored == summary.inputs == 37
    counts = dict(query(tmp_path / "wh", "select outcome, inputs from run_inputs"))
    assert counts == {"loaded": 35, "quarantined": 1, "ignored": 1}
    assert query(tmp_path / "wh", "select source_file from occupations where slug = 'line-2'") == [
        ("lines.jsonl:3",)
    ]


def test_quarantined_bytes_are_kept_with_the_warehouse(tmp_path: Path) -> None:
    source = write(copy_sample(tmp_path / "in", 30), {"broken.json": b'{"slug": '})
    summary = build(source, tmp_path / "wh")
    ((content_hash,),) = query(tmp_path / "wh", "select content_hash from quarantine")
    assert (tmp_path / "wh" / "quarantine" / f"{content_hash}.raw").read_bytes() == b'{"slug": '
    assert [r.raw for r in summary.rejections] == [None]  # stored where read, not carried


def test_a_batch_restored_from_the_cache_copies_its_rejected_bytes_into_the_quarantine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write(copy_sample(tmp_path / "in", 30), {"broken.json": b'{"slug": '})
    build(source, tmp_path / "wh")
    ((content_hash,),) = query(tmp_path / "wh", "select content_hash from quarantine")
    kept = tmp_path / "wh" / "quarantine" / f"{content_hash}.raw"
    kept.unlink()

    def no_extraction(*args: object) -> None:
        raise AssertionError("every batch should come from the cache")

    monkeypatch.setattr(cache_module, "process_batch", no_extraction)
    again = build(source, tmp_path / "wh", as_of=dt.date(2026, 7, 1))  # a new build, same files
    assert again.unchanged_since is None and again.rejected == 1
    assert [r.raw for r in again.rejections] == [None]
    assert kept.read_bytes() == b'{"slug": '
    assert kept.stat().st_nlink == 1  # a file of its own: releases never share the cache's


def test_a_failed_build_never_makes_the_cached_rejected_bytes_read_only(tmp_path: Path) -> None:
    source = write(copy_sample(tmp_path / "in", 30), {"broken.json": b'{"slug": '})
    build(source, tmp_path / "wh")
    with pytest.raises(RunFailed):  # every batch restored from the cache, then a gate fails
        build(source, tmp_path / "wh", as_of=dt.date(2026, 7, 1), strict=True)
    cached = list((tmp_path / "wh" / ".cache").rglob("*.raw"))
    assert len(cached) == 1 and cached[0].stat().st_mode & stat.S_IWUSR  # (root ignores modes)


def test_rejected_bytes_are_stored_by_content_hash_and_dropped_from_the_rejection(
    tmp_path: Path,
) -> None:
    rejections = [
        Rejection("a.json", "parse", "not valid JSON", "h1", b"{"),
        Rejection("b.json", "fetch", "HTTP 500", None),  # nothing was read: nothing to keep
    ]
    light = store_rejected_bytes(rejections, tmp_path / "quarantine")
    assert light == rejections  # the same rejections (bytes are not compared)
    assert [r.raw for r in light] == [None, None]
    assert [p.name for p in (tmp_path / "quarantine").iterdir()] == ["h1.raw"]
    assert (tmp_path / "quarantine" / "h1.raw").read_bytes() == b"{"


def test_unknown_enum_values_are_loaded_and_flagged_by_a_warn_test(tmp_path: Path) -> None:
    source = write(copy_sample(tmp_path / "in", 30), {"alien.json": variant("alien", kind="alien")})
    summary = build(source, tmp_path / "wh")
    assert summary.rejected == 0
    flagged = {r.name: r.failures for r in summary.test_results if not r.passed}
    assert flagged.get("accepted_values_occupations_kind") == 1


def test_texts_longer_than_the_upstream_schema_allows_are_loaded_and_flagged(
    tmp_path: Path,
) -> None:
    wordy = variant("wordy", title="T" * 81, summary="S" * 321)
    wordy["metadata"]["related"] = [{"slug": "absurdist", "type": "related", "note": "N" * 161}]
    source = write(copy_sample(tmp_path / "in", 30), {"wordy.json": wordy})
    summary = build(source, tmp_path / "wh")
    assert summary.rejected == 0
    flagged = {r.name: r.failures for r in summary.test_results if not r.passed}
    assert {name: n for name, n in flagged.items() if "max_length" in name} == {
        "expression_stg_occupations_metadata_title_within_upstream_max_length": 1,
        "expression_stg_occupations_summary_within_upstream_max_length": 1,
        "expression_stg_relationships_note_within_upstream_max_length": 1,
    }
    assert all(r.severity == "warn" for r in summary.test_results if "max_length" in r.name)


def test_unknown_fields_are_recorded_in_schema_drift_with_first_seen(tmp_path: Path) -> None:
    drifting = variant("drifting")
    drifting["metadata"]["audience"] = "analysts"
    source = write(copy_sample(tmp_path / "in", 30), {"drifting.json": drifting})
    build(source, tmp_path / "wh")
    rows = query(tmp_path / "wh", "select * from schema_drift order by field_path")
    first_run = rows[0][2]
    assert [(r[0], r[1]) for r in rows] == [("git.timeline", 31), ("metadata.audience", 1)]
    build(source, tmp_path / "wh")  # a second run keeps the first sighting
    assert query(tmp_path / "wh", "select distinct first_seen_run from schema_drift") == [
        (first_run,)
    ]


def test_too_many_rejects_fail_the_run_and_keep_the_previous_warehouse(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 30)
    build(source, tmp_path / "wh")
    before = (tmp_path / "wh" / "occupations.duckdb").read_bytes()
    write(source, {f"bad-{i}.json": b"{" for i in range(3)})  # 3 of 33 = 9% > 5%
    with pytest.raises(RunFailed, match=r"3 of 33 inputs \(9.1%\) were quarantined, above"):
        build(source, tmp_path / "wh")
    assert (tmp_path / "wh" / "occupations.duckdb").read_bytes() == before
    assert build(source, tmp_path / "wh", max_reject_rate=0.1).rejected == 3


def test_strict_fails_on_any_quarantine(tmp_path: Path) -> None:
    source = write(copy_sample(tmp_path / "in", 30), {"bad.json": b"{"})
    with pytest.raises(RunFailed, match="--strict allows none"):
        build(source, tmp_path / "wh", strict=True)


def test_replay_loads_kept_inputs_that_pass_after_the_contract_is_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from occupipe.contract import record as contract
    from occupipe.runner.replay import replay_quarantine
    from tests.helpers import options_for

    source = write(
        copy_sample(tmp_path / "in", 30),
        {"final.json": variant("finished", status="final"), "broken.json": b"{"},
    )
    warehouse = tmp_path / "wh"
    first = build(source, warehouse, max_reject_rate=0.1)
    assert (first.loaded, first.rejected) == (30, 2)
    shutil.rmtree(source)  # replay needs no source: the bytes are kept with the warehouse
    before = {t.name: pq.read_table(warehouse / "parquet" / f"{t.name}.parquet") for t in TABLES}

    # the data tests' accepted statuses are the contract's: one change fixes both
    monkeypatch.setattr(contract, "STATUSES", (*contract.STATUSES, "final"))

    summary = replay_quarantine(options_for(source, warehouse))
    assert (summary.loaded, summary.rejected, summary.ignored) == (31, 1, 0)
    assert query(warehouse, "select source_file from occupations where slug = 'finished'") == [
        ("final.json",)
    ]
    assert query(warehouse, "select source_file, stage from quarantine") == [
        ("broken.json", "parse")
    ]
    for table, rows in before.items():  # carried rows keep their published order
        after = pq.read_table(warehouse / "parquet" / f"{table}.parquet").to_pylist()
        assert [r for r in after if r["slug"] != "finished"] == rows.to_pylist(), table
    assert dict(query(warehouse, "select outcome, inputs from run_inputs")) == {
        "loaded": 31,
        "quarantined": 1,
        "ignored": 0,
    }
    # a second replay recovers nothing (the broken file fails as before): no new release
    again = replay_quarantine(options_for(source, warehouse))
    assert (again.unchanged_since, again.loaded, again.rejected) == (summary.run_id, 31, 1)
    assert current_release(warehouse) == summary.run_id


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b'{"slug": "cut', " at column "),  # broken, and stays so
        (b"[1, 2]", "top-level value is an array, expected an object"),  # never split on replay
        (b"7", "top-level value is a number, expected an object"),
    ],
)
def test_a_replay_that_recovers_no_ndjson_line_publishes_nothing(
    tmp_path: Path, bad: bytes, reason: str
) -> None:
    from occupipe.runner.replay import replay_quarantine
    from tests.helpers import minimal_record, options_for

    lines = [json.dumps(minimal_record(slug=f"line-{n}")).encode() for n in range(3)]
    lines.insert(1, bad)  # line 2
    source = write(copy_sample(tmp_path / "in", 30), {"batch.jsonl": b"\n".join(lines)})
    warehouse = tmp_path / "wh"
    first = build(source, warehouse, max_reject_rate=0.1)
    (found,) = [r.reason for r in first.rejections if r.source_file == "batch.jsonl:2"]
    assert reason in found
    for _ in range(2):
        again = replay_quarantine(options_for(source, warehouse))
        assert (again.unchanged_since, again.rejected) == (first.run_id, first.rejected)
    assert current_release(warehouse) == first.run_id
