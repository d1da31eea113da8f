"""The synthetic corpus: deterministic, valid against the contract, and covering every case."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from occupipe.contract.record import (
    CATEGORIES,
    KINDS,
    PROVENANCES,
    RELATIONSHIP_TYPES,
    STATUSES,
    Record,
    collect_unknown_fields,
)
from occupipe.contract.wordcount import count_words
from occupipe.core.settings import PROJECT_DIR
from occupipe.synth.corpus import generate_records, write_corpus

COUNT = 120
REFERENCE_DATE = dt.date(2026, 6, 26)
SPEC = json.loads(
    (PROJECT_DIR / "src" / "occupipe" / "contract" / "sections.json").read_text(encoding="utf-8")
)
CANONICAL = [s["heading"] for s in SPEC["sections"]]
REQUIRED = {s["heading"]: s["minWords"] for s in SPEC["sections"] if s["required"]}

Records = list[dict[str, Any]]
Case = Callable[[Any], bool]


@pytest.fixture(scope="module")
def records() -> Records:
    return list(generate_records(COUNT))


@pytest.fixture(scope="module")
def authored(records: Records) -> Records:
    return [r for r in records if not is_federated(r)]


def is_federated(record: dict[str, Any]) -> bool:
    return "source" in record["metadata"]


def dump(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def staleness_age(record: dict[str, Any]) -> int:
    """Days from last_reviewed (else updated) to the reference date."""
    meta = record["metadata"]
    day = dt.date.fromisoformat(meta["last_reviewed"] or meta["updated"])
    return (REFERENCE_DATE - day).days


def section_words(record: dict[str, Any]) -> dict[str, int]:
    return {s["heading"]: s["wordCount"] for s in record["sections"]}


# --- determinism -----------------------------------------------------------------------------


def test_two_runs_give_the_same_bytes_even_in_another_process(records: Records) -> None:
    script = (
        "import hashlib, sys; from occupipe.synth.corpus import generate_records, dump_record; "
        "records = generate_records(int(sys.argv[1])); "
        "print(hashlib.sha256(b''.join(map(dump_record, records))).hexdigest())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(COUNT)],
        cwd=PROJECT_DIR,
        env={**os.environ, "PYTHONHASHSEED": "12345"},  # set iteration order must not leak
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == hashlib.sha256(b"".join(map(dump, records))).hexdigest()


def test_repeated_runs_in_one_process_agree() -> None:
    assert [dump(r) for r in generate_records(5)] == [dump(r) for r in generate_records(5)]


def test_a_different_seed_gives_a_different_corpus() -> None:
    assert list(generate_records(5, seed=7)) != list(generate_records(5, seed=8))


def test_zero_records_is_an_empty_corpus_and_a_negative_count_is_refused() -> None:
    assert list(generate_records(0)) == []
    with pytest.raises(ValueError, match="count"):
        list(generate_records(-1))


# --- the contract and the record shape -------------------------------------------------------


def test_every_record_validates_against_the_contract_and_is_marked_synthetic(
    records: Records,
) -> None:
    assert len(records) == COUNT
    for record in records:
        assert Record.model_validate(record).synthetic is True
        assert record["synthetic"] is True


def test_slugs_are_unique_and_agree_with_metadata_and_title(records: Records) -> None:
    assert len({r["slug"] for r in records}) == COUNT
    for record in records:
        assert record["metadata"]["slug"] == record["slug"]
        assert record["metadata"]["title"] == record["title"]
        assert record["citation"]["bibtex"].startswith(f"@misc{{soulatlas-{record['slug']},")


def test_authored_records_use_canonical_headings_in_order(authored: Records) -> None:
    for record in authored:
        positions = [CANONICAL.index(h) for h in section_words(record) if h in CANONICAL]
        assert positions == sorted(positions)
        assert positions, record["slug"]


def test_section_ids_are_slugified_headings_and_html_starts_with_the_heading(
    records: Records,
) -> None:
    ids = {s["heading"]: s["id"] for r in records for s in r["sections"]}
    assert ids["Questions Experts Constantly Ask"] == "questions-experts-constantly-ask"
    assert ids["Anti-patterns"] == "anti-patterns"
    assert ids["1. Voice & Tone"] == "1-voice--tone"
    for section in (s for r in records for s in r["sections"]):
        assert section["html"].startswith(f'<h2 id="{section["id"]}">')


def test_federated_records_are_agent_personas_with_free_form_headings(records: Records) -> None:
    federated = [r for r in records if is_federated(r)]
    assert federated
    for record in federated:
        assert record["metadata"]["kind"] == "agent-persona"
        assert record["metadata"]["source"]["origin"]
        assert record["computed"]["completeness"] == 1
        assert record["computed"]["federated"] is True
        assert not set(section_words(record)) <= set(CANONICAL)


def test_typical_authored_records_weigh_20_to_60_kb(authored: Records) -> None:
    complete = [len(dump(r)) for r in authored if r["computed"]["completeness"] == 1]
    assert complete
    assert all(20_000 <= size <= 60_000 for size in complete)
    assert 20_000 <= statistics.median(len(dump(r)) for r in authored) <= 60_000


# --- coverage: every case the reports must handle occurs ---------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_occurs(records: Records, status: str) -> None:
    assert any(r["metadata"]["status"] == status for r in records)


@pytest.mark.parametrize("provenance", [*PROVENANCES, None])
def test_every_provenance_occurs_and_some_records_have_none(
    records: Records, provenance: str | None
) -> None:
    assert any(r["metadata"].get("provenance") == provenance for r in records)


@pytest.mark.parametrize("kind", [*KINDS, None])
def test_every_kind_occurs_and_some_records_have_no_kind_key(
    records: Records, kind: str | None
) -> None:
    assert any(r["metadata"].get("kind") == kind for r in records)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_occurs(records: Records, category: str) -> None:
    assert any(r["metadata"]["category"] == category for r in records)


def test_some_records_have_the_older_shape_without_computed_federated(records: Records) -> None:
    assert any("federated" not in r["computed"] for r in records)
    assert any("federated" in r["computed"] for r in records)


@pytest.mark.parametrize(
    ("label", "is_case"),
    [
        ("stale", lambda age: age > 365),
        ("fresh", lambda age: age <= 365),
        ("fresh on the 365-day boundary", lambda age: age == 365),
        ("stale by one day", lambda age: age == 366),
    ],
)
def test_stale_and_fresh_records_occur(authored: Records, label: str, is_case: Case) -> None:
    assert any(is_case(staleness_age(r)) for r in authored), label


def test_staleness_is_decided_by_last_reviewed_when_set(authored: Records) -> None:
    assert any(r["metadata"]["last_reviewed"] and staleness_age(r) > 365 for r in authored), (
        "a stale reviewed record"
    )
    assert any(r["metadata"]["last_reviewed"] and staleness_age(r) <= 365 for r in authored), (
        "a fresh reviewed record"
    )


def test_complete_and_incomplete_records_occur(authored: Records) -> None:
    def below_minimum(record: dict[str, Any]) -> bool:
        words = section_words(record)
        return any(h in words and words[h] < m for h, m in REQUIRED.items())

    def missing_required(record: dict[str, Any]) -> bool:
        return bool(set(REQUIRED) - set(section_words(record)))

    assert any(r["computed"]["completeness"] == 1 for r in authored)
    assert any(below_minimum(r) and not missing_required(r) for r in authored)
    assert any(missing_required(r) and r["metadata"]["status"] != "stub" for r in authored)
    assert any(r["metadata"]["status"] == "stub" and missing_required(r) for r in authored)


@pytest.mark.parametrize(
    ("label", "is_case"),
    [
        ("no difficulty", lambda m: "difficulty" not in m),
        ("a difficulty", lambda m: "difficulty" in m),
        ("no summary", lambda m: "summary" not in m),
        ("a summary", lambda m: bool(m.get("summary"))),
        ("empty tags", lambda m: m["tags"] == []),
        ("tags", lambda m: bool(m["tags"])),
    ],
)
def test_metadata_gaps_and_their_opposites_occur(
    authored: Records, label: str, is_case: Case
) -> None:
    assert any(is_case(r["metadata"]) for r in authored), label


@pytest.mark.parametrize(
    ("label", "is_case"),
    [
        ("reviewers", lambda m: bool(m["reviewers"]) and m["last_reviewed"] is not None),
        ("last_reviewed only", lambda m: not m["reviewers"] and m["last_reviewed"] is not None),
        ("never reviewed", lambda m: not m["reviewers"] and m["last_reviewed"] is None),
    ],
)
def test_review_states_occur(authored: Records, label: str, is_case: Case) -> None:
    assert any(is_case(r["metadata"]) for r in authored), label


def test_dates_are_ordered_and_never_after_the_reference_date(records: Records) -> None:
    for record in records:
        meta = record["metadata"]
        created, updated = meta["created"], meta["updated"]
        reviewed = [meta["last_reviewed"] or updated, *(v["date"] for v in meta["reviewers"])]
        assert created <= updated <= REFERENCE_DATE.isoformat()
        assert all(created <= day <= REFERENCE_DATE.isoformat() for day in reviewed)


def test_reviewers_carry_name_credential_and_date(records: Records) -> None:
    reviewers = [v for r in records for v in r["metadata"]["reviewers"]]
    assert reviewers
    assert all(v["name"] and dt.date.fromisoformat(v["date"]) for v in reviewers)
    assert any("credential" in v for v in reviewers)


def test_relationships_include_edges_dangling_targets_and_ignored_types(
    records: Records,
) -> None:
    slugs = {r["slug"] for r in records}
    related = [rel for r in records for rel in r["metadata"]["related"]]
    assert sum(1 for rel in related if rel["slug"] in slugs) >= COUNT
    assert any(rel["slug"] not in slugs and rel["type"] in RELATIONSHIP_TYPES for rel in related)
    assert any(rel["type"] not in RELATIONSHIP_TYPES for rel in related)
    assert any(rel.get("note") for rel in related)
    assert any("note" not in rel for rel in related)


def test_some_records_carry_fields_the_contract_does_not_know(records: Records) -> None:
    drift = {f for r in records for f in collect_unknown_fields(Record.model_validate(r))}
    assert "metadata.audience" in drift


def test_git_history_is_absent_for_many_records_and_consistent_where_present(
    authored: Records,
) -> None:
    absent = [r["git"] for r in authored if r["git"]["created"] is None]
    present = [r["git"] for r in authored if r["git"]["created"] is not None]
    assert absent and present
    assert all(g["revisions"] == 0 and g["authors"] == [] for g in absent)
    for git in present:
        assert git["revisions"] == len(git["timeline"]) == sum(a["commits"] for a in git["authors"])
        assert git["created"] <= git["updated"]


# --- stated figures agree with the rules of metrics.md ------------------------------------------


def test_stated_word_counts_equal_the_recomputed_counts(records: Records) -> None:
    for record in records:
        for section in record["sections"]:
            assert section["wordCount"] == count_words(section["markdown"])
        total = sum(s["wordCount"] for s in record["sections"])
        assert record["computed"]["wordCount"] == total
        assert record["computed"]["readingTimeMinutes"] == max(1, round(total / 225))


@pytest.mark.parametrize(
    "construct", ["```", "`", "<mark>", "| --- |", "**", "\u2019", "well-understood", "- "]
)
def test_markdown_exercises_the_word_counting_rule(records: Records, construct: str) -> None:
    assert any(construct in s["markdown"] for r in records for s in r["sections"])


def test_stated_completeness_follows_the_canonical_rule(authored: Records) -> None:
    for record in authored:
        words = section_words(record)
        met = sum(1 for h, m in REQUIRED.items() if h in words and words[h] >= m)
        assert record["computed"]["completeness"] == round(met / len(REQUIRED), 3)


def test_stated_flags_follow_reviews_and_provenance(records: Records) -> None:
    for record in records:
        meta, computed = record["metadata"], record["computed"]
        verified = bool(meta["reviewers"]) or meta["last_reviewed"] is not None
        ai_drafted = meta.get("provenance") in ("ai-generated", "ai-assisted")
        assert computed["verified"] is verified
        assert computed["aiDrafted"] is ai_drafted
        assert computed["unverifiedAiDraft"] is (ai_drafted and not verified)


def test_backlinks_are_the_sorted_sources_of_valid_edges(records: Records) -> None:
    slugs = {r["slug"] for r in records}
    expected: dict[str, set[str]] = {slug: set() for slug in slugs}
    for record in records:
        for rel in record["metadata"]["related"]:
            if rel["type"] in RELATIONSHIP_TYPES and rel["slug"] in slugs:
                expected[rel["slug"]].add(record["slug"])
    for record in records:
        assert record["computed"]["backlinks"] == sorted(expected[record["slug"]])
    assert any(record["computed"]["backlinks"] for record in records)


# --- writing the corpus ------------------------------------------------------------------------


def test_write_corpus_writes_one_file_per_record_named_by_slug(tmp_path: Path) -> None:
    paths = write_corpus(tmp_path / "raw", 12, seed=3)
    expected = list(generate_records(12, seed=3))
    assert len(paths) == 12
    assert paths == sorted(paths)
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [p.name for p in paths]
    by_name = {p.name: p.read_bytes() for p in paths}
    assert by_name == {f"{r['slug']}.json": dump(r) for r in expected}
