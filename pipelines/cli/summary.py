"""The summary printed at the end of a run or a replay, and the commands to try next."""

from __future__ import annotations

import shlex
from pathlib import Path

from occupipe.core.runs import RunSummary
from pipelines.cli.common import out, say, settings


def print_summary(summary: RunSummary) -> None:
    """The end-of-run summary: inputs, outcome, tables, stage times, warnings."""
    out.print(f"[bold]occupipe run {summary.run_id}[/]", soft_wrap=True)
    say(
        f"inputs {summary.inputs}: loaded {summary.loaded}, quarantined {summary.rejected},"
        f" ignored {summary.ignored}"
    )
    if summary.changes:
        changes = ", ".join(f"{name} {count}" for name, count in summary.changes.items())
        say(f"input files since the last run: {changes}")
    if summary.unchanged_since:
        say(f"nothing changed since release {summary.unchanged_since}: it stays current")
        say(f"warehouse: {summary.warehouse}")
        return
    for rejection in summary.rejections[:10]:
        say(f"  quarantined {rejection.source_file} [{rejection.stage}]: {rejection.reason}")
    if len(summary.rejections) > 10:
        say(f"  ... and {len(summary.rejections) - 10} more: see `occupipe quarantine`")
    tables = ", ".join(f"{name} {rows}" for name, rows in summary.table_rows.items())
    say(f"tables written ({len(summary.table_rows)}): {tables}")
    stages = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in summary.stage_seconds.items())
    say(f"time per stage: {stages}")
    from occupipe.warehouse.datatests import failed_tests  # not for a run that changed nothing

    results = summary.test_results
    say(f"data tests: {sum(r.passed for r in results)} of {len(results)} passed")
    for result in failed_tests(results, "warn"):
        example = dict(zip(result.columns, result.sample[0], strict=False))
        say(f"  warn {result.name}: {result.failures} row(s), e.g. {example}")
    say(f"warehouse: {summary.warehouse}")
    say(describe_next_steps(summary.warehouse))


def describe_next_steps(database: Path | None) -> str:
    """Commands to try next, naming the warehouse unless it is the one they find anyway."""
    folder = database.parent if database is not None else None
    named = ""
    if folder is not None and folder.resolve() != settings().warehouse.resolve():
        named = f" --warehouse {shlex.quote(str(folder))}"
    commands = ("report coverage", "report review", "report stats")
    return "next: " + ", ".join(f"occupipe {command}{named}" for command in commands)
