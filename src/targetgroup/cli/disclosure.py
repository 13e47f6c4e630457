"""`targetgroup audit-disclosure`: can a reader work out a small count from the leadership figures?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from targetgroup.cli import app, fail, stdout


@app.command("audit-disclosure")
def audit_disclosure(
    folders: Annotated[list[Path], typer.Argument(help="Run folders (reports/<as-of>_<run-id>); two or more are "
                                                       "audited together, as consecutive reports.")],
    show_all: Annotated[bool, typer.Option("--all", help="List every protected figure, not only the pinned ones.")] = False,
) -> None:
    """Audit published leadership figures for a data-protection officer: exit 1 if any is pinned.

    Reads leadership_counts.csv of each folder, treats every published figure as a constraint
    (rounding intervals, margins, totals, the series across reports) and computes the smallest
    and largest value of each protected figure. A figure is pinned when fewer than 5 values are
    possible (or it must be 1-4). See docs/disclosure.md.
    """
    from targetgroup.deliver import audit as disclosure_audit  # noqa: PLC0415 - scipy only when auditing
    from targetgroup.errors import TargetGroupError  # noqa: PLC0415

    try:
        result = disclosure_audit.audit([disclosure_audit.read_report(f) for f in folders])
    except TargetGroupError as exc:
        fail(exc)
        return
    for cell in result.cells if show_all else result.pinned:
        largest = "no limit" if cell.hi is None else str(cell.hi)
        values = "any number of values" if cell.hi is None else f"{cell.values} possible value(s)"
        stdout.print(f"{'PINNED' if cell.pinned else 'ok':<6}  {cell.label}: published {cell.shown}, "
                     f"{cell.lo} .. {largest} ({values})", soft_wrap=True, markup=False)
    verdict = "FAILED" if result.pinned else "passed"
    stdout.print(f"Disclosure audit {verdict}: {len(result.cells)} protected figure(s) in {len(result.reports)} "
                 f"report(s), {len(result.pinned)} pinned to fewer than {disclosure_audit.MIN_VALUES} possible values. "
                 f"Relations used: those that hold by construction and {result.assumed} that hold for these figures"
                 + (f"; left out, as the figures contradict them: {'; '.join(result.dropped)}." if result.dropped else "."),
                 soft_wrap=True)
    if result.pinned:
        raise typer.Exit(1)
