"""Bad documents: each is rejected alone with an actionable reason, the rest of its file loads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from occupipe.core.rejection import Rejection
from occupipe.ingest.documents import Extracted, extract_documents
from tests.helpers import REAL, variant

RECORD: dict[str, Any] = json.loads(REAL)


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


def test_a_very_large_section_is_accepted() -> None:
    data = variant("big")
    data["sections"][0]["markdown"] = "word " * 2_000_000  # about 10 MB in one section
    data["sections"][0]["wordCount"] = 2_000_000
    (outcome,) = outcomes(json.dumps(data).encode())
    assert isinstance(outcome, Extracted)


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
