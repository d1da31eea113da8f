"""The record contract: pydantic models for one SOUL Atlas occupation record."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, Field

from occupipe.contract.checks import OneOf

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
STATUSES = ("stub", "draft", "review", "stable")


# read at each check (see OneOf): patching STATUSES changes what the contract accepts
Status = Annotated[str, OneOf(lambda: STATUSES)]


KINDS = (
    "occupation",
    "discipline",
    "role",
    "identity",
    "community",
    "historical",
    "agent-persona",
)
PROVENANCES = ("human", "ai-assisted", "ai-generated")
DIFFICULTIES = ("foundational", "intermediate", "advanced", "expert")
RELATIONSHIP_TYPES = (
    "related",
    "specialization",
    "prerequisite",
    "adjacent",
    "collaboration",
    "progression",
)
CATEGORIES = (
    "Technology",
    "Healthcare",
    "Skilled Trades",
    "Engineering",
    "Science",
    "Education",
    "Business",
    "Government",
    "Military",
    "Law",
    "Transportation",
    "Agriculture",
    "Hospitality",
    "Creative",
    "Sports",
    "Entertainment",
    "Finance",
    "Public Service",
    "Historical",
    "Emerging",
    "Life Roles",
)
# counts are stored as 32-bit integers: anything larger is not a real count
COUNT_MAX = 2**31 - 1
Count = Annotated[int, Field(ge=0, le=COUNT_MAX)]
# a date is text in JSON: checked as a calendar date, however the record was parsed
Day = Annotated[dt.date, Field(strict=False)]
SOURCE_KINDS = ("book", "standard", "article", "interview", "course", "documentation", "other")


class Part(BaseModel):
    """Base for every part of a record: unknown fields are kept (and counted), never lost.

    Strict, as the upstream JSON schema: an integer is a JSON integer (not `true`, `"2"` or
    `3.0`), a number a JSON number, a boolean `true` or `false` (dates, `Day`, are text).
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)


class Relationship(Part):
    slug: str
    type: str
    note: str | None = None


class Reviewer(Part):
    name: str = Field(min_length=1)
    credential: str | None = None
    date: Day | None = None


class CountryVariant(Part):
    region: str
    note: str


class ReferenceSource(Part):
    title: str
    url: str | None = None
    kind: str | None = None


class Source(Part):
    origin: str = Field(min_length=1)
    url: str | None = None
    repo: str | None = None
    license: str | None = None
    attribution: str | None = None
    fetched: Day | None = None


class Metadata(Part):
    title: str = Field(min_length=1)
    slug: str = Field(pattern=SLUG_PATTERN)
    category: str = Field(min_length=1)
    status: Status
    summary: str | None = None
    kind: str | None = None
    provenance: str | None = None
    difficulty: str | None = None
    created: Day | None = None
    updated: Day | None = None
    last_reviewed: Day | None = None
    aliases: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    contributors: list[str] = Field(default_factory=list)
    reviewers: list[Reviewer] = Field(default_factory=list)
    related: list[Relationship] = Field(default_factory=list)
    specializations: list[str] = Field(default_factory=list)
    country_variants: list[CountryVariant] = Field(default_factory=list)
    sources: list[ReferenceSource] = Field(default_factory=list)
    source: Source | None = None


class Section(Part):
    heading: str
    id: str
    markdown: str
    html: str | None = None
    wordCount: Count


class Computed(Part):
    wordCount: Count | None = None
    readingTimeMinutes: float | None = None
    completeness: float | None = None
    backlinks: list[str] = Field(default_factory=list)
    verified: bool | None = None
    aiDrafted: bool | None = None
    unverifiedAiDraft: bool | None = None
    federated: bool | None = None


class GitAuthor(Part):
    name: str
    commits: Count | None = None


class Git(Part):
    created: str | None = None
    updated: str | None = None
    revisions: Count | None = None
    authors: list[GitAuthor] = Field(default_factory=list)


class Citation(Part):
    apa: str | None = None
    bibtex: str | None = None
    text: str | None = None


class Record(Part):
    """One occupation record as the SOUL Atlas static API serves it."""

    slug: str = Field(pattern=SLUG_PATTERN)
    title: str = Field(min_length=1)
    metadata: Metadata
    sections: list[Section]
    computed: Computed = Field(default_factory=Computed)
    git: Git = Field(default_factory=Git)
    citation: Citation | None = None
    synthetic: bool = False  # occupipe's own marker for generated demo records


def _nested_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """Names of a model's fields that hold other models (directly or in a list)."""
    cached = _NESTED.get(cls)
    if cached is None:
        cached = tuple(
            name
            for name, info in cls.model_fields.items()
            if any(
                isinstance(t, type) and issubclass(t, BaseModel)
                for t in (info.annotation, *get_args(info.annotation))
                for t in (t, *get_args(t))
            )
        )
        _NESTED[cls] = cached
    return cached


_NESTED: dict[type[BaseModel], tuple[str, ...]] = {}


def collect_unknown_fields(model: BaseModel, path: str = "") -> list[str]:
    """Return the dotted paths of every field the contract does not know, at any depth."""
    found: list[str] = []
    _add_unknown_fields(model, path, found)
    return found


def _add_unknown_fields(model: BaseModel, path: str, found: list[str]) -> None:
    # hot path (every part of every record): no names built unless a field is unknown, and no
    # call for a part that holds no other parts (20 sections a record)
    extra = model.__pydantic_extra__
    if extra:
        found.extend(f"{path}{name}" for name in extra)
    for name in _nested_fields(type(model)):
        value: Any = getattr(model, name)
        if isinstance(value, list):
            prefix = f"{path}{name}[]."
            for child in value:
                if isinstance(child, BaseModel):
                    if _nested_fields(type(child)):
                        _add_unknown_fields(child, prefix, found)
                    elif child.__pydantic_extra__:
                        found.extend(f"{prefix}{key}" for key in child.__pydantic_extra__)
        elif isinstance(value, BaseModel):
            _add_unknown_fields(value, f"{path}{name}.", found)
