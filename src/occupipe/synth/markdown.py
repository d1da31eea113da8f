"""Markdown blocks and their rendering to markdown and to the site's html."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from occupipe.contract.wordcount import count_words


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
