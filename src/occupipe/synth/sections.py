"""The sections of a record: each canonical section written in its style, and persona sections."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from occupipe.contract.sections import read_sections_spec
from occupipe.contract.wordcount import count_words
from occupipe.synth.markdown import Block, build_section
from occupipe.synth.profiles import Profile, title_from_slug
from occupipe.synth.text import TextWriter
from occupipe.synth.words import (
    CODE_STEP,
    FILE_SUFFIXES,
    IMPERATIVES,
    LEADS,
    PERSONA_HEADINGS_FREE,
    PERSONA_HEADINGS_NUMBERED,
    RENAMED_HEADINGS,
    SCENARIO_LEADS,
    SHORT_SENTENCES,
    TABLE_CELLS,
    TABLE_HEADER,
    TERMS,
    TOOL_KINDS,
    TRADEOFF_LEADS,
)

CANONICAL = read_sections_spec()


def estimate_words(text: str) -> int:
    """A cheap word estimate for sizing text; stated counts always come from count_words."""
    return text.count(" ") + 1


def grow_items(target: int, make: Callable[[], str]) -> tuple[str, ...]:
    """List items from `make` until together they hold about `target` words."""
    items: list[str] = []
    words = 0
    while words < target or not items:
        item = make()
        items.append(item)
        words += estimate_words(item)
    return tuple(items)


def grow_paragraphs(target: int, make: Callable[[], str]) -> list[Block]:
    return [Block("p", (text,)) for text in grow_items(target, make)]


def write_short_blocks(writer: TextWriter, min_words: int) -> list[Block]:
    """A placeholder body that stays below `min_words` (empty when even one word is too many)."""
    text = ""
    for _ in range(8):
        candidate = f"{text} {writer.fill(writer.rng.choice(SHORT_SENTENCES))}".strip()
        if count_words(candidate) >= min_words:
            break
        text = candidate
    return [Block("p", (text,))] if text else []


def write_table(writer: TextWriter) -> Block:
    rows = [
        "|".join(writer.fill(cell) for cell in TABLE_CELLS) for _ in range(writer.rng.randint(2, 4))
    ]
    return Block("table", (TABLE_HEADER, *rows))


def write_code_block(writer: TextWriter) -> Block:
    steps = [writer.fill(CODE_STEP) for _ in range(writer.rng.randint(2, 5))]
    return Block("code", ("text", *steps))


def write_tool_item(writer: TextWriter) -> str:
    obj = writer.rng.choice(writer.lexicon.objects)
    file_name = re.sub(r"[^a-z0-9]+", "-", obj) + writer.rng.choice(FILE_SUFFIXES)
    tool = writer.rng.choice(TOOL_KINDS)
    return f"**The {obj} {tool}** (`{file_name}`) \u2014 {writer.sentence()}"


def write_term_item(writer: TextWriter) -> str:
    term = writer.fill(writer.rng.choice(TERMS))
    return f"**{term}** \u2014 {writer.sentences(1, 2)}"


def write_step_item(writer: TextWriter, verb: str) -> str:
    return f"**{verb}.** {writer.sentences(1, 2)}"


def write_rule_item(writer: TextWriter) -> str:
    item = writer.sentence()
    if writer.rng.random() < 0.15:
        item += " <mark>Always.</mark>"
    return item


def write_styled_blocks(style: str, writer: TextWriter, target: int) -> list[Block]:
    """The body of a section written in one of the canonical styles."""
    w = writer
    if style == "prose":
        return grow_paragraphs(target, lambda: w.sentences(3, 6))
    if style == "models":
        return grow_paragraphs(target, lambda: w.bold_lead(LEADS, 2, 4))
    if style == "tradeoffs":
        return grow_paragraphs(target, lambda: w.bold_lead(TRADEOFF_LEADS, 2, 4))
    if style == "scenarios":
        return grow_paragraphs(target, lambda: w.bold_lead(SCENARIO_LEADS, 4, 7))
    if style == "frameworks":
        blocks = grow_paragraphs(target, lambda: w.bold_lead(LEADS, 2, 4))
        return [*blocks, write_table(w)] if w.rng.random() < 0.4 else blocks
    if style == "steps":
        verbs = itertools.islice(itertools.cycle(IMPERATIVES), w.rng.randint(0, 3), None)
        steps = Block("ol", grow_items(target, lambda: write_step_item(w, next(verbs))))
        return [steps, write_code_block(w)] if w.rng.random() < 0.3 else [steps]
    makers: dict[str, Callable[[], str]] = {
        "bullets": lambda: w.bold_lead(LEADS, 1, 2),
        "plain": w.sentence,
        "rules": lambda: write_rule_item(w),
        "questions": w.question,
        "terms": lambda: write_term_item(w),
        "tools": lambda: write_tool_item(w),
        "people": lambda: f"**With the {w.rng.choice(w.lexicon.people)}:** {w.sentences(1, 3)}",
    }
    return [Block("ul", grow_items(target, makers[style]))]


SECTION_STYLES = {
    "Purpose": "prose",
    "Core Mission": "prose",
    "Primary Responsibilities": "bullets",
    "Guiding Principles": "models",
    "Mental Models": "models",
    "First Principles": "plain",
    "Questions Experts Constantly Ask": "questions",
    "Decision Frameworks": "frameworks",
    "Workflow": "steps",
    "Common Tradeoffs": "tradeoffs",
    "Rules of Thumb": "rules",
    "Failure Modes": "bullets",
    "Anti-patterns": "bullets",
    "Vocabulary": "terms",
    "Tools": "tools",
    "Collaboration": "people",
    "Ethics": "prose",
    "Scenarios": "scenarios",
}


def write_related_blocks(
    writer: TextWriter, related: Sequence[dict[str, Any]], target: int
) -> list[Block]:
    """Related Occupations: one bullet per related record, then prose up to the target."""
    items = tuple(
        f"**{title_from_slug(r['slug'])}** \u2014 {r.get('note') or writer.sentence()}"
        for r in related
    )
    blocks = [Block("ul", items)] if items else []
    have = sum(estimate_words(item) for item in items)
    return blocks + grow_paragraphs(max(target - have, 1), lambda: writer.sentences(2, 3))


def write_reference_blocks(sources: Sequence[dict[str, Any]]) -> list[Block]:
    items = tuple(
        f"[{s['title']}]({s['url']})" if "url" in s else f"*{s['title']}* ({s['kind']})"
        for s in sources
    )
    return [Block("ul", items)] if items else []


class SectionPlan(NamedTuple):
    heading: str
    canonical: str  # the canonical heading it stands for
    min_words: int
    short: bool  # written below its minimum


def plan_authored_sections(rng: random.Random, profile: Profile) -> list[SectionPlan]:
    """Which canonical sections a record has, which fall short, and which are misnamed."""
    specs = list(CANONICAL)
    required = [s.heading for s in specs if s.required]
    if profile.gaps == "stub":
        kept = specs[: rng.randint(3, 7)]
        short = {s.heading for s in kept if rng.random() < 0.5}
        return [SectionPlan(s.heading, s.heading, s.min_words, s.heading in short) for s in kept]
    dropped = {s.heading for s in specs if not s.required and rng.random() < 0.2}
    if profile.gaps == "missing":
        dropped |= set(rng.sample(required, rng.randint(1, 2)))
    short = set(rng.sample(required, rng.randint(1, 2))) if profile.gaps == "short" else set()
    renamed = rng.choice(sorted(RENAMED_HEADINGS)) if profile.gaps == "renamed" else None
    return [
        SectionPlan(
            RENAMED_HEADINGS[s.heading] if s.heading == renamed else s.heading,
            s.heading,
            s.min_words,
            s.heading in short,
        )
        for s in specs
        if s.heading not in dropped
    ]


def build_authored_sections(
    rng: random.Random, writer: TextWriter, profile: Profile, metadata: dict[str, Any]
) -> list[dict[str, Any]]:
    """The sections of an authored record, sized around each section's minimum."""
    verbosity = rng.uniform(0.4, 0.7) if profile.gaps == "stub" else rng.uniform(0.75, 1.45)
    sections = []
    for plan in plan_authored_sections(rng, profile):
        target = int(max(plan.min_words, 20) * rng.uniform(2.0, 4.2) * verbosity)
        target = max(target, plan.min_words + 5)
        if plan.short and plan.min_words > 0:
            blocks = write_short_blocks(writer, plan.min_words)
        elif plan.canonical == "Related Occupations":
            blocks = write_related_blocks(writer, metadata["related"], target)
        elif plan.canonical == "References":
            blocks = write_reference_blocks(metadata["sources"])
        else:
            blocks = write_styled_blocks(SECTION_STYLES[plan.canonical], writer, target)
        section = build_section(plan.heading, blocks)
        while not plan.short and section["wordCount"] < plan.min_words:  # estimates fell short
            blocks = [*blocks, Block("p", (writer.sentences(2, 3),))]
            section = build_section(plan.heading, blocks)
        sections.append(section)
    return sections


def build_federated_sections(
    index: int, rng: random.Random, writer: TextWriter
) -> list[dict[str, Any]]:
    """Free-form persona sections, led by an empty "Persona" section as in the mirrored data."""
    sections = [build_section("Persona", [Block("hr")])]
    if index % 36 == 31:
        return sections  # a persona with no body at all: zero words
    if rng.random() < 0.5:
        headings = list(PERSONA_HEADINGS_NUMBERED[: rng.randint(3, 6)])
    else:
        headings = rng.sample(PERSONA_HEADINGS_FREE, rng.randint(4, 10))
    for heading in headings:
        target = rng.randint(30, 220)
        if "Example" in heading:
            lines = [f"User: {writer.question()}", f"{writer.role.title()}: {writer.sentence()}"]
            blocks = [Block("quote", tuple(lines))]
        elif rng.random() < 0.5:
            blocks = [Block("ul", grow_items(target, writer.persona_line))]
        else:
            blocks = grow_paragraphs(target, lambda: writer.sentences(2, 4))
        sections.append(build_section(heading, blocks))
    return sections
