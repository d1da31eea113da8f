"""The README's and docs/' markdown read as a user reads it: code blocks, prose, commands shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from occupipe.core.settings import PROJECT_DIR

README = PROJECT_DIR / "README.md"
PAGES = [README, *sorted((PROJECT_DIR / "docs").glob("*.md"))]

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE_COMMAND = re.compile(r"`((?:\S*/)?occupipe [^`]+)`")
COMMAND_LINE = re.compile(r"^\s*(?:\$\s+)?(?:[A-Z_]+=\S*\s+)*(?:uv run\s+|\S*/)?occupipe\s+(.*)$")


@dataclass(frozen=True)
class Mention:
    """An `occupipe ...` command line in a page: where it is and what follows `occupipe`."""

    where: str
    text: str


@dataclass(frozen=True)
class Shown:
    """What a reader types from one place: a code block's `occupipe` lines in order, or one
    inline `occupipe ...` span; `where` names the page and the first line."""

    where: str
    lines: tuple[str, ...]


def read_page(page: Path) -> str:
    """A page's markdown."""
    return page.read_text(encoding="utf-8")


def split_fences(text: str) -> tuple[list[str], str]:
    """The fenced code blocks of a markdown text, and the text without them."""
    return FENCE.findall(text), FENCE.sub("", text)


def block_lines(block: str) -> list[str]:
    """A code block's lines, continuation backslashes joined."""
    return block.replace("\\\n", " ").splitlines()


def inline_commands(prose: str) -> list[str]:
    """Every inline `occupipe ...` span of the prose, its whitespace made single spaces."""
    return [" ".join(span.split()) for span in INLINE_COMMAND.findall(prose)]


def find_command_mentions(page: Path) -> list[Mention]:
    """Every command line in the page's code blocks, and every inline `occupipe ...` span."""
    blocks, prose = split_fences(read_page(page))
    name = page.relative_to(PROJECT_DIR)
    mentions = []
    for block in blocks:
        for line in block_lines(block):
            if match := COMMAND_LINE.match(line):
                mentions.append(Mention(f"{name}: {line.strip()}", match.group(1)))
    for span in inline_commands(prose):
        mentions.append(Mention(f"{name}: `{span}`", span.split("occupipe ", 1)[1]))
    return mentions


def find_shown_commands(page: Path) -> list[Shown]:
    """The page's code blocks that show `occupipe` lines, then its inline spans, in order."""
    blocks, prose = split_fences(read_page(page))
    name = page.relative_to(PROJECT_DIR)
    shown = []
    for block in blocks:
        lines = tuple(line.strip() for line in block_lines(block) if COMMAND_LINE.match(line))
        if lines:
            shown.append(Shown(f"{name}: {lines[0]}", lines))
    shown.extend(Shown(f"{name}: `{span}`", (span,)) for span in inline_commands(prose))
    return shown
