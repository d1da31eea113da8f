"""The quality gates as pure functions: each case, the sentence it gives or None."""

from __future__ import annotations

import pytest

from occupipe.core.rejection import Rejection
from occupipe.release.gates import check_reject_rate, check_schema, check_volume

BAD = Rejection("bad.json", "parse", "not JSON", None)


@pytest.mark.parametrize(
    ("documents", "rejected", "max_rate", "strict", "expected"),
    [
        (100, 0, 0.05, False, None),
        (100, 5, 0.05, False, None),  # at the limit: allowed
        (100, 6, 0.05, False, "6 of 100 inputs (6.0%) were quarantined, above"),
        (100, 1, 0.05, True, "1 input(s) were quarantined and --strict allows none"),
        (0, 1, 0.5, False, "1 of 0 inputs (100.0%)"),  # nothing but bad input
        (100, 0, 0.0, True, None),  # strict with nothing quarantined
    ],
)
def test_the_reject_rate_gate_blocks_above_its_limit_or_any_under_strict(
    documents: int, rejected: int, max_rate: float, strict: bool, expected: str | None
) -> None:
    problem = check_reject_rate(documents, [BAD] * rejected, max_rate, strict)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem
        assert "first: bad.json [parse] not JSON" in problem


@pytest.mark.parametrize(
    ("previous", "records", "allow", "blocked"),
    [
        (None, 0, False, False),  # a first release has nothing to shrink from
        (0, 0, False, False),
        (100, 90, False, False),  # 10% is the default limit: allowed
        (100, 89, False, True),
        (100, 0, True, False),  # --allow-shrink
        (100, 150, False, False),  # growing is always fine
    ],
)
def test_the_volume_gate_blocks_a_drop_beyond_the_limit_unless_allowed(
    previous: int | None, records: int, allow: bool, blocked: bool
) -> None:
    problem = check_volume(previous, records, 0.10, allow)
    assert (problem is not None) == blocked
    if problem:
        assert f"from {previous} to {records}" in problem and "--allow-shrink" in problem


TABLES = {"occupations": {"slug": "string", "word_count": "int32"}, "tags": {"tag": "string"}}


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (TABLES, None),
        ({**TABLES, "occupations": {**TABLES["occupations"], "new": "bool"}}, None),  # added
        ({"occupations": TABLES["occupations"]}, "table tags removed"),
        ({**TABLES, "occupations": {"slug": "string"}}, "occupations.word_count removed"),
        (
            {**TABLES, "occupations": {"slug": "string", "word_count": "int64"}},
            "occupations.word_count retyped from int32 to int64",
        ),
    ],
)
def test_the_schema_gate_blocks_removed_or_retyped_columns_only(
    current: dict[str, dict[str, str]], expected: str | None
) -> None:
    problem = check_schema(TABLES, current, allow_change=False)
    assert problem is None if expected is None else (problem and expected in problem)
    assert check_schema(TABLES, current, allow_change=True) is None
