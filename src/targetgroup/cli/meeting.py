"""`targetgroup meeting`: record a transition meeting held (16, 17½ or a rule's review), or list one citizen's records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from targetgroup.cli import app, err, fail, parse_date, stdout
from targetgroup.config import SAMPLE_SOURCES


@app.command()
def meeting(
    cpr: Annotated[str, typer.Option("--cpr", help="The citizen (DDMMYY-SSSS).")],
    kind: Annotated[Optional[str], typer.Option("--kind", help="The meeting: 16, 17.5 or review.")] = None,
    held: Annotated[Optional[str], typer.Option("--held", help="The date it was held (YYYY-MM-DD).")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Who records it (name or initials).")] = None,
    team: Annotated[Optional[str], typer.Option("--team", help="The recorder's team.")] = None,
    rule: Annotated[str, typer.Option("--rule", help="The rule of the course; * = every course of the citizen.")] = "*",
    department: Annotated[Optional[str], typer.Option("--department", help="The recorder's department.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the citizen's meeting records (terminal only).")] = False,
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration (its departments).")] = SAMPLE_SOURCES,
    out: Annotated[Path, typer.Option("--out", help="Folder of run reports (holds the default warehouse).")] = Path("reports"),
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb.")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait if a run holds the warehouse.")] = 0.0,
) -> None:
    """Record that a cross-department transition meeting was held for a citizen's course, or --list.

    The caseworker lists show a meeting as overdue, and the leadership report counts meetings due,
    held and overdue, from the next run (docs/meetings.md). Every record is kept.
    """
    from targetgroup import cpr as cpr_module  # noqa: PLC0415
    from targetgroup import meetings as ops  # noqa: PLC0415
    from targetgroup.config import load_sources  # noqa: PLC0415
    from targetgroup.warehouse import DEFAULT_WAREHOUSE  # noqa: PLC0415

    path = warehouse or out / DEFAULT_WAREHOUSE.name
    try:
        value = cpr_module.parse_typed(cpr)
        if list_:
            _print(ops.citizen_meetings(path, value), cpr_module.mask(value))
            return
        if not kind or not held or not by:
            raise typer.BadParameter("give --kind 16|17.5|review, --held DATE and --by NAME (or --list)")
        if ops.kind_of(kind) is None:
            raise typer.BadParameter(f"unknown meeting kind; use one of {', '.join(ops.KINDS)}")
        if department:
            config = load_sources(sources, check_files=False)
            if department not in config.departments:
                raise typer.BadParameter(f"unknown department; use one of {', '.join(config.departments)}")
        new_id = ops.add_meeting(path, cpr=value, rule_id=rule, kind=kind, held_on=parse_date(held),
                                 recorded_by=by, team=team, department=department, wait_seconds=wait)
    except typer.BadParameter:
        raise
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"Meeting record {new_id} made for {cpr_module.mask(value)}; it takes effect at the next run.")


def _print(rows: list[tuple], masked: str) -> None:
    table = Table(title=f"Meeting records for {masked}")
    for col in ("id", "rule", "kind", "held on", "by", "team", "department", "origin"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r[0], r[1], r[2], str(r[3]), r[4], r[5] or "", r[6] or "", r[7])
    stdout.print(table)
    if not rows:
        stdout.print("No meeting recorded.")
