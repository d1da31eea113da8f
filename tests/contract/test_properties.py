"""Property-based: mutated real records and raw bytes never crash extraction or a run,
the counts always add up, and every valid record is loaded."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from occupipe.contract.record import Record
from occupipe.core.rejection import Rejection
from occupipe.ingest.documents import Extracted, extract_documents
from tests.helpers import SOULS, build

SAMPLES = [p.read_bytes() for p in sorted(SOULS.glob("*.json"))[::30]]
STAGES = {"read", "decode", "parse", "validate"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (limited to the first list items)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths_of(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:2]):
            found += paths_of(child, (*prefix, index))
    return found


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    """The list or object that holds the value at `path` in a JSON document."""
    for step in path[:-1]:
        data = data[step]
    return data


@st.composite
def mutated_documents(draw: st.DrawFn) -> bytes:
    """A real record, changed at random in its structure and then in its bytes."""
    data = json.loads(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(paths_of(data)))
        parent = parent_of(data, path)
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    raw = json.dumps(data).encode()
    operation = draw(st.sampled_from(["none", "truncate", "insert", "flip", "bom", "wrap", "deep"]))
    if operation == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif operation == "insert":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    elif operation == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1 :]
    elif operation == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif operation == "wrap":
        raw = b"[" + raw + b"," + draw(st.sampled_from(SAMPLES)) + b"]"
    elif operation == "deep":
        depth = draw(st.integers(100, 5000))
        raw = raw[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    return raw


def is_valid(raw: bytes) -> bool:
    """The oracle: does the contract accept these bytes as one record?"""
    try:
        Record.model_validate_json(raw.removeprefix(b"\xef\xbb\xbf"))
    except ValidationError:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(raw=mutated_documents())
def test_extraction_never_raises_and_accepts_every_valid_record(raw: bytes) -> None:
    outcomes = list(extract_documents(raw, "mutated.json"))
    assert outcomes, "every input ends somewhere"
    for outcome in outcomes:
        assert isinstance(outcome, Extracted | Rejection)
        if isinstance(outcome, Rejection):
            assert outcome.stage in STAGES
            assert outcome.reason and "\n" not in outcome.reason
            assert outcome.raw is not None
    if is_valid(raw):
        assert [type(o) for o in outcomes] == [Extracted]


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_are_rejected_or_extracted_never_raised(raw: bytes) -> None:
    outcomes = list(extract_documents(raw, "noise.jsonl" if raw[:1] == b"{" else "noise.json"))
    assert all(isinstance(o, Extracted | Rejection) for o in outcomes)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(mutated_documents(), min_size=1, max_size=8))
def test_a_run_over_mutated_files_accounts_for_every_input(documents: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in"
        source.mkdir()
        for index, raw in enumerate(documents):
            (source / f"doc-{index:02d}.json").write_bytes(raw)
        (source / "notes.txt").write_text("ignored")
        summary = build(source, Path(tmp) / "wh", max_reject_rate=1.0)
        assert summary.loaded + summary.rejected + summary.ignored == summary.inputs
        assert summary.ignored == 1
        valid_slugs = {
            Record.model_validate_json(raw.removeprefix(b"\xef\xbb\xbf")).slug
            for raw in documents
            if is_valid(raw)
        }
        with duckdb.connect(str(Path(tmp) / "wh" / "occupations.duckdb"), read_only=True) as con:
            loaded = {row[0] for row in con.execute("select slug from occupations").fetchall()}
            quarantined = con.execute("select count(*) from quarantine").fetchone()
        assert valid_slugs <= loaded
        assert quarantined is not None and quarantined[0] == summary.rejected
