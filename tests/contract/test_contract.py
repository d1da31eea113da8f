"""The record contract: real records load, drift is kept and counted, essentials enforced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from occupipe.contract.record import Record, collect_unknown_fields
from occupipe.ingest.documents import describe_validation_error
from tests.helpers import SEED, SOULS, minimal_record


def load(path: Any) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_seed_record_loads_despite_its_older_shape() -> None:
    record = Record.model_validate_json(SEED.read_bytes())
    assert record.slug == "devops-engineer"
    assert record.computed.federated is None  # the seed predates computed.federated
    assert record.citation is not None
    assert len(record.sections) == 20


def test_every_sample_record_loads() -> None:
    records = [Record.model_validate_json(p.read_bytes()) for p in sorted(SOULS.glob("*.json"))]
    assert len(records) == 182
    assert sum(r.metadata.source is not None for r in records) == 11


def test_unknown_fields_are_kept_and_listed_with_their_path() -> None:
    data = minimal_record(extra_top=1)
    data["metadata"]["audience"] = "analysts"
    data["metadata"]["reviewers"] = [{"name": "A. Reviewer", "orcid": "0000"}]
    data["metadata"]["source"] = {"origin": "elsewhere", "mirror": "m"}
    data["git"] = {"authors": [{"name": "a", "email": "a@example.org"}], "branch": "main"}
    data["sections"] = [
        {"heading": "Purpose", "id": "purpose", "markdown": "x", "wordCount": 1, "tone": "dry"}
    ]
    record = Record.model_validate(data)
    assert sorted(collect_unknown_fields(record)) == [
        "extra_top",
        "git.authors[].email",
        "git.branch",
        "metadata.audience",
        "metadata.reviewers[].orcid",
        "metadata.source.mirror",
        "sections[].tone",
    ]
    assert record.metadata.model_extra == {"audience": "analysts"}


def test_git_timeline_of_real_records_is_recorded_as_drift() -> None:
    record = Record.model_validate(load(SOULS / "animator.json"))
    assert collect_unknown_fields(record) == ["git.timeline"]


def test_missing_kind_is_accepted() -> None:
    record = Record.model_validate(minimal_record())
    assert record.metadata.kind is None


@pytest.mark.parametrize(
    ("change", "expected_reason"),
    [
        ({"slug": "Not A Slug"}, "slug: String should match pattern"),
        ({"slug": None}, "slug: Input should be a valid string"),
        ({"title": ""}, "title: String should have at least 1 character"),
        ({"sections": "Purpose"}, "sections: Input should be a valid list"),
        ({"sections": None}, "sections: Input should be a valid list"),
        ({"metadata": {"title": "T", "slug": "t", "category": "Law"}}, "metadata.status: required"),
        (
            {"metadata": {"title": "T", "slug": "t", "category": "Law", "status": "final"}},
            "metadata.status: must be one of stub, draft, review, stable, found 'final'",
        ),
    ],
)
def test_what_reports_depend_on_is_validated_with_a_clear_reason(
    change: dict[str, Any], expected_reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Record.model_validate(minimal_record(**change))
    assert describe_validation_error(caught.value).startswith(expected_reason)


def test_missing_top_level_fields_are_named() -> None:
    data = minimal_record()
    del data["sections"]
    with pytest.raises(ValidationError) as caught:
        Record.model_validate(data)
    assert describe_validation_error(caught.value) == "sections: required field is missing"


def section(**changes: Any) -> dict[str, Any]:
    return {"heading": "Purpose", "id": "purpose", "markdown": "x", "wordCount": 1, **changes}


@pytest.mark.parametrize(
    ("change", "expected_reason"),
    [
        ({"sections": [section(wordCount=True)]}, "sections.0.wordCount: Input should be a valid"),
        ({"sections": [section(wordCount="2")]}, "sections.0.wordCount: Input should be a valid"),
        ({"sections": [section(wordCount=2.0)]}, "sections.0.wordCount: Input should be a valid"),
        ({"computed": {"verified": "yes"}}, "computed.verified: Input should be a valid boolean"),
        ({"computed": {"completeness": "0.5"}}, "computed.completeness: Input should be a valid"),
    ],
)
def test_values_are_json_typed_as_the_upstream_schema_not_coerced(
    change: dict[str, Any], expected_reason: str
) -> None:
    # through JSON, as records arrive: `true` is not a count, "2" not a number
    raw = json.dumps(minimal_record(**change)).encode()
    with pytest.raises(ValidationError) as caught:
        Record.model_validate_json(raw)
    assert describe_validation_error(caught.value).startswith(expected_reason)
