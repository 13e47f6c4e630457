"""`targetgroup coordinator`: record a course's coordinator (tovholder) or a handover, or list one citizen's records."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from targetgroup.cli import app, err, fail, parse_date, stdout
from targetgroup.config import SAMPLE_SOURCES


@app.command()
def coordinator(
    cpr: Annotated[str, typer.Option("--cpr", help="The citizen (DDMMYY-SSSS).")],
    name: Annotated[Optional[str], typer.Option("--name", help="The coordinator (name or initials).")] = None,
    team: Annotated[Optional[str], typer.Option("--team", help="The coordinator's team.")] = None,
    rule: Annotated[str, typer.Option("--rule", help="The rule of the course; * = every course of the citizen.")] = "*",
    from_: Annotated[Optional[str], typer.Option("--from", help="First day they coordinate (YYYY-MM-DD); default today. A later record is a handover.")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Who records it (name or initials).")] = None,
    department: Annotated[Optional[str], typer.Option("--department", help="The department of the coordinator.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the citizen's coordinator records (terminal only).")] = False,
    sources: Annotated[Path, typer.Option("--sources", help="Sources configuration (its departments).")] = SAMPLE_SOURCES,
    out: Annotated[Path, typer.Option("--out", help="Folder of run reports (holds the default warehouse).")] = Path("reports"),
    warehouse: Annotated[Optional[Path], typer.Option("--warehouse", help="DuckDB warehouse file; default OUT/warehouse.duckdb.")] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait if a run holds the warehouse.")] = 0.0,
) -> None:
    """Record who coordinates a citizen's course from a date (a handover is a newer record), or --list.

    The leadership report uses the record in force on a run's as-of date and guesses only where
    none is recorded (docs/coordinators.md). It takes effect at the next run; every record is kept.
    """
    from targetgroup import coordinators as ops  # noqa: PLC0415
    from targetgroup import cpr as cpr_module  # noqa: PLC0415
    from targetgroup.config import load_sources  # noqa: PLC0415
    from targetgroup.warehouse import DEFAULT_WAREHOUSE  # noqa: PLC0415

    path = warehouse or out / DEFAULT_WAREHOUSE.name
    try:
        value = cpr_module.parse_typed(cpr)
        if list_:
            _print(ops.citizen_coordinators(path, value), cpr_module.mask(value))
            return
        if not name or not by:
            raise typer.BadParameter("give --name NAME and --by NAME (or --list)")
        if department:
            config = load_sources(sources, check_files=False)
            if department not in config.departments:
                raise typer.BadParameter(f"unknown department; use one of {', '.join(config.departments)}")
        new_id = ops.add_coordinator(path, cpr=value, rule_id=rule, coordinator=name, team=team,
                                     from_date=parse_date(from_) if from_ else date.today(), recorded_by=by,
                                     department=department, wait_seconds=wait)
    except typer.BadParameter:
        raise
    except Exception as exc:  # noqa: BLE001
        fail(exc)
    err.print(f"Coordinator record {new_id} made for {cpr_module.mask(value)}; it takes effect at the next run.")


def _print(rows: list[tuple], masked: str) -> None:
    table = Table(title=f"Coordinator records for {masked}")
    for col in ("id", "rule", "coordinator", "team", "from", "by", "department", "origin"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r[0], r[1], r[2], r[3] or "", str(r[4]), r[5], r[6] or "", r[7])
    stdout.print(table)
    if not rows:
        stdout.print("No coordinator recorded.")
