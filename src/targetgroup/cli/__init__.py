"""The `targetgroup` command line: a thin layer over the library; errors become `Error: ...`.

One module per command group registers its commands on `app`:
    cli/run.py       run, sample
    cli/rules.py     rules check, rules list, explain
    cli/register.py  suppress, runs, history
    cli/validate.py  validate (the quality gate alone)
    cli/disclosure.py audit-disclosure (leadership figures against differencing)
    cli/delivery.py  deliver (pending drop-folder copies and mail notices of committed runs)
    cli/web.py       serve, users add|list|remove|passwd, access-log (the web overview)
    cli/backfill.py  backfill (dated snapshots in order into one warehouse)
    cli/coordinator.py coordinator (a course's recorded coordinator and handovers)
    cli/meeting.py   meeting (transition meetings held: 16, 17½, review)
    cli/fleet.py     fleet (many municipalities on a Dask cluster)
"""

from __future__ import annotations

import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from targetgroup import privacy
from targetgroup.config import SAMPLE_SOURCES
from targetgroup.errors import TargetGroupError

app = typer.Typer(
    help="Find citizens served by several municipal departments at once (the coordinated-course target group).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # click's plain help: typer 0.29's rich help prints a '<bool>' type on every flag (--dry-run
    # <bool>), as if it took a value; the plain help shows flags as flags
    rich_markup_mode=None,
)
# stderr carries errors, warnings and progress: everything printed there is CPR-scrubbed
# (explain and history print the CPR a person asked about on stdout)
err = Console(file=privacy.ScrubbedStream(lambda: sys.stderr), highlight=False)
stdout = Console(highlight=False)
STATE = {"debug": False}


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False) -> None:
    """targetgroup: department extracts in, flag lists and leadership counts out."""
    STATE["debug"] = debug
    _private_process()


def _private_process() -> None:
    """Files owner-only (umask 077) and log records scrubbed, once at the start (docs/privacy.md)."""
    privacy.private_umask()
    privacy.install_log_scrubber()


def fail(exc: BaseException, code: int = 1) -> None:
    """Print an error the way every command does, then exit with `code` (1 unless said)."""
    if STATE["debug"]:
        err.print_exception()
    if isinstance(exc, TargetGroupError):
        err.print(f"[bold red]Error:[/] {exc}", markup=True, soft_wrap=True)
    else:
        # Unexpected exceptions may quote data; show only their type unless --debug was given.
        err.print(f"[bold red]Error:[/] internal error ({type(exc).__name__}); "
                  "rerun with --debug to see the traceback", markup=True)
    raise typer.Exit(code)


def parse_date(value: str | None) -> date:
    """YYYY-MM-DD from the command line; None is today."""
    if value is None:
        return date.today()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date in the form YYYY-MM-DD") from None


RULES_HELP = ("Rule set: a rule file's path, or the name of a shipped set or of one in ./rules/ "
              "(`targetgroup rules list`); default: the shipped 'default'.")


def rule_file(value: str | None) -> Path:
    """The rule file `--rules` names (targetgroup.rules.sets.resolve_rule_set); None is the shipped
    default. A missing set ends the command with the sets that exist, before anything is read."""
    from targetgroup.rules import DEFAULT_RULES, resolve_rule_set  # noqa: PLC0415

    try:
        return resolve_rule_set(value or DEFAULT_RULES)
    except TargetGroupError as exc:
        fail(exc)


class StageProgress:
    """Prints one line per finished stage (with counts, never CPR numbers) to stderr."""

    def __init__(self, console: Console, quiet: bool = False):
        self.console, self.quiet = console, quiet
        self.status = None

    def __call__(self, stage: str, detail: str) -> None:
        if self.quiet:
            return
        if detail == "started":
            if self.status is None:
                self.status = self.console.status(f"{stage} ...")
                self.status.start()
            else:
                self.status.update(f"{stage} ...")
            return
        self.console.print(f"[green]✓[/] {stage:<9} {detail}", markup=True)

    def stop(self) -> None:
        """Remove the spinner."""
        if self.status is not None:
            self.status.stop()


# Command modules register themselves on `app` when imported (keep this list in one place).
from targetgroup.cli import run as _run  # noqa: E402,F401
from targetgroup.cli import rules as _rules  # noqa: E402,F401
from targetgroup.cli import register as _register  # noqa: E402,F401
from targetgroup.cli import validate as _validate  # noqa: E402,F401
from targetgroup.cli import disclosure as _disclosure  # noqa: E402,F401
from targetgroup.cli import consent as _consent  # noqa: E402,F401
from targetgroup.cli import delivery as _delivery  # noqa: E402,F401
from targetgroup.cli import web as _web  # noqa: E402,F401
from targetgroup.cli import backfill as _backfill  # noqa: E402,F401
from targetgroup.cli import coordinator as _coordinator  # noqa: E402,F401
from targetgroup.cli import meeting as _meeting  # noqa: E402,F401
from targetgroup.cli import fleet as _fleet  # noqa: E402,F401


def entry() -> None:
    """Console-script entry point.

    Makes the process private first: umask 077 (every file and folder it creates is owner-only),
    log records and stderr CPR-scrubbed (targetgroup.privacy). Ends the process with os._exit once the command has finished and its output is flushed:
    Great Expectations keeps DuckDB objects in module-level caches, and at a normal interpreter
    shutdown DuckDB's bindings then print dozens of 'nanobind: leaked instance' lines. Every file
    and connection is closed by then; nothing else runs at exit.
    """
    _private_process()
    privacy.scrub_stderr()   # also what click, warnings and tracebacks print there
    try:
        app(prog_name="targetgroup")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
