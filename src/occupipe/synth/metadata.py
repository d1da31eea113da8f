"""The metadata block of a record: authored, or mirrored from a federated collection."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from occupipe.contract.record import CATEGORIES, RELATIONSHIP_TYPES, SOURCE_KINDS
from occupipe.synth.profiles import (
    CorpusPlan,
    OtherAuthored,
    Profile,
    category_for,
    days_before,
    is_federated,
    plan_dates,
    plan_profile,
    slugify_title,
    title_from_slug,
)
from occupipe.synth.text import TextWriter, fix_articles
from occupipe.synth.words import (
    ADJECTIVES,
    CONTRIBUTORS,
    INITIALS,
    LEXICONS,
    LICENSES,
    NOUNS,
    PERSONA_TAGS,
    PERSONAS,
    REGIONS,
    RELATED_NOTE,
    SOURCE_TITLE,
    SUMMARY,
    SURNAMES,
    Lexicon,
)

NONSTANDARD_TYPE = "mentor-of"  # a relationship type the metrics ignore
FEDERATED_ORIGIN = "persona-exchange"


RELATIONSHIP_WEIGHTS = (40, 6, 8, 20, 20, 6)  # in the order of contract.RELATIONSHIP_TYPES


def write_summary(writer: TextWriter) -> str:
    return writer.fill(SUMMARY)


def write_tags(rng: random.Random, lexicon: Lexicon) -> list[str]:
    pool = sorted({slugify_title(w) for w in (*lexicon.objects, *NOUNS[:10])})
    return rng.sample(pool, rng.randint(2, 6))


def write_aliases(rng: random.Random, lexicon: Lexicon, title: str) -> list[str]:
    role = title.split()[-1]
    names = [f"{domain} {role}" for domain in rng.sample(lexicon.domains, 2)]
    return [name for name in names if name != title][: rng.randint(0, 2)]


def write_reviewers(rng: random.Random, last_reviewed: dt.date, role: str) -> list[dict[str, Any]]:
    reviewers: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 2)):
        name = f"{rng.choice(INITIALS)}. {rng.choice(SURNAMES)}"
        reviewer: dict[str, Any] = {"name": name}
        if rng.random() < 0.8:
            reviewer["credential"] = fix_articles(f"{rng.randint(3, 30)} years as a {role.lower()}")
        reviewer["date"] = (last_reviewed - dt.timedelta(days=rng.randint(0, 10))).isoformat()
        reviewers.append(reviewer)
    return reviewers


def write_sources(rng: random.Random, writer: TextWriter, slug: str) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = []
    for n in range(rng.randint(1, 4)):
        source: dict[str, Any] = {
            "title": writer.fill(SOURCE_TITLE),
            "kind": rng.choice(SOURCE_KINDS),
        }
        if rng.random() < 0.2:
            source["url"] = f"https://example.org/reading/{slug}/{n + 1}"
        sources.append(source)
    return sources


def pick_dangling_slug(rng: random.Random, taken: frozenset[str]) -> str:
    """A plausible slug that no generated record has: a dangling reference."""
    for _ in range(40):
        lexicon = LEXICONS[rng.choice(CATEGORIES)]
        slug = slugify_title(f"{rng.choice(lexicon.domains)} {rng.choice(lexicon.roles)}")
        if slug not in taken:
            return slug
    return f"retired-{rng.choice(PERSONAS)}-role"


def plan_related(
    index: int, rng: random.Random, plan: CorpusPlan, writer: TextWriter
) -> list[dict[str, Any]]:
    """Typed relationships: to generated records, a dangling one, a non-standard type, a repeat."""
    if is_federated(index):
        return []
    authored = OtherAuthored(plan, index)
    wanted = 0 if index % 16 == 10 else rng.randint(1, 6)
    targets = rng.sample(authored, min(wanted, len(authored)))
    if index % 4 == 1:
        targets.append(pick_dangling_slug(rng, plan.taken))
    related: list[dict[str, Any]] = []
    for target in targets:
        entry: dict[str, Any] = {"slug": target}
        entry["type"] = rng.choices(RELATIONSHIP_TYPES, RELATIONSHIP_WEIGHTS)[0]
        if rng.random() < 0.8:
            entry["note"] = writer.fill(RELATED_NOTE)
        related.append(entry)
    if index % 15 == 4 and authored:
        related.append({"slug": rng.choice(authored), "type": NONSTANDARD_TYPE})
    if index % 31 == 6 and related:
        related.append(dict(related[0]))  # the same triple twice: counted once as an edge
    return related


def build_review_fields(
    rng: random.Random, profile: Profile, dates: dict[str, dt.date | None], title: str
) -> dict[str, Any]:
    last_reviewed = dates["last_reviewed"]
    reviewers: list[dict[str, Any]] = []
    if profile.review == "reviewers" and last_reviewed is not None:
        reviewers = write_reviewers(rng, last_reviewed, title)
    return {
        "last_reviewed": last_reviewed.isoformat() if last_reviewed else None,
        "reviewers": reviewers,
    }


def build_metadata(
    index: int, rng: random.Random, plan: CorpusPlan, writer: TextWriter
) -> dict[str, Any]:
    """The metadata block of an authored record."""
    profile, slug = plan_profile(index), plan.slugs[index]
    title, lexicon = title_from_slug(slug), writer.lexicon
    dates = plan_dates(index, rng, profile)
    metadata: dict[str, Any] = {
        "title": title,
        "slug": slug,
        "aliases": write_aliases(rng, lexicon, title),
        "category": category_for(index),
        "tags": write_tags(rng, lexicon) if profile.has_tags else [],
        "contributors": ["soul-atlas", *rng.sample(CONTRIBUTORS, rng.choice((0, 0, 1, 2)))],
        "provenance": profile.provenance,
        "created": str(dates["created"]),
        "updated": str(dates["updated"]),
        "related": plan_related(index, rng, plan, writer),
        "specializations": [
            f"{domain} {title.split()[-1]}" for domain in lexicon.domains if domain not in title
        ][: rng.randint(0, 4)],
        "country_variants": [
            {"region": region, "note": writer.sentence()}
            for region in rng.sample(REGIONS, rng.randint(1, 2) if index % 8 == 3 else 0)
        ],
        "sources": write_sources(rng, writer, slug),
        "status": profile.status,
        "kind": profile.kind,
        "difficulty": profile.difficulty,
        "summary": write_summary(writer) if profile.has_summary else None,
        **build_review_fields(rng, profile, dates, title),
    }
    if profile.drift:
        metadata["audience"] = ["practitioners", "students"]
    return drop_absent(metadata, ("provenance", "kind", "difficulty", "summary"))


def drop_absent(mapping: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Remove the given keys where their value is None: the older, sparser record shape."""
    return {k: v for k, v in mapping.items() if not (k in keys and v is None)}


def build_federated_metadata(index: int, rng: random.Random, slug: str) -> dict[str, Any]:
    """The metadata block of a record mirrored from another collection (an agent persona)."""
    handle, persona = slug.split("-", 1)
    fetched = days_before(rng.randint(0, 30))
    profile = plan_profile(index)
    return {
        "title": persona.capitalize(),
        "slug": slug,
        "kind": "agent-persona",
        "category": category_for(index),
        "tags": [rng.choice(PERSONA_TAGS)] if profile.has_tags else [],
        "summary": fix_articles(
            f"a {rng.choice(ADJECTIVES)} {persona} for people who want answers."
        ),
        "provenance": "human",
        "source": {
            "origin": FEDERATED_ORIGIN,
            "url": f"https://{FEDERATED_ORIGIN}.example/p/{handle}/{persona}",
            "repo": f"https://github.com/{FEDERATED_ORIGIN}/personas",
            "license": rng.choice(LICENSES),
            "attribution": handle,
            "fetched": fetched.isoformat(),
        },
        "last_reviewed": None,
        "reviewers": [],
        "created": fetched.isoformat(),
        "updated": fetched.isoformat(),
        "status": profile.status,
        **{key: [] for key in ("aliases", "contributors", "related", "specializations")},
        **{key: [] for key in ("country_variants", "sources")},
    }
