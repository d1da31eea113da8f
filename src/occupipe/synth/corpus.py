"""Deterministic generator of realistic synthetic SOUL Atlas records for demos and tests."""

from __future__ import annotations

import bisect
import datetime as dt
import html
import itertools
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, overload

import orjson

from occupipe.contract.record import CATEGORIES, RELATIONSHIP_TYPES, SOURCE_KINDS
from occupipe.contract.sections import read_sections_spec
from occupipe.contract.wordcount import count_words
from occupipe.synth.words import (
    ADJECTIVES,
    CODE_STEP,
    CONTRIBUTORS,
    FILE_SUFFIXES,
    HANDLES,
    IMPERATIVES,
    INITIALS,
    LEADS,
    LEXICONS,
    LICENSES,
    NOUNS,
    PERCENTAGES,
    PERSONA_HEADINGS_FREE,
    PERSONA_HEADINGS_NUMBERED,
    PERSONA_SENTENCES,
    PERSONA_TAGS,
    PERSONAS,
    QUESTIONS,
    REGIONS,
    RELATED_NOTE,
    RENAMED_HEADINGS,
    SCENARIO_LEADS,
    SENTENCES,
    SHORT_SENTENCES,
    SOURCE_TITLE,
    SUMMARY,
    SURNAMES,
    TABLE_CELLS,
    TABLE_HEADER,
    TERMS,
    TOOL_KINDS,
    TRADEOFF_LEADS,
    VERBS,
    Lexicon,
)

REFERENCE_DATE = dt.date(2026, 6, 26)  # the staleness reference date of metrics.md


SITE_URL = "https://atlas.example.org"


NONSTANDARD_TYPE = "mentor-of"  # a relationship type the metrics ignore


FEDERATED_ORIGIN = "persona-exchange"


CANONICAL = read_sections_spec()


REQUIRED_COUNT = sum(1 for s in CANONICAL if s.required)


class TextWriter:
    """Assembles sentences, list items and leads about one role from a seeded generator."""

    def __init__(self, rng: random.Random, role: str, lexicon: Lexicon) -> None:
        self.rng = rng
        self.role = role.lower()
        self.lexicon = lexicon

    def pick(self, pool: Sequence[str]) -> str:
        return pool[int(self.rng.random() * len(pool))]

    def pick_other(self, pool: Sequence[str], taken: str) -> str:
        value = self.pick(pool)
        while value == taken:
            value = self.pick(pool)
        return value

    def fill(self, template: str) -> str:
        """Fill a template's slots with words drawn for this role; capitalize the start."""
        return fix_articles(template.format_map(Slots(self)))

    def sentence(self) -> str:
        return self.fill(self.pick(SENTENCES))

    def sentences(self, low: int, high: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def question(self) -> str:
        return self.fill(self.pick(QUESTIONS))

    def bold_lead(self, leads: Sequence[str], low: int = 1, high: int = 3) -> str:
        return f"**{self.fill(self.pick(leads))}** {self.sentences(low, high)}"

    def persona_line(self) -> str:
        return self.fill(self.pick(PERSONA_SENTENCES))


_ARTICLE_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[aeiou])")


def fix_articles(text: str) -> str:
    """Capitalize the first letter and turn "a" into "an" before a vowel."""
    if "a " in text or "A " in text:
        text = _ARTICLE_BEFORE_VOWEL.sub(r"\1n ", text)
    return text[:1].upper() + text[1:]


class Slots(dict[str, str]):
    """A template's slot values, each drawn the first time the template asks for it."""

    def __init__(self, writer: TextWriter) -> None:
        super().__init__(role=writer.role)
        self.writer = writer

    def __missing__(self, key: str) -> str:
        writer, lexicon = self.writer, self.writer.lexicon
        pools = {
            "obj": lexicon.objects,
            "noun": NOUNS,
            "adj": ADJECTIVES,
            "verb": VERBS,
            "person": lexicon.people,
            "pct": PERCENTAGES,
        }
        if key in ("Noun", "Adj"):
            value = self[key.lower()].capitalize()
        elif key in ("obj2", "noun2"):
            value = writer.pick_other(pools[key[:-1]], self[key[:-1]])
        else:
            value = writer.pick(pools[key])
        self[key] = value
        return value


@dataclass(frozen=True)
class Block:
    """One markdown block: p, ul, ol, quote, code (lines[0] = language), table, hr."""

    kind: str
    lines: tuple[str, ...] = ()


def render_block_markdown(block: Block) -> str:
    """The markdown text of one block."""
    lines = block.lines
    if block.kind == "p":
        return lines[0]
    if block.kind == "ul":
        return "\n".join(f"- {item}" for item in lines)
    if block.kind == "ol":
        return "\n".join(f"{n}. {item}" for n, item in enumerate(lines, 1))
    if block.kind == "quote":
        return "\n".join(f"> {line}" for line in lines)
    if block.kind == "code":
        return "\n".join([f"```{lines[0]}", *lines[1:], "```"])
    if block.kind == "table":
        rows = [f"| {' | '.join(row.split('|'))} |" for row in lines]
        rule = "|" + " --- |" * len(lines[0].split("|"))
        return "\n".join([rows[0], rule, *rows[1:]])
    return "---"


def render_markdown(blocks: Sequence[Block]) -> str:
    return "\n\n".join(render_block_markdown(b) for b in blocks)


_INLINE_RAW = re.compile(r"(`[^`]*`|<[^>]+>)")


_STRONG = re.compile(r"\*\*(.+?)\*\*")


_EMPHASIS = re.compile(r"\*(.+?)\*")


_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def escape_html(text: str) -> str:
    return html.escape(text, quote=True).replace("&#x27;", "&#39;")


def render_inline(text: str) -> str:
    """Inline markdown to html: code spans, raw tags, strong, emphasis and links."""
    out = []
    for part in _INLINE_RAW.split(text):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{escape_html(part[1:-1])}</code>")
        elif part.startswith("<"):
            out.append(part)  # inline html passes through, as in the site's renderer
        else:
            part = escape_html(part)
            if "*" in part:
                part = _STRONG.sub(r"<strong>\1</strong>", part)
                part = _EMPHASIS.sub(r"<em>\1</em>", part)
            if "](" in part:
                part = _LINK.sub(r'<a href="\2">\1</a>', part)
            out.append(part)
    return "".join(out)


def render_block_html(block: Block) -> str:
    """The html of one block."""
    lines = block.lines
    if block.kind == "p":
        return f"<p>{render_inline(lines[0])}</p>"
    if block.kind in ("ul", "ol"):
        items = "".join(f"<li>{render_inline(item)}</li>\n" for item in lines)
        return f"<{block.kind}>\n{items}</{block.kind}>"
    if block.kind == "quote":
        inner = "\n".join(render_inline(line) for line in lines)
        return f"<blockquote>\n<p>{inner}</p>\n</blockquote>"
    if block.kind == "code":
        body = escape_html("\n".join(lines[1:]))
        return f'<pre><code class="language-{lines[0]}">{body}\n</code></pre>'
    if block.kind == "table":
        return render_table_html(lines)
    return "<hr>"


def render_table_html(rows: Sequence[str]) -> str:
    def cells(row: str, tag: str) -> str:
        return "".join(f"<{tag}>{render_inline(c)}</{tag}>\n" for c in row.split("|"))

    body = "".join(f"<tr>\n{cells(row, 'td')}</tr>\n" for row in rows[1:])
    head = f"<thead>\n<tr>\n{cells(rows[0], 'th')}</tr>\n</thead>\n"
    return f"<table>\n{head}<tbody>\n{body}</tbody></table>"


def slugify_heading(heading: str) -> str:
    """A heading's anchor id, github-slugger style: "1. Voice & Tone" -> "1-voice--tone"."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def build_section(heading: str, blocks: Sequence[Block]) -> dict[str, Any]:
    """A section object with its markdown, rendered html and stated word count."""
    markdown = render_markdown(blocks)
    section_id = slugify_heading(heading)
    body = "".join(render_block_html(b) + "\n" for b in blocks)
    return {
        "heading": heading,
        "id": section_id,
        "markdown": markdown,
        "html": f'<h2 id="{section_id}">{render_inline(heading)}</h2>\n{body}',
        "wordCount": count_words(markdown),
    }


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


def link_backlinks(records: Sequence[dict[str, Any]]) -> None:
    """Set each record's computed.backlinks: sorted slugs of records with an edge to it."""
    backlinks: dict[str, set[str]] = {r["slug"]: set() for r in records}
    for record in records:
        add_backlinks(backlinks, record)
    for record in records:
        record["computed"]["backlinks"] = sorted(backlinks[record["slug"]])


def add_backlinks(backlinks: dict[str, set[str]], record: dict[str, Any]) -> None:
    """Note the record as a backlink of every known record it has an edge to."""
    for relation in record["metadata"]["related"]:
        if relation["type"] in RELATIONSHIP_TYPES and relation["slug"] in backlinks:
            backlinks[relation["slug"]].add(record["slug"])


def generate_records(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` synthetic records, identical for the same (count, seed)."""
    plan = plan_corpus(count, seed)
    records = [generate_record(index, record_rng(seed, index), plan) for index in range(count)]
    link_backlinks(records)
    yield from records


def plan_corpus(count: int, seed: int) -> CorpusPlan:
    """The plan of a corpus of `count` records."""
    if count < 0:
        raise ValueError(f"count must be zero or more, found {count}")
    return CorpusPlan.of(plan_slugs(count, seed))


def record_rng(seed: int, index: int) -> random.Random:
    """The random source of record `index`: records do not depend on one another's draws."""
    return random.Random(f"occupipe-synth:{seed}:{index}")


def dump_record(record: dict[str, Any]) -> bytes:
    """A record as compact JSON with sorted keys: the bytes written to disk."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def write_corpus(out_dir: Path, count: int, seed: int = 7) -> list[Path]:
    """Write one `<slug>.json` per generated record into `out_dir`; return the paths, sorted.

    The same bytes as `generate_records`, in bounded memory: records are written as they are
    generated, and their backlinks (known only once every record exists) filled in a second pass.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_corpus(count, seed)
    backlinks: dict[str, set[str]] = {slug: set() for slug in plan.slugs}
    paths = []
    for index in range(count):
        record = generate_record(index, record_rng(seed, index), plan)
        add_backlinks(backlinks, record)
        path = out_dir / f"{record['slug']}.json"
        path.write_bytes(dump_record(record))
        paths.append(path)
    for path, slug in zip(paths, plan.slugs, strict=True):
        record = orjson.loads(path.read_bytes())
        record["computed"]["backlinks"] = sorted(backlinks[slug])
        path.write_bytes(dump_record(record))
    return sorted(paths)
