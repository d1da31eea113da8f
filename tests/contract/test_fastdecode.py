"""The msgspec fast path against the contract: the same fields, and never a record pydantic
would refuse or decode differently (checked on real, demo and generated records)."""

from __future__ import annotations

import copy
import json
from typing import Any, get_args

import msgspec
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from occupipe.contract import fastdecode
from occupipe.contract import record as contract
from occupipe.contract.sections import DEFAULT_SECTIONS_SPEC, read_canonical_headings
from occupipe.ingest.documents import AnyRecord, Extracted, extract_record
from occupipe.ingest.normalize import add_record_rows, build_tables, new_batch
from occupipe.synth.corpus import generate_records
from tests.contract.test_properties import json_values, mutated_documents, parent_of, paths_of
from tests.helpers import DEMO, SEED, SOULS

HEADINGS = read_canonical_headings(DEFAULT_SECTIONS_SPEC)
REAL = [*sorted(SOULS.glob("*.json")), SEED]
SAMPLES = [path.read_bytes() for path in REAL[::20]]
PARTS = [
    cls
    for cls in vars(contract).values()
    if isinstance(cls, type) and issubclass(cls, contract.Part) and cls is not contract.Part
]
# values on which the two decoders are most likely to part ways
TEXTS = [
    "", "a", "2", "a-b", "abc\n", "abc-", "Abc", "stub", "review", "2024-01-05",
    "2024-01-05T00:00:00", "2024-02-30", "20240105",
]  # fmt: skip
TRICKY: list[Any] = [
    None, True, 0, -1, 3.0, 1e400, 2**31 - 1, 2**31, *TEXTS, [], {}, ["a"], [{}], [None],
    {"slug": "a", "type": "related"}, {"name": "x"},
]  # fmt: skip


def table_rows(record: AnyRecord, unknown_fields: tuple[str, ...]) -> dict[str, pa.Table]:
    """Every normalized table's rows for one record (section HTML included)."""
    batch = new_batch()
    item = Extracted(record, "record.json", "hash", unknown_fields)
    add_record_rows(batch, 1, item, HEADINGS, with_html=True)
    return build_tables(batch)


def assert_same_as_pydantic(raw: bytes) -> None:
    """If the fast path accepts `raw`, pydantic accepts it too, with the same rows."""
    decoded = fastdecode.decode_record(raw)
    if decoded is None:
        return
    try:
        model = contract.Record.model_validate_json(raw)
    except ValidationError as exc:
        pytest.fail(f"fast path accepted what the contract refuses: {exc}")
    unknown = tuple(contract.collect_unknown_fields(model))
    assert decoded[1] == unknown
    fast_tables, model_tables = table_rows(*decoded), table_rows(model, unknown)
    for name, table in model_tables.items():
        assert fast_tables[name].equals(table), name


def test_every_part_of_the_contract_has_a_derived_struct() -> None:
    assert set(fastdecode.STRUCTS) == set(PARTS)


@pytest.mark.parametrize("model", PARTS, ids=lambda cls: cls.__name__)
def test_every_part_of_the_contract_has_a_struct_with_the_same_fields(
    model: type[BaseModel],
) -> None:
    struct = fastdecode.STRUCTS[model]
    fields = {f.name: f for f in msgspec.structs.fields(struct)}
    extra = {"timeline"} if model is contract.Git else set()
    assert set(fields) == set(model.model_fields) | extra
    for name, info in model.model_fields.items():
        mirror = fields[name]
        assert mirror.required == info.is_required(), name
        if not info.is_required():
            factory = mirror.default is msgspec.NODEFAULT
            default = mirror.default_factory() if factory else mirror.default
            expected = info.get_default(call_default_factory=True)
            assert type(default).__name__ == type(expected).__name__, name
            if not isinstance(expected, BaseModel):
                assert default == expected, name
        nullable = type(None) in get_args(info.annotation)
        assert (type(None) in get_args(mirror.type)) == nullable, name


def test_the_struct_statuses_are_the_contracts() -> None:
    fields = msgspec.structs.fields(fastdecode.STRUCTS[contract.Metadata])
    (status,) = (f.type for f in fields if f.name == "status")
    assert get_args(status) == contract.STATUSES


def test_every_real_record_takes_the_fast_path_with_the_same_rows() -> None:
    raws = [path.read_bytes() for path in REAL]
    refused = [path.name for path, raw in zip(REAL, raws, strict=True) if not is_fast(raw)]
    assert refused == []
    for raw in raws:
        assert_same_as_pydantic(raw)


def test_demo_records_give_the_same_rows_either_way() -> None:
    for path in sorted(DEMO.rglob("*.json")):
        raw = path.read_bytes()
        if raw.lstrip()[:1] == b"{":
            assert_same_as_pydantic(raw)


def is_fast(raw: bytes) -> bool:
    return fastdecode.decode_record(raw) is not None


def changed(raw: bytes, path: tuple[Any, ...], value: Any) -> bytes:
    """A record with the value at `path` replaced (added, if the last step is a new key)."""
    data = json.loads(raw)
    parent_of(data, path)[path[-1]] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("path", "value", "fast", "contract_accepts"),
    [
        (("slug",), "devops-engineer\n", False, False),  # re's `$` would match before "\n"
        (("metadata", "status"), "retired", False, False),
        (("metadata", "created"), "2024-01-05T00:00:00", False, True),  # pydantic is laxer
        (("computed", "readingTimeMinutes"), 1e400, False, True),  # out of a double's range
        (("metadata", "audience"), "all", False, True),  # unknown: pydantic counts it
        (("git", "timeline"), [{"date": "2024-01-05"}], True, True),  # the tolerated drift
        (("sections", 0, "wordCount"), 3.0, False, False),
        (("synthetic",), 1, False, False),
    ],
)
def test_what_the_fast_path_refuses_goes_to_pydantic(
    path: tuple[Any, ...], value: Any, fast: bool, contract_accepts: bool
) -> None:
    raw = changed(SEED.read_bytes(), path, value)
    assert is_fast(raw) == fast
    outcome = extract_record(raw, "record.json")
    assert isinstance(outcome, Extracted) == contract_accepts
    if isinstance(outcome, Extracted):
        assert isinstance(outcome.record, fastdecode.Record) == fast
        drift = {"git.timeline"} | ({"metadata.audience"} if "audience" in path else set())
        assert set(outcome.unknown_fields) == drift  # the seed record carries git.timeline
    assert_same_as_pydantic(raw)


def tricky_values() -> st.SearchStrategy[Any]:
    """One of TRICKY, as a copy: a drawn list or object is changed in place by later steps,
    and changing TRICKY's own made the strategy depend on earlier examples (Hypothesis refused
    it) and could put an object inside itself."""
    return st.sampled_from(TRICKY).map(copy.deepcopy)


def near_values(current: Any) -> st.SearchStrategy[Any]:
    """Values like `current` (its type, null, an edge of its range) or tricky ones."""
    tricky = tricky_values()
    if isinstance(current, bool):
        return st.booleans() | st.none() | tricky
    if isinstance(current, int):
        return st.integers(-2, 2**31 + 2) | st.floats(0, 1e6) | st.none() | tricky
    if isinstance(current, float):
        return st.floats(allow_nan=False) | st.integers(0, 100) | st.none() | tricky
    if isinstance(current, str):
        return st.text(max_size=12) | st.sampled_from(TEXTS) | st.none() | tricky
    if isinstance(current, list):
        return st.just(current[:1] * 2) | st.just([]) | st.none() | tricky
    return json_values | tricky


@st.composite
def records_with_tricky_values(draw: st.DrawFn) -> bytes:
    """A real record with one or two values replaced, removed or added."""
    data = json.loads(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(paths_of(data)))
        parent = parent_of(data, path)
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            key = draw(st.sampled_from(["timeline", "note", "url", "kind", "date", "html"]))
            parent[key] = draw(tricky_values())
        else:
            parent[path[-1]] = draw(near_values(parent[path[-1]]))
    return json.dumps(data).encode()


@settings(max_examples=400, deadline=None)
@given(raw=records_with_tricky_values())
def test_the_fast_path_never_accepts_more_or_decodes_differently(raw: bytes) -> None:
    assert_same_as_pydantic(raw)


@settings(max_examples=150, deadline=None)
@given(raw=mutated_documents())
def test_the_fast_path_agrees_with_pydantic_on_damaged_bytes(raw: bytes) -> None:
    assert_same_as_pydantic(raw.removeprefix(b"\xef\xbb\xbf"))


def test_the_fast_path_is_taken_by_generated_records() -> None:
    raws = [json.dumps(record).encode() for record in generate_records(60, seed=7)]
    taken = sum(is_fast(raw) for raw in raws)
    assert taken >= len(raws) * 0.8  # the rest carry deliberate drift or faults
    for raw in raws:
        assert_same_as_pydantic(raw)
