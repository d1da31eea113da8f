"""The `occupipe` command line: the typer app, assembled from one module per command group."""

from __future__ import annotations

import sys

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer's own click

from pipelines.cli import (
    diff,
    export,
    published,
    query,
    releases,
    report,
    run,
    schedule,
    server,
    synth,
)
from pipelines.cli.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Interrupted, err, fail

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Turn SOUL Atlas occupation records into a DuckDB warehouse and report on it.\n\n"
    "Exit codes: 0 success, 1 run or data failure, 2 usage error.",
)
# in the order `occupipe --help` lists them
app.command()(run.run)
app.command()(run.replay)
app.command("quarantine")(releases.list_quarantine)
app.command()(report.report)
app.command()(published.docs)
app.command()(query.query)
app.command()(export.export)
app.command()(schedule.schedule)
app.add_typer(server.app, name="server")
app.command()(synth.synth)
app.command()(releases.releases)
app.command("rollback")(releases.rollback_release)
app.command()(releases.gc)
app.command()(published.verify)
app.command()(diff.diff)


def main() -> None:
    """Entry point: run the CLI; usage errors and interruptions become one sentence."""
    try:
        code = app(prog_name="occupipe", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()  # the help text, as for --help
        code = EXIT_USAGE
    except UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "occupipe"
        # typer words a bad choice "Value error, 'xml' is not one of ...": the first two words
        # say nothing
        problem = exc.format_message().rstrip(".").replace("Value error, ", "")
        code = fail(f"{problem}; see `{command} --help`.", EXIT_USAGE).exit_code
    except typer.TyperException as exc:  # other errors of the command line itself
        code = fail(f"{exc.format_message().rstrip('.')}.").exit_code
    except typer.Abort:  # end of input at a prompt
        code = fail("aborted.").exit_code
    except Interrupted as exc:
        if str(exc):
            err.print(str(exc), markup=False)
        code = EXIT_INTERRUPTED
    else:
        if code == EXIT_INTERRUPTED:  # typer's answer to Ctrl-C anywhere else
            err.print("interrupted.")
    sys.exit(code or EXIT_OK)
