"""One whole record: its metadata, sections, derived fields, git history and citation."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from occupipe.synth.metadata import build_federated_metadata, build_metadata
from occupipe.synth.profiles import CorpusPlan, Profile, category_for, plan_profile, title_from_slug
from occupipe.synth.sections import (
    CANONICAL,
    build_authored_sections,
    build_federated_sections,
)
from occupipe.synth.text import TextWriter
from occupipe.synth.words import LEXICONS

SITE_URL = "https://atlas.example.org"


REQUIRED_COUNT = sum(1 for s in CANONICAL if s.required)


def compute_completeness(sections: Sequence[dict[str, Any]], federated: bool) -> float:
    """Share of required canonical sections present (exact heading) at their minimum words."""
    if federated:
        return 1.0
    words = {s["heading"]: s["wordCount"] for s in sections}
    met = sum(
        1
        for s in CANONICAL
        if s.required and s.heading in words and words[s.heading] >= s.min_words
    )
    return round(met / REQUIRED_COUNT, 3)


def build_computed(
    metadata: dict[str, Any], sections: Sequence[dict[str, Any]], profile: Profile
) -> dict[str, Any]:
    """The site's per-record derived fields (metrics.md); backlinks are filled in later."""
    word_count = sum(s["wordCount"] for s in sections)
    verified = bool(metadata["reviewers"]) or metadata["last_reviewed"] is not None
    ai_drafted = metadata.get("provenance") in ("ai-generated", "ai-assisted")
    computed: dict[str, Any] = {
        "wordCount": word_count,
        "readingTimeMinutes": max(1, int(word_count / 225 + 0.5)),
        "completeness": compute_completeness(sections, profile.federated),
        "backlinks": [],
        "verified": verified,
        "aiDrafted": ai_drafted,
        "unverifiedAiDraft": ai_drafted and not verified,
        "federated": profile.federated,
    }
    if profile.legacy_computed:
        del computed["federated"]
    return computed


def build_git(index: int, rng: random.Random, metadata: dict[str, Any]) -> dict[str, Any]:
    """Version-control history; most records have none (null dates, no revisions)."""
    if not plan_profile(index).has_git:
        return {"created": None, "updated": None, "revisions": 0, "authors": [], "timeline": []}
    created = dt.date.fromisoformat(metadata["created"])
    updated = dt.date.fromisoformat(metadata["updated"])
    revisions = 1 if created == updated else rng.randint(2, 8)
    span = (updated - created).days
    middle = sorted(rng.randint(0, span) for _ in range(max(revisions - 2, 0)))
    offsets = [0, *middle, span][:revisions]
    names = [
        "soul-atlas",
        *metadata["contributors"][1:2],
        *(["atlas-bot"] if index % 10 == 3 else []),
    ]
    timeline = [
        {"date": (created + dt.timedelta(days=o)).isoformat(), "author": names[n % len(names)]}
        for n, o in enumerate(offsets)
    ]
    authors = [
        {"name": name, "commits": sum(1 for t in timeline if t["author"] == name)}
        for name in names
        if any(t["author"] == name for t in timeline)
    ]
    return {
        "created": timeline[0]["date"],
        "updated": timeline[-1]["date"],
        "revisions": revisions,
        "authors": authors,
        "timeline": timeline,
    }


def build_citation(metadata: dict[str, Any]) -> dict[str, str]:
    """APA, BibTeX and plain-text citations in the site's format."""
    slug, title = metadata["slug"], metadata["title"]
    author = ", ".join(metadata["contributors"]) or "SOUL Atlas"
    year, url = metadata["created"][:4], f"{SITE_URL}/souls/{slug}"
    bibtex = "\n".join(
        [
            f"@misc{{soulatlas-{slug},",
            f"  title        = {{{title}}},",
            f"  author       = {{{author}}},",
            f"  year         = {{{year}}},",
            "  howpublished = {SOUL Atlas},",
            f"  note         = {{SOUL.md, version {metadata['updated']}}},",
            f"  url          = {{{url}}}",
            "}",
        ]
    )
    return {
        "apa": f"{author} ({year}). {title} [SOUL]. SOUL Atlas. {url}",
        "bibtex": bibtex,
        "text": f'{author}. "{title}." SOUL Atlas, {year}. {url}.',
    }


def generate_record(index: int, rng: random.Random, plan: CorpusPlan) -> dict[str, Any]:
    """Record `index` of a planned corpus; its backlinks are left empty."""
    profile, slug = plan_profile(index), plan.slugs[index]
    lexicon = LEXICONS[category_for(index)]
    if profile.federated:
        writer = TextWriter(rng, slug.split("-", 1)[1], lexicon)
        metadata = build_federated_metadata(index, rng, slug)
        sections = build_federated_sections(index, rng, writer)
    else:
        writer = TextWriter(rng, title_from_slug(slug), lexicon)
        metadata = build_metadata(index, rng, plan, writer)
        sections = build_authored_sections(rng, writer, profile, metadata)
    return {
        "slug": slug,
        "title": metadata["title"],
        "metadata": metadata,
        "sections": sections,
        "computed": build_computed(metadata, sections, profile),
        "git": build_git(index, rng, metadata),
        "citation": build_citation(metadata),
        "synthetic": True,
    }
