"""The corpus plan: which cases each record covers, its slug and its dates, by index."""

from __future__ import annotations

import bisect
import datetime as dt
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

from occupipe.contract.record import CATEGORIES
from occupipe.synth.words import HANDLES, LEXICONS, PERSONAS

REFERENCE_DATE = dt.date(2026, 6, 26)  # the staleness reference date of metrics.md


@dataclass(frozen=True)
class Profile:
    """Which cases a record covers; a pure function of its index so coverage is guaranteed."""

    federated: bool
    kind: str | None  # None: the key is absent (older shape, means occupation)
    status: str
    provenance: str | None  # None: the key is absent
    difficulty: str | None
    review: str  # "reviewers", "date-only" or "none"
    stale: bool
    gaps: str  # "none", "short", "missing", "renamed" or "stub"
    has_summary: bool
    has_tags: bool
    has_git: bool
    legacy_computed: bool  # no computed.federated (older shape)
    drift: bool  # carries a field the contract does not know


KIND_CYCLE = ("occupation",) * 5 + ("discipline", "role", "identity", "community", "historical")
STATUS_CYCLE = ("draft", "review", "draft", "stable", "draft", "stub", "draft")
PROVENANCE_CYCLE = ("ai-generated", "ai-generated", "human", "ai-generated", "ai-assisted")
DIFFICULTY_CYCLE = ("advanced", "intermediate", "advanced", "expert", "foundational", "advanced")


def is_federated(index: int) -> bool:
    return index % 12 == 7


def plan_gaps(index: int, status: str) -> str:
    if status == "stub":
        return "stub"
    return {5: "short", 8: "missing", 2: "renamed"}.get(index % 9, "none")


def plan_kind(index: int) -> str | None:
    if is_federated(index):
        return "agent-persona"
    return None if index % 13 == 4 else KIND_CYCLE[index % len(KIND_CYCLE)]


def plan_provenance(index: int) -> str | None:
    if is_federated(index):
        return "human"
    return None if index % 17 == 3 else PROVENANCE_CYCLE[index % len(PROVENANCE_CYCLE)]


def plan_profile(index: int) -> Profile:
    """The cases record `index` covers, by cycles of different lengths over the index."""
    federated = is_federated(index)
    status = "draft" if federated else STATUS_CYCLE[index % len(STATUS_CYCLE)]
    return Profile(
        federated=federated,
        kind=plan_kind(index),
        status=status,
        provenance=plan_provenance(index),
        difficulty=None if federated or index % 8 == 6 else DIFFICULTY_CYCLE[index % 6],
        review="none" if federated else {1: "reviewers", 4: "date-only"}.get(index % 6, "none"),
        stale=index % 5 == 2,
        gaps="none" if federated else plan_gaps(index, status),
        has_summary=index % 23 != 11,
        has_tags=index % 19 != 2,
        has_git=not federated and (index * 7) % 9 < 4,
        legacy_computed=not federated and index % 14 == 9,
        drift=index % 25 == 12,
    )


def category_for(index: int) -> str:
    """Category of record `index`: every window of 21 records covers all 21 categories."""
    return CATEGORIES[(index * 8) % len(CATEGORIES)]


def plan_slugs(count: int, seed: int = 7) -> list[str]:
    """Unique slugs for `count` records: "<domain>-<role>", or "<handle>-<persona>" if federated."""
    rng = random.Random(f"occupipe-synth:{seed}:slugs")
    slugs: list[str] = []
    taken: set[str] = set()
    for index in range(count):
        lexicon = LEXICONS[category_for(index)]
        for attempt in range(40):
            if is_federated(index):
                slug = f"{rng.choice(HANDLES)}-{rng.choice(PERSONAS)}"
            else:
                slug = slugify_title(f"{rng.choice(lexicon.domains)} {rng.choice(lexicon.roles)}")
            if attempt == 39:
                slug = f"{slug}-{index}"
            if slug not in taken:
                break
        slugs.append(slug)
        taken.add(slug)
    return slugs


def slugify_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def title_from_slug(slug: str) -> str:
    """Title of an authored slug ("rail-dispatcher" -> "Rail Dispatcher")."""
    return " ".join(word.capitalize() for word in slug.split("-"))


def days_before(days: int) -> dt.date:
    return REFERENCE_DATE - dt.timedelta(days=days)


def plan_review_age(index: int, rng: random.Random, stale: bool) -> int:
    """Days between the staleness date (last_reviewed, else updated) and the reference date."""
    if index % 60 == 0:
        return 365  # on the boundary: not stale
    if index % 60 == 2:
        return 366  # one day past it: stale
    return rng.randint(366, 1100) if stale else rng.randint(0, 360)


def plan_dates(index: int, rng: random.Random, profile: Profile) -> dict[str, dt.date | None]:
    """created, updated and last_reviewed, placed so the profile's staleness holds."""
    age = plan_review_age(index, rng, profile.stale)
    if profile.review == "none":
        updated, last_reviewed = days_before(age), None
    else:
        updated, last_reviewed = days_before(rng.randint(0, 700)), days_before(age)
    earliest = min(updated, last_reviewed or updated)
    lead = 0 if last_reviewed is None else 10  # reviewers sign up to 10 days before it
    return {
        "created": earliest - dt.timedelta(days=rng.randint(lead, 400)),
        "updated": updated,
        "last_reviewed": last_reviewed,
    }


@dataclass(frozen=True)
class CorpusPlan:
    """What every record is generated against: all slugs, which are authored, which are taken."""

    slugs: Sequence[str]
    authored: Sequence[int]  # indices of authored (not federated) records, ascending
    taken: frozenset[str]

    @classmethod
    def of(cls, slugs: Sequence[str]) -> CorpusPlan:
        authored = [i for i in range(len(slugs)) if not is_federated(i)]
        return cls(slugs, authored, frozenset(slugs))


class OtherAuthored(Sequence[str]):
    """The authored slugs except one record's own, in order, without copying them (O(1) each)."""

    def __init__(self, plan: CorpusPlan, index: int) -> None:
        self._plan = plan
        self._skip = bisect.bisect_left(plan.authored, index)

    def __len__(self) -> int:
        return len(self._plan.authored) - 1

    @overload
    def __getitem__(self, position: int) -> str: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[str]: ...
    def __getitem__(self, position: int | slice) -> str | Sequence[str]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        return self._plan.slugs[self._plan.authored[position + (position >= self._skip)]]
