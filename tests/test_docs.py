"""README and docs/ hold true: real commands and options, live links, the generated dictionary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.core
import typer.main

from occupipe.core.settings import PROJECT_DIR
from occupipe.reporting.dictionary import PAGE, render_data_dictionary_page
from pipelines.cli import app
from tests.doc_pages import PAGES, README, Mention, find_command_mentions, read_page, split_fences

README_MOST_LINES = 200

MAKE_LINE = re.compile(r"^\s*(?:\$\s+)?make\s+([a-z][\w-]*)", re.M)
INLINE_MAKE = re.compile(r"`make ([a-z][\w-]*)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')
SHELL_END = {"|", "||", "&&", ";", ">", ">>", "2>"}


MENTIONS = [mention for page in PAGES for mention in find_command_mentions(page)]
CLI = typer.main.get_command(app)
assert isinstance(CLI, typer.core.TyperGroup)
COMMANDS = CLI.commands


def command_words(text: str) -> list[str]:
    """A command line's words: quoted arguments emptied, cut at a comment or a shell operator."""
    words = QUOTED.sub('""', text.replace("\\|", "|")).split()
    for position, word in enumerate(words):
        if word.startswith("#") or word in SHELL_END:
            return words[:position]
    return words


def option_name(word: str) -> str | None:
    """`--format` of `--format`, `[--format`, `--format=csv`; None for any other word."""
    match = re.match(r"^[\[(]*(--?[A-Za-z][\w-]*)", word)
    return match.group(1) if match else None


def options_of(name: str) -> set[str]:
    """A command's options by every name they have (`--format` and `-f`), `--help` included."""
    params = COMMANDS[name].params
    names = {opt for param in params for opt in param.opts + param.secondary_opts}
    return {opt for opt in names if opt.startswith("-")} | {"--help"}


def test_the_docs_show_commands() -> None:
    assert len(MENTIONS) > 30


@pytest.mark.parametrize("mention", MENTIONS, ids=lambda m: m.where[:90])
def test_each_command_shown_exists_with_its_options(mention: Mention) -> None:
    words = command_words(mention.text)
    assert words, f"{mention.where}: no command"
    if words[0] == "--help" or (words[0].startswith("<") and words[1:] == ["--help"]):
        return  # `occupipe --help`, `occupipe <command> --help`
    assert words[0] in COMMANDS, f"{mention.where}: no command {words[0]!r}"
    options = options_of(words[0])
    for name in filter(None, map(option_name, words[1:])):
        assert name in options, f"{mention.where}: `occupipe {words[0]}` has no option {name}"


def documented_options(section: str) -> set[str]:
    """The options named in the first column of a section's option table."""
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", row)}


def test_commands_page_documents_every_option_of_every_command() -> None:
    sections = read_page(PROJECT_DIR / "docs" / "commands.md").split("\n## `occupipe ")[1:]
    documented = {
        section.split("`", 1)[0]: documented_options(section.split("\n## ", 1)[0])
        for section in sections
    }
    assert set(documented) == set(COMMANDS)
    for name in COMMANDS:
        assert documented[name] == options_of(name) - {"--help"}, f"commands.md: occupipe {name}"


def test_each_make_target_shown_exists() -> None:
    makefile = read_page(PROJECT_DIR / "Makefile")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    for page in PAGES:
        blocks, prose = split_fences(read_page(page))
        shown = MAKE_LINE.findall("\n".join(blocks)) + INLINE_MAKE.findall(prose)
        for target in shown:
            assert target in targets, f"{page.name}: make {target}"


def heading_anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of a markdown page."""
    _, prose = split_fences(read_page(page))
    headings = re.findall(r"^#+\s+(.*)$", prose, re.M)
    return {re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-") for text in headings}


def test_every_relative_link_resolves() -> None:
    for page in PAGES:
        _, prose = split_fences(read_page(page))
        for target in LINK.findall(re.sub(r"`[^`]*`", "", prose)):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            assert resolved.exists(), f"{page.name}: {target}"
            if anchor:
                assert anchor in heading_anchors(resolved), f"{page.name}: {target}"


def test_the_readme_is_a_front_door() -> None:
    assert len(read_page(README).splitlines()) <= README_MOST_LINES


def test_data_dictionary_page_is_the_one_the_code_defines() -> None:
    assert read_page(PAGE) == render_data_dictionary_page(), (
        "run: python -m occupipe.reporting.dictionary docs/data-dictionary.md"
    )
