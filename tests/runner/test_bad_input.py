"""Bad input never stops a run or loses a record: each case ends loaded or quarantined."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import stat
import threading
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from occupipe.core.rejection import Rejection, SourceError
from occupipe.core.runs import RunFailed
from occupipe.ingest import cache as cache_module
from occupipe.ingest.batch import read_input, read_to_end, store_rejected_bytes
from occupipe.ingest.documents import Extracted, extract_documents
from occupipe.ingest.tables import TABLES
from occupipe.release.store import current_release
from occupipe.runner import finish as finish_module
from occupipe.warehouse import transform as transform_module
from tests.helpers import SOULS, build, copy_sample, query

REAL = (SOULS / "absurdist.json").read_bytes()
RECORD: dict[str, Any] = json.loads(REAL)


def variant(slug: str, **metadata: Any) -> dict[str, Any]:
    """The real record under another slug, with metadata changes."""
    data: dict[str, Any] = json.loads(REAL)
    data["slug"] = data["metadata"]["slug"] = slug
    data["metadata"].update(metadata)
    return data


def outcomes(raw: bytes, name: str = "in.json") -> list[Extracted | Rejection]:
    return list(extract_documents(raw, name))


@pytest.mark.parametrize(
    ("raw", "stage", "reason"),
    [
        (b"", "read", "file is empty"),
        (REAL[: len(REAL) // 2], "parse", "not valid JSON: EOF while parsing"),
        (b"name,title\nchef,Chef\n", "parse", "not valid JSON"),
        (REAL.replace(b"Absurdist", b"Absurd\xffist", 1), "decode", "not valid UTF-8: byte 0xff"),
        (b"42", "parse", "top-level value is a number, expected an object or an array"),
        (b'"chef"', "parse", "top-level value is a string"),
        (b"null", "parse", "top-level value is null"),
        (b"[" * 100_000 + b"]" * 100_000, "parse", "not valid JSON: depth limit exceeded"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "parse", "not valid JSON: recursion limit"),
        (
            json.dumps(variant("x") | {"extra": json.loads("[" * 300 + "]" * 300)}).encode(),
            "parse",
            "cannot parse: recursion limit exceeded",  # deeper than pydantic's parser goes
        ),
        (json.dumps(variant("x") | {"sections": "text"}).encode(), "validate", "sections: Input"),
        (json.dumps(variant("x") | {"sections": None}).encode(), "validate", "sections: Input"),
        (
            json.dumps({k: v for k, v in RECORD.items() if k != "slug"}).encode(),
            "validate",
            "slug: required field is missing",
        ),
        (json.dumps(variant("Bad Slug")).encode(), "validate", "slug: String should match"),
        (
            json.dumps(variant("x", created="2026-02-30")).encode(),
            "validate",
            "metadata.created: Input should be a valid date",
        ),
        (
            json.dumps(variant("x", status="final")).encode(),
            "validate",
            "metadata.status: must be one of stub, draft, review, stable, found 'final'",
        ),
        (
            json.dumps(variant("x") | {"git": {"revisions": 2**70}}).encode(),
            "validate",
            "git.revisions: Input should be less than or equal to 2147483647",
        ),
        (REAL.replace(b'"Absurdist"', b'"Abs\\ud800urdist"', 1), "parse", "not valid JSON"),
    ],
)
def test_each_kind_of_bad_document_is_rejected_with_an_actionable_reason(
    raw: bytes, stage: str, reason: str
) -> None:
    (outcome,) = outcomes(raw)
    assert isinstance(outcome, Rejection)
    assert outcome.stage == stage
    assert reason in outcome.reason
    assert "\n" not in outcome.reason and len(outcome.reason) < 300
    assert outcome.raw is not None and outcome.content_hash


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    (outcome,) = outcomes(b"\xef\xbb\xbf" + REAL)
    assert isinstance(outcome, Extracted)


def test_an_array_file_yields_each_record_and_quarantines_only_its_bad_items() -> None:
    items = [variant("one"), 7, variant("two", status="final"), variant("three")]
    result = outcomes(json.dumps(items).encode(), "dump.json")
    assert [o.source_file for o in result] == [f"dump.json[{i}]" for i in range(4)]
    assert [type(o).__name__ for o in result] == [
        "Extracted",
        "Rejection",
        "Rejection",
        "Extracted",
    ]
    assert isinstance(result[1], Rejection) and "array item is a number" in result[1].reason


def test_ndjson_lines_are_records_and_a_bad_line_quarantines_only_itself() -> None:
    lines = [json.dumps(variant("one")), "", '{"slug": broken', json.dumps(variant("two"))]
    result = outcomes("\r\n".join(lines).encode(), "feed.jsonl")
    assert [o.source_file for o in result] == ["feed.jsonl:1", "feed.jsonl:3", "feed.jsonl:4"]
    assert [isinstance(o, Extracted) for o in result] == [True, False, True]
    # the line is in the name; the position is the column within it
    assert isinstance(result[1], Rejection) and result[1].reason.endswith("at column 10")


def test_an_undecodable_file_name_is_recorded_readably(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 30)
    (source / os.fsdecode(b"odd\xff name.json")).write_bytes(json.dumps(variant("odd")).encode())
    build(source, tmp_path / "wh")
    rows = query(tmp_path / "wh", "select source_file from occupations where slug = 'odd'")
    assert rows == [("odd\ufffd name.json",)]


def test_a_very_large_section_is_accepted() -> None:
    data = variant("big")
    data["sections"][0]["markdown"] = "word " * 2_000_000  # about 10 MB in one section
    data["sections"][0]["wordCount"] = 2_000_000
    (outcome,) = outcomes(json.dumps(data).encode())
    assert isinstance(outcome, Extracted)


def write(folder: Path, files: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else json.dumps(content).encode()
        (folder / name).write_bytes(data)
    return folder


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


def test_an_unreadable_file_fails_the_run_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = copy_sample(tmp_path / "in", 5)

    os_open = os.open

    def refuse_one(path: str, flags: int, *args: Any, **options: Any) -> int:
        if Path(path).name == "absurdist.json":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return os_open(path, flags, *args, **options)

    # as root, file permissions do not stop a read: `os.open` refuses instead
    monkeypatch.setattr(os, "open", refuse_one)
    with pytest.raises(SourceError, match=r"cannot read .*absurdist.json: Permission denied"):
        build(source, tmp_path / "wh")


@pytest.mark.parametrize(
    ("module", "name", "error"),
    [
        (os, "replace", OSError(errno.EROFS, "Read-only file system")),
        (finish_module, "publish_tables", OSError(errno.ENOSPC, "No space left on device")),
        (cache_module, "store_rejected_bytes", OSError(errno.ENOSPC, "No space left")),
        (transform_module, "measure_betweenness", KeyboardInterrupt()),
    ],
)
def test_environment_faults_leave_the_previous_warehouse_untouched_and_queryable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    name: str,
    error: BaseException,
) -> None:
    source = copy_sample(tmp_path / "in", 5)
    warehouse = tmp_path / "wh"
    build(source, warehouse)
    before = (warehouse / "occupations.duckdb").read_bytes()
    write(source, {"extra.json": variant("extra")})

    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(module, name, broken)
    with pytest.raises(type(error)):
        build(source, warehouse)
    monkeypatch.undo()
    assert (warehouse / "occupations.duckdb").read_bytes() == before
    assert query(warehouse, "select count(*) from occupations") == [(5,)]
    assert list((warehouse / ".build").iterdir()) == []


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


def test_kept_bytes_extract_again_as_the_document_they_were() -> None:
    from occupipe.ingest.documents import extract_kept_document

    files = {
        "lines.jsonl": b"\n".join(
            [b"[1, 2]", b"7", b'{"slug": "cut', json.dumps(variant("a")).encode()]
        ),
        "dump.json": json.dumps([[1, 2], variant("b"), 7, variant("c", status="final")]).encode(),
        "list.json": b"[1, 2",
        "empty.json": b"",
    }
    found = [o for name, raw in files.items() for o in outcomes(raw, name)]
    rejected = [o for o in found if isinstance(o, Rejection)]
    assert len(rejected) == 8
    for first in rejected:
        assert first.raw is not None
        (again,) = extract_kept_document(first.raw, first.source_file)
        assert isinstance(again, Rejection)
        assert (again.source_file, again.stage, again.reason) == (
            first.source_file,
            first.stage,
            first.reason,
        )


@pytest.mark.parametrize(
    ("raw", "name"),
    [(b"[]", "empty-array.json"), (b"\n\n  \n", "blank.jsonl"), (b"[ ]", "spaced.json")],
)
def test_a_file_without_records_is_quarantined_not_lost(raw: bytes, name: str) -> None:
    (outcome,) = outcomes(raw, name)
    assert isinstance(outcome, Rejection)
    assert outcome.source_file == name
    assert outcome.reason in {"file holds no records", "file is empty"}


def test_ndjson_saved_with_a_json_suffix_is_read_line_by_line() -> None:
    lines = [json.dumps(variant("one")), json.dumps(variant("two"))]
    result = outcomes("\n".join(lines).encode(), "dump.json")
    assert [o.source_file for o in result] == ["dump.json:1", "dump.json:2"]
    assert all(isinstance(o, Extracted) for o in result)


def test_a_broken_link_fails_the_run_instead_of_vanishing(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 3)
    (source / "gone.json").symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(SourceError, match=r"cannot read .*gone.json"):
        build(source, tmp_path / "wh")


@pytest.mark.parametrize(
    ("content", "stated_size"),
    [
        (b"", 0),
        (b'{"slug": "a"}', 13),  # the size it was found with
        (b'{"slug": "a"}', 5),  # grown since its size was taken
        (b'{"slug": "a"}', 40),  # shrunk since
        (bytes(range(256)) * 9000, 1000),  # grown past one read's worth
    ],
)
def test_a_file_is_read_whole_whatever_its_size_was_when_found(
    tmp_path: Path, content: bytes, stated_size: int
) -> None:
    path = tmp_path / "record.json"
    path.write_bytes(content)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert read_to_end(fd, stated_size) == content
    finally:
        os.close(fd)


def test_a_named_pipe_called_like_a_record_fails_the_run_at_once(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 3)
    os.mkfifo(source / "pipe.json")
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_input(source / "pipe.json")
        except SourceError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)  # a hang would not stall the suite
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a named pipe waited for a writer"
    assert [str(e) for e in outcome] == [f"cannot read {source / 'pipe.json'}: not a regular file"]
    with pytest.raises(SourceError, match=r"cannot read .*pipe.json: not a regular file"):
        build(source, tmp_path / "wh")
