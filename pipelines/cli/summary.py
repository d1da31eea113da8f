"""The summary printed at the end of a run or a replay, and the commands to try next."""

from __future__ import annotations

import shlex
from pathlib import Path

from occupipe.core.runs import RunSummary
from occupipe.reporting.observations import summary_lines
from pipelines.cli.common import out, say, settings


def print_summary(summary: RunSummary) -> None:
    """The end-of-run summary: inputs, outcome, tables, stage times, warnings."""
    out.print(f"[bold]occupipe run {summary.run_id}[/]", soft_wrap=True)
    for line in summary_lines(summary):
        say(line)
    if not summary.unchanged_since:
        say(describe_next_steps(summary.warehouse))


def describe_next_steps(database: Path | None) -> str:
    """Commands to try next, naming the warehouse unless it is the one they find anyway."""
    folder = database.parent if database is not None else None
    named = ""
    if folder is not None and folder.resolve() != settings().warehouse.resolve():
        named = f" --warehouse {shlex.quote(str(folder))}"
    commands = ("report coverage", "report review", "report stats")
    return "next: " + ", ".join(f"occupipe {command}{named}" for command in commands)
