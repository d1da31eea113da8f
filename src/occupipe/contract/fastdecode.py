"""A fast path for records the contract accepts: msgspec structs mirroring `contract.py`.

pydantic's models in `contract.py` are the contract. The structs here accept a subset of
what they accept (stricter dates and numbers, no unknown fields but `git.timeline`), decode
to the same values, and take about half the CPU of pydantic to build and free. A document
they refuse goes to pydantic, which accepts it or words why not, so a record loads or is
quarantined exactly as without this module. `tests/test_fastdecode.py` checks the mirror
field by field against the models and both decoders against each other on generated and
real records.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Raw, Struct, UnsetType, field

from occupipe.contract.record import COUNT_MAX, SLUG_PATTERN

# re.search's `$` also matches before a final newline; the contract's (Rust) `$` does not
Slug = Annotated[str, Meta(pattern=SLUG_PATTERN.removesuffix("$") + r"\Z")]


NonEmpty = Annotated[str, Meta(min_length=1)]


Count = Annotated[int, Meta(ge=0, le=COUNT_MAX)]


Status = Literal["stub", "draft", "review", "stable"]


# the one field of upstream drift that every real record carries: kept as raw JSON, so that
# records holding it stay on the fast path, and counted as an unknown field as pydantic does
TOLERATED_UNKNOWN_FIELD = "git.timeline"


class Part(Struct, forbid_unknown_fields=True, gc=False):
    """Base for every part: an unknown field sends the record to pydantic. Not tracked by
    the cycle collector (parts hold no cycles): freeing them costs less."""


class Relationship(Part):
    slug: str
    type: str
    note: str | None = None


class Reviewer(Part):
    name: NonEmpty
    credential: str | None = None
    date: dt.date | None = None


class CountryVariant(Part):
    region: str
    note: str


class ReferenceSource(Part):
    title: str
    url: str | None = None
    kind: str | None = None


class Source(Part):
    origin: NonEmpty
    url: str | None = None
    repo: str | None = None
    license: str | None = None
    attribution: str | None = None
    fetched: dt.date | None = None


class Metadata(Part):
    title: NonEmpty
    slug: Slug
    category: NonEmpty
    status: Status
    summary: str | None = None
    kind: str | None = None
    provenance: str | None = None
    difficulty: str | None = None
    created: dt.date | None = None
    updated: dt.date | None = None
    last_reviewed: dt.date | None = None
    aliases: list[str] = []
    tags: list[str] = []
    contributors: list[str] = []
    reviewers: list[Reviewer] = []
    related: list[Relationship] = []
    specializations: list[str] = []
    country_variants: list[CountryVariant] = []
    sources: list[ReferenceSource] = []
    source: Source | None = None


class Section(Part):
    heading: str
    id: str
    markdown: str
    wordCount: Count
    html: str | None = None


class Computed(Part):
    wordCount: Count | None = None
    readingTimeMinutes: float | None = None
    completeness: float | None = None
    backlinks: list[str] = []
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
    authors: list[GitAuthor] = []
    timeline: Raw | UnsetType = UNSET  # TOLERATED_UNKNOWN_FIELD


class Citation(Part):
    apa: str | None = None
    bibtex: str | None = None
    text: str | None = None


class Record(Part):
    slug: Slug
    title: NonEmpty
    metadata: Metadata
    sections: list[Section]
    computed: Computed = field(default_factory=Computed)
    git: Git = field(default_factory=Git)
    citation: Citation | None = None
    synthetic: bool = False


_DECODER = msgspec.json.Decoder(Record)


def decode_record(raw: bytes) -> tuple[Record, tuple[str, ...]] | None:
    """A record and its unknown fields' paths, or None if this path does not accept the
    document (pydantic then decides: it may still accept it)."""
    try:
        record = _DECODER.decode(raw)
    except (msgspec.DecodeError, ValueError):  # ValueError: bytes that are not UTF-8
        return None
    drift = () if record.git.timeline is UNSET else (TOLERATED_UNKNOWN_FIELD,)
    return record, drift
